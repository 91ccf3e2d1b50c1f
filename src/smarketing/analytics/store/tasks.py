"""The store catches up through the task queue after writes, debounced: one waiting catch-up serves every write
committed before it starts, so a burst of writes (an import, a busy hour of touches) queues one task, not one per
row. Every committed write to a mirrored table asks for it (`store.writes`). Queries catch up for themselves too
(engine.open_engine), so this only keeps that step short."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta

from django_tasks import task

DEBOUNCE = timedelta(seconds=2)
_lock = threading.Lock()
_waiting_until: datetime | None = None  # run_after of a catch-up this process knows is still waiting
# Called with the number of rows copied after each catch-up this task ran (registered in other apps' ready(): the
# web refreshes the figures viewed recently). The task runs only after writes, so the data has moved even when a
# query caught the store up first and left it nothing to copy.
CAUGHT_UP_HOOKS: list[Callable[[int], object]] = []


@task()
def store_catch_up_task() -> int:
    """Catch the history store up with the database, then run the hooks; returns how many rows were copied."""
    from smarketing.analytics.store.sync import store_catch_up

    copied = sum(store_catch_up().copied.values())
    for hook in CAUGHT_UP_HOOKS:
        hook(copied)
    return copied


def store_catch_up_soon() -> None:
    """Queue a catch-up to start in a moment, unless one is already waiting to start (it will see this write)."""
    global _waiting_until
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    now = timezone.now()  # the worker's clock for run_after, not the product's (which tests may freeze)
    with _lock:
        # Why a margin: a catch-up that starts within it might read its marks before this commit is visible.
        if _waiting_until is not None and now < _waiting_until - timedelta(milliseconds=500):
            return
        waiting = (DBTaskResult.objects.filter(task_path=store_catch_up_task.module_path, status="READY",
                                               run_after__gt=now + timedelta(milliseconds=500))
                   .order_by("run_after").values_list("run_after", flat=True).first())
        if waiting is None:
            waiting = now + DEBOUNCE
            store_catch_up_task.using(run_after=waiting).enqueue()
        _waiting_until = waiting
