"""Background tasks of the core: the queue's own housekeeping (run by `smarketing worker`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django_tasks import task

from smarketing.core import clock

RECLAIM_INTERVAL = timedelta(minutes=1)


@task(priority=20)
def tasks_reclaim() -> dict[str, Any]:
    """Take back tasks whose worker died (requeued, or failed after too many runs); then schedule the next pass."""
    from smarketing.core.task_queue import tasks_reclaim_stale

    try:
        result = tasks_reclaim_stale()
        return {"requeued": result.requeued, "failed": result.failed}
    finally:
        tasks_reclaim_schedule(delay=RECLAIM_INTERVAL)


def tasks_reclaim_schedule(*, delay: timedelta = timedelta(0)) -> bool:
    """Enqueue a reclaim pass unless one is already waiting; returns whether one was enqueued."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=tasks_reclaim.module_path, status="READY").exists():
        return False
    (tasks_reclaim.using(run_after=clock.now() + delay) if delay else tasks_reclaim).enqueue()
    return True
