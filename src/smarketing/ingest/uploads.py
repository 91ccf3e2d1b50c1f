"""Files brought through the web app and the API: stored under the data folder (one folder per upload, names
sanitised, the request bounded in size), then imported inline when small or by the task worker when large, and a
dry run confirmed on the very files it read.

The bounds are settings so a deployment (or a test) can change them: `SMARKETING_IMPORT_MAX_BYTES` (the whole
upload, default 512 MiB; beyond it 413 `too_large`) and `SMARKETING_IMPORT_INLINE_BYTES` (files up to this total,
default 2 MiB, are imported inside the request; larger ones are queued for `smarketing worker`).
"""

from __future__ import annotations

import re
import secrets
import shutil
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import DomainError, NotFound, ValidationFailed
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.models import ImportRun

MAX_UPLOAD_BYTES = 512 * 1024 * 1024
INLINE_MAX_BYTES = 2 * 1024 * 1024
MAX_FILES = 20
NAME_MAX = 120


class UploadTooLarge(DomainError):
    status = 413
    code = "too_large"


class Upload(Protocol):
    """What Django's UploadedFile offers that storing needs."""

    name: str | None

    def chunks(self, chunk_size: int | None = None) -> Iterable[bytes]: ...


def upload_limit() -> int:
    """The largest upload accepted, in bytes."""
    return int(getattr(settings, "SMARKETING_IMPORT_MAX_BYTES", MAX_UPLOAD_BYTES))


def inline_limit() -> int:
    """Files up to this many bytes in all are imported inside the request; larger ones go to the task queue."""
    return int(getattr(settings, "SMARKETING_IMPORT_INLINE_BYTES", INLINE_MAX_BYTES))


def uploads_root() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def _too_large(size: int | None = None) -> UploadTooLarge:
    limit = upload_limit()
    got = f" ({size:,} bytes sent)" if size is not None else ""
    return UploadTooLarge(f"the upload is larger than {limit:,} bytes{got}; split the export into smaller files or "
                          f"import it from the command line (smarketing import …)", field="files")


def upload_size_check(content_length: str | int | None) -> None:
    """Refuse a request whose declared body is over the bound before anything is read from it."""
    try:
        size = int(content_length or 0)
    except (TypeError, ValueError):
        return
    if size > upload_limit():
        raise _too_large(size)


def safe_name(name: str | None) -> str:
    """A file name that is safe on any disk: no folders, no leading dot, letters, digits and `._- ` only."""
    base = re.split(r"[\\/]", unicodedata.normalize("NFKC", name or ""))[-1]
    base = re.sub(r"[^\w.\- ]+", "_", base).strip(" .")
    base = re.sub(r"\s+", " ", base)
    if len(base) > NAME_MAX:
        stem, dot, ext = base.rpartition(".")
        base = (stem[: NAME_MAX - len(ext) - 1] + dot + ext) if dot and len(ext) <= 10 else base[:NAME_MAX]
    return base or "upload.csv"


def _unique(folder: Path, name: str) -> Path:
    path = folder / name
    n = 2
    while path.exists():
        stem, dot, ext = name.rpartition(".")
        path = folder / (f"{stem}-{n}.{ext}" if dot else f"{name}-{n}")
        n += 1
    return path


def uploads_store(*, files: list[Any], mapping: Any | None = None) -> tuple[list[Path], Path | None]:
    """Write the uploaded files (and a mapping file) to a new folder under the data folder; their paths.

    Nothing is kept when the upload is refused (no file, too many, or larger in all than the bound)."""
    if not files:
        raise ValidationFailed("choose one or more files to import", field="files")
    if len(files) > MAX_FILES:
        raise ValidationFailed(f"at most {MAX_FILES} files per import; {len(files)} were sent", field="files")
    folder = uploads_root() / f"{clock.now():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"
    folder.mkdir(parents=True, exist_ok=False)
    limit, total = upload_limit(), 0
    try:
        paths: list[Path] = []
        for upload in [*files, *([mapping] if mapping is not None else [])]:
            path = _unique(folder, safe_name(upload.name))
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    total += len(chunk)
                    if total > limit:
                        raise _too_large()
                    out.write(chunk)
            paths.append(path)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return (paths[:-1], paths[-1]) if mapping is not None else (paths, None)


def import_run_upload(*, files: list[Any], mapping: Any | None = None, system: str = "", dry_run: bool,
                      skip_invalid: bool = False, actor: Any = None, date_format: str | None = None,
                      timezone: str | None = None) -> ImportRun:
    """Store uploaded files and record a pending run over them (refused at once when a file is not recognised);
    a run that cannot be recorded (a bad date format or time zone) keeps no file."""
    from smarketing.ingest.services import import_run_create
    from smarketing.ingest.tasks import import_uploads_cleanup_schedule

    paths, mapping_path = uploads_store(files=files, mapping=mapping)
    transaction.on_commit(import_uploads_cleanup_schedule)  # uploads are kept only while they are needed
    try:
        return import_run_create(files=paths, system=system, mapping=mapping_path, dry_run=dry_run,
                                 skip_invalid=skip_invalid, actor=actor, date_format=date_format, timezone=timezone)
    except BaseException:
        shutil.rmtree(paths[0].parent, ignore_errors=True)
        raise


def mapping_label(run: ImportRun) -> str:
    """The run's mapping as people read it: a shipped mapping's name, or an uploaded mapping file's name."""
    return Path(run.mapping).name if run.mapping else ""


def _files_size(run: ImportRun) -> int:
    return sum(int(f.get("size") or 0) for f in run.files)


def import_run_start(*, run: ImportRun) -> tuple[ImportRun, bool]:
    """Run a pending run now when its files are small, else queue it for the worker; (the run, queued?)."""
    from smarketing.ingest.services import import_run_execute
    from smarketing.ingest.tasks import import_run_task

    if _files_size(run) <= inline_limit():
        return import_run_execute(run=run), False
    run_id = run.pk
    transaction.on_commit(lambda: import_run_task.enqueue(run_id))
    return run, True


def import_run_reclaim(*, run: ImportRun) -> ImportRun:
    """A queued run its worker left running (killed mid-import, so its transaction rolled back and nothing was
    written) is pending again, for the reclaimed task to import from the start."""
    if run.status == ImportStatus.RUNNING:
        ImportRun.objects.filter(pk=run.pk, status=ImportStatus.RUNNING).update(
            status=ImportStatus.PENDING, started_at=None, progress={})
        run.refresh_from_db()
    return run


def _stored_paths(run: ImportRun) -> list[Path]:
    """The run's files, which must be ones uploaded here and still on disk."""
    root = uploads_root().resolve()
    paths = []
    for f in run.files:
        path = Path(str(f.get("path") or "")).resolve()
        if not path.is_relative_to(root):
            raise ValidationFailed(f"import #{run.pk} read files that were not uploaded to the web app or the API "
                                   f"({f.get('name')}); run it again with `smarketing import` without --dry-run",
                                   field="run", record=f"import:{run.pk}")
        if not path.is_file():
            raise ValidationFailed(f"the file {f.get('name')} of import #{run.pk} is no longer stored; upload it "
                                   f"again", field="files", record=f"import:{run.pk}")
        paths.append(path)
    return paths


def confirmable(run: ImportRun) -> bool:
    """Whether a run is a finished dry run whose files were all recognised (refused for its rows is fine: the
    confirmation may skip them)."""
    return run.dry_run and run.status in (ImportStatus.SUCCEEDED, ImportStatus.REFUSED) and all(
        f.get("kind") for f in run.files)


def import_run_confirm(*, run: ImportRun, actor: Any, skip_invalid: bool | None = None) -> ImportRun:
    """A new pending run that imports for real the stored files a finished dry run read (no re-upload)."""
    from smarketing.ingest.services import import_run_create

    if not run.dry_run:
        raise ValidationFailed(f"import #{run.pk} was not a dry run; there is nothing to confirm", field="run",
                               record=f"import:{run.pk}")
    if run.status not in (ImportStatus.SUCCEEDED, ImportStatus.REFUSED):
        raise ValidationFailed(f"import #{run.pk} is {run.get_status_display().lower()}; only a finished dry run "
                               f"can be confirmed", field="run", record=f"import:{run.pk}")
    unknown = [str(f.get("name")) for f in run.files if not f.get("kind")]
    if unknown:
        raise ValidationFailed(f"import #{run.pk}: {', '.join(unknown)} is not an export the importer recognises; "
                               f"nothing to confirm (see its problem for the headers expected)", field="files",
                               record=f"import:{run.pk}")
    paths = _stored_paths(run)
    # An uploaded mapping file was stored beside the files it maps; a shipped mapping is known by its name.
    stored_mapping = paths[0].parent / Path(run.mapping).name if run.mapping and paths else None
    mapping = stored_mapping if stored_mapping is not None and stored_mapping.is_file() else None
    return import_run_create(files=paths, system=run.system, mapping=mapping, dry_run=False,
                             skip_invalid=run.skip_invalid if skip_invalid is None else skip_invalid, actor=actor,
                             date_format=run.date_format or None, timezone=run.timezone or None)


def rejected_names(run: ImportRun) -> list[str]:
    """The names of the run's rejected-rows files (written beside its inputs when rows were skipped)."""
    return [n.strip() for n in run.rejected_file.split(",") if n.strip()]


def rejected_path(*, run: ImportRun, name: str) -> Path:
    """Where one of the run's rejected-rows files is, for download; NotFound for any other name."""
    folders = {Path(str(f.get("path") or "")).parent for f in run.files}
    for folder in folders:
        path = folder / name
        if name in rejected_names(run) and path.is_file():
            return path
    raise NotFound(f"import #{run.pk} has no rejected-rows file named {name!r}", record=f"import:{run.pk}")
