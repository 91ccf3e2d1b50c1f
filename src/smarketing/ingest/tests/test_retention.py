"""Uploaded import files are kept only while needed: `smarketing import cleanup` (and its daily task) removes old
upload folders and the inputs a real run has imported, keeping rejected rows, dry runs to confirm and runs in
progress."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.core import clock
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.models import ImportRun
from smarketing.ingest.tasks import import_uploads_cleanup_schedule, import_uploads_cleanup_task
from smarketing.ingest.uploads import uploads_root


def _upload(name: str, *, status: str, dry_run: bool, age_days: int, rejected: bool = False) -> Path:
    folder = uploads_root() / name
    folder.mkdir(parents=True)
    (folder / "contacts.csv").write_text("Record ID\n1\n", encoding="utf-8")
    if rejected:
        (folder / "contacts.csv.rejected.csv").write_text("line,reason\n2,bad\n", encoding="utf-8")
    run = ImportRun.objects.create(system="hubspot", dry_run=dry_run, status=status,
                                   files=[{"name": "contacts.csv", "path": str(folder / "contacts.csv")}],
                                   rejected_file="contacts.csv.rejected.csv" if rejected else "")
    ImportRun.objects.filter(pk=run.pk).update(created_at=clock.now() - timedelta(days=age_days))
    return folder


def test_cleanup_removes_what_no_run_needs_and_keeps_the_rest(db, tmp_path, settings):
    # given uploads: an old finished one, an imported one with rejected rows, a dry run to confirm, an old run
    # still running
    settings.DATA_DIR = tmp_path
    old = _upload("old", status=ImportStatus.SUCCEEDED, dry_run=False, age_days=20)
    imported = _upload("imported", status=ImportStatus.SUCCEEDED, dry_run=False, age_days=1, rejected=True)
    dry = _upload("dry", status=ImportStatus.SUCCEEDED, dry_run=True, age_days=2)
    running = _upload("running", status=ImportStatus.RUNNING, dry_run=False, age_days=30)
    # when the clean-up runs with the default bound (14 days)
    result = CliRunner().invoke(build_app(), ["import", "cleanup", "--json"], catch_exceptions=False)
    # then the old folder is gone, the imported one keeps only its rejected rows, the others are untouched
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["folders_removed"] == 1 and summary["inputs_removed"] == 1 and summary["kept"] == 3
    assert not old.exists()
    assert sorted(p.name for p in imported.iterdir()) == ["contacts.csv.rejected.csv"]
    assert (dry / "contacts.csv").is_file() and (running / "contacts.csv").is_file()
    # and with --days 0 the imported and dry-run folders go too, never a running one's
    again = CliRunner().invoke(build_app(), ["import", "cleanup", "--days", "0", "--json"], catch_exceptions=False)
    assert json.loads(again.output)["folders_removed"] == 2
    assert sorted(p.name for p in uploads_root().iterdir()) == ["running"]


def test_the_cleanup_task_is_queued_once_and_runs(db, tmp_path, settings):
    settings.DATA_DIR = tmp_path
    assert import_uploads_cleanup_schedule() is True
    assert import_uploads_cleanup_schedule() is False  # one waiting run is enough
    _upload("old", status=ImportStatus.FAILED, dry_run=False, age_days=40)
    result = import_uploads_cleanup_task.call(chain=False)
    assert result["folders_removed"] == 1
