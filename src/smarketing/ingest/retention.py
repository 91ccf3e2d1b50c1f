"""How long uploaded import files are kept: only while something still needs them.

A folder of uploads (one per upload, under the data folder's `imports/`) is needed while a run over it is pending
or running, and a dry run's files wait there to be confirmed. Once a real run over a folder has succeeded its
inputs are no longer needed: they are removed and the rejected rows' CSVs (offered for download on the run's page)
stay. After `SMARKETING_IMPORT_KEEP_DAYS` days (default 14) the whole folder goes, rejected rows included. Run by
`smarketing import cleanup` and by a daily task the worker runs once any upload has been stored.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings

from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.models import ImportRun
from smarketing.ingest.progress import progress_files
from smarketing.ingest.uploads import rejected_names, uploads_root

KEEP_DAYS = 14
ACTIVE = (ImportStatus.PENDING, ImportStatus.RUNNING)
UPLOAD_GRACE = timedelta(hours=1)  # a folder no run names yet may be an upload whose run is being recorded


def keep_days() -> int:
    """Days an upload folder is kept at most."""
    return int(getattr(settings, "SMARKETING_IMPORT_KEEP_DAYS", KEEP_DAYS))


@dataclass(frozen=True)
class CleanupResult:
    folders_removed: int
    inputs_removed: int  # files of folders kept for their rejected rows
    bytes_freed: int
    kept: int  # folders still needed (a run pending or running, a dry run to confirm, rejected rows to download)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def uploads_cleanup(*, older_than_days: int | None = None, now: datetime | None = None) -> CleanupResult:
    """Remove the upload folders older than the bound and the inputs of folders a real run has imported; folders
    with a run pending or running are left alone. Also drops progress files of runs no longer running."""
    days = keep_days() if older_than_days is None else older_than_days
    if days < 0:
        raise ValidationFailed(f"days must be 0 or more, not {days}", field="days")
    cutoff = (now or clock.now()) - timedelta(days=days)
    root = uploads_root().resolve()
    by_folder: dict[Path, list[ImportRun]] = {}
    for run in ImportRun.objects.only("pk", "status", "dry_run", "files", "created_at", "rejected_file"):
        for folder in {Path(str(f.get("path") or "")).resolve().parent for f in run.files}:
            if folder.is_relative_to(root):
                by_folder.setdefault(folder, []).append(run)
    removed = inputs = freed = kept = 0
    folders = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    for folder in folders:
        runs = by_folder.get(folder.resolve(), [])
        if any(r.status in ACTIVE for r in runs):
            kept += 1
            continue
        stored = datetime.fromtimestamp(folder.stat().st_mtime, tz=cutoff.tzinfo)
        if not runs and stored > (now or clock.now()) - UPLOAD_GRACE:  # its run is being recorded right now
            kept += 1
            continue
        newest = max([r.created_at for r in runs], default=stored)
        if newest < cutoff:
            freed += _size(folder)
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
            continue
        kept += 1
        if any(not r.dry_run and r.status == ImportStatus.SUCCEEDED for r in runs):
            keep = {name for r in runs for name in rejected_names(r)}
            for path in folder.iterdir():
                if path.is_file() and path.name not in keep:
                    freed += path.stat().st_size
                    path.unlink(missing_ok=True)
                    inputs += 1
    running = set(ImportRun.objects.filter(status=ImportStatus.RUNNING).values_list("pk", flat=True))
    for run_id, path in progress_files():
        if run_id not in running:
            path.unlink(missing_ok=True)
    return CleanupResult(folders_removed=removed, inputs_removed=inputs, bytes_freed=freed, kept=kept)
