"""The task queue's housekeeping: take back tasks whose worker died mid-run.

django-tasks-db marks a task RUNNING when a worker claims it and only the same worker ever finishes it, so a
worker killed mid-task (SIGKILL, out of memory, a lost machine) leaves the row RUNNING for ever. This module
moves such a row back to READY (or to FAILED after `SMARKETING_TASK_MAX_ATTEMPTS` runs) and records each
decision as a TaskReclaim row. A run is judged dead when its worker ran on this host and that process no longer
exists (found at once), or when it has been running longer than `SMARKETING_TASK_STALE_MINUTES` (any host).
Our tasks are idempotent, so the rare run reclaimed while still alive does its work once more, harmlessly.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils.crypto import get_random_string

from smarketing.core import clock
from smarketing.core.models import TaskReclaim

LOST_EXCEPTION = "smarketing.core.task_queue.WorkerLost"


class WorkerLost(RuntimeError):
    """The worker running a task died before finishing it (recorded on tasks failed after too many attempts)."""


def worker_id_new() -> str:
    """A worker id naming its host and process (`host:pid:random`, at most 64 characters), so another worker on
    the same host can tell that it died."""
    host = socket.gethostname().replace(":", "-")[:40] or "host"
    return f"{host}:{os.getpid()}:{get_random_string(8)}"


def _dead_here(worker_id: str) -> bool:
    """Whether the worker ran on this host as a process that no longer exists."""
    parts = worker_id.split(":")
    if len(parts) != 3 or parts[0] != socket.gethostname().replace(":", "-")[:40] or not parts[1].isdigit():
        return False
    try:
        os.kill(int(parts[1]), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


@dataclass
class ReclaimResult:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


@transaction.atomic
def tasks_reclaim_stale(*, now: datetime | None = None, stale_after: timedelta | None = None,
                        max_attempts: int | None = None) -> ReclaimResult:
    """Requeue (or fail, after `max_attempts` runs) every RUNNING task whose worker died; returns the task ids."""
    from django_tasks_db.models import DBTaskResult

    now = now or clock.now()
    stale_after = stale_after or timedelta(minutes=settings.SMARKETING_TASK_STALE_MINUTES)
    max_attempts = max_attempts or settings.SMARKETING_TASK_MAX_ATTEMPTS
    result = ReclaimResult()
    running = DBTaskResult.objects.select_for_update().filter(status="RUNNING").order_by("started_at")
    for row in running:
        worker = row.worker_ids[-1] if row.worker_ids else ""
        if worker and _dead_here(worker):
            reason = f"worker {worker} is no longer running on this host"
        elif row.started_at is None or row.started_at < now - stale_after:
            minutes = int(stale_after.total_seconds() // 60)
            reason = f"running for more than {minutes} minute(s) (SMARKETING_TASK_STALE_MINUTES)"
        else:
            continue
        attempts = len(row.worker_ids)
        if attempts >= max_attempts:
            row.status, row.finished_at, row.return_value = "FAILED", now, None
            row.exception_class_path = LOST_EXCEPTION
            row.traceback = (f"{LOST_EXCEPTION}: {reason}; started {attempts} time(s), the limit is {max_attempts} "
                             "(SMARKETING_TASK_MAX_ATTEMPTS)\n")
            row.save(update_fields=["status", "finished_at", "return_value", "exception_class_path", "traceback"])
            action = TaskReclaim.Action.FAILED
            result.failed.append(str(row.pk))
        else:
            row.status, row.run_after = "READY", now
            row.save(update_fields=["status", "run_after"])
            action = TaskReclaim.Action.REQUEUED
            result.requeued.append(str(row.pk))
        TaskReclaim.objects.create(task_id=str(row.pk), task_path=row.task_path, action=action, reason=reason[:200],
                                   started_at=row.started_at, worker_id=worker[:64], attempts=attempts)
    return result
