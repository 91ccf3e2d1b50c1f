"""Background work of the importers, on the "default" queue (run `smarketing worker`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django_tasks import task

from smarketing.core import clock

CLEANUP_EVERY = timedelta(days=1)


# Why a task: an export of many thousand rows takes longer than a web request may; the page and the API answer
# at once with the pending run, and read its progress while the worker imports.
@task(queue_name="default")
def import_run_task(run_id: int) -> dict[str, Any]:
    """Import the files of a queued run, recording its progress as it goes; a finished run is left as it is."""
    from smarketing.ingest.enums import ImportStatus
    from smarketing.ingest.selectors import import_run_get
    from smarketing.ingest.services import import_run_execute
    from smarketing.ingest.uploads import import_run_reclaim

    # Only queued runs come here, so a running one was left by a worker that died (the queue gave its task back).
    run = import_run_reclaim(run=import_run_get(pk=run_id))
    if run.status != ImportStatus.PENDING:  # finished already: a repeat of the task changes nothing
        return {"run": run.pk, "status": run.status, "skipped": True}
    run = import_run_execute(run=run)
    return {"run": run.pk, "status": run.status, "problems": run.problems_count}


@task(queue_name="default")
def import_uploads_cleanup_task(chain: bool = True) -> dict[str, Any]:
    """Remove the uploads no longer needed (see ingest.retention); then schedule tomorrow's run."""
    from smarketing.ingest.retention import uploads_cleanup

    try:
        return uploads_cleanup().as_dict()
    finally:
        if chain:
            import_uploads_cleanup_schedule(at=clock.now() + CLEANUP_EVERY)


def import_uploads_cleanup_schedule(*, at: datetime | None = None) -> bool:
    """Put the clean-up of uploads on the queue (in a day by default) unless one is already waiting; called when
    an upload is stored, so a deployment that takes uploads cleans them without any set-up."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=import_uploads_cleanup_task.module_path, status="READY").exists():
        return False
    import_uploads_cleanup_task.using(run_after=at or clock.now() + CLEANUP_EVERY).enqueue(chain=True)
    return True
