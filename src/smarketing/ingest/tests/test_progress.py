"""A running import's progress is readable while it writes (its transaction still open), step by step."""

from __future__ import annotations

from typing import Any

from smarketing.ingest import progress, services
from smarketing.ingest.progress import progress_read
from smarketing.ingest.selectors import import_run_get
from smarketing.ingest.services import import_run_create, import_run_execute
from smarketing.ingest.tests import hubspot_files as hs


def test_the_write_step_publishes_progress_the_page_and_api_read_before_the_commit(active_playbook, tmp_path,
                                                                                   monkeypatch, settings):
    # given an import written 4 rows at a time, every report published
    settings.DATA_DIR = tmp_path
    monkeypatch.setattr(services, "WRITE_CHUNK", 4)
    monkeypatch.setattr(progress, "MIN_INTERVAL", 0)
    files = [hs.write_contacts(tmp_path / "contacts.csv", hs.contact_rows(10))]
    run = import_run_create(files=files, system="hubspot", dry_run=False)
    seen: list[tuple[str, int, int, str, dict[str, Any]]] = []

    def watch(step: str, done: int, total: int) -> None:
        live = import_run_get(pk=run.pk)  # what the run's page and GET /api/imports/{id} read
        seen.append((step, done, total, live.status, live.progress))

    # when it runs
    done = import_run_execute(run=run, progress=watch)
    # then each chunk of contacts created was reported while the run was running, as the page reads it
    assert done.status == "succeeded", done.problems
    creates = [(d, t) for s, d, t, _, _ in seen if s == "create contacts"]
    assert creates == [(4, 10), (8, 10), (10, 10)]
    assert {s for s, *_ in seen} >= {"read contacts.csv", "check", "create contacts", "history"}
    assert all(status == "running" and live == {"step": s, "done": d, "total": t}
               for s, d, t, status, live in seen)
    # and once finished the published progress is gone; the run keeps its last step
    assert progress_read(run_id=run.pk) is None
    assert import_run_get(pk=run.pk).progress == {"step": seen[-1][0], "done": seen[-1][1], "total": seen[-1][2]}
