"""Background work of the importers, on the "default" queue (run `smarketing worker`)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


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
