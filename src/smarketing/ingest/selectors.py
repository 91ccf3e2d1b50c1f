"""Reads of import runs."""

from __future__ import annotations

from django.db.models import QuerySet

from smarketing.core.errors import NotFound
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.models import ImportRun
from smarketing.ingest.progress import progress_read


def import_run_list(*, status: str | None = "", system: str = "") -> QuerySet[ImportRun]:
    """Import runs, newest first, with who ran them."""
    qs = ImportRun.objects.select_related("actor").order_by("-created_at", "-id")
    if status:
        qs = qs.filter(status=status)
    if system:
        qs = qs.filter(system=system)
    return qs


def import_run_get(*, pk: int) -> ImportRun:
    """One import run, or a NotFound naming it; a running one carries the progress its import last published."""
    run = ImportRun.objects.select_related("actor").filter(pk=pk).first()
    if run is None:
        raise NotFound(f"import run {pk} does not exist", record=f"import_run:{pk}")
    if run.status == ImportStatus.RUNNING and (live := progress_read(run_id=run.pk)) is not None:
        run.progress = live
    return run
