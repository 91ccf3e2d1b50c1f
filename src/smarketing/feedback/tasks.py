"""Background work of the feedback loop, on the "themes" queue (run `smarketing worker`)."""

from __future__ import annotations

import logging
from typing import Any

from django_tasks import task

log = logging.getLogger(__name__)


@task(queue_name="themes")
def themes_rebuild_task(backend: str | None = None, k: int | None = None, actor_id: int | None = None) -> dict[str, Any]:
    """Re-cluster all feedback (keeping human edits), then raise insights over the threshold."""
    from smarketing.feedback.insight_services import insights_refresh
    from smarketing.feedback.theme_services import themes_rebuild
    from smarketing.team.models import User

    actor = User.objects.filter(pk=actor_id).first() if actor_id else None
    summary = themes_rebuild(backend=backend, k=k, actor=actor)
    created = insights_refresh()
    return {"run": summary.run.pk, "backend": summary.run.backend, "themes": summary.themes, "kept": summary.kept, "new": summary.new,
            "retired": summary.retired, "unassigned": summary.unassigned, "insights_created": len(created)}


@task(queue_name="themes")
def themes_assign_new_task() -> dict[str, Any]:
    """Place newly captured feedback on the nearest existing theme."""
    from smarketing.feedback.theme_services import themes_assign_new

    summary = themes_assign_new()
    return {"assigned": summary.assigned, "unassigned": summary.unassigned, "rebuilt": summary.rebuilt}


def schedule_assignment() -> None:
    """Enqueue incremental assignment once; a queue failure never loses the feedback that was already saved."""
    try:
        if _already_waiting():
            return
        themes_assign_new_task.enqueue()
    except Exception:  # noqa: BLE001 - the item is committed; the next run assigns it anyway
        log.warning("could not enqueue theme assignment; it will happen at the next themes run", exc_info=True)


def rebuild_schedule(*, actor_id: int | None = None) -> bool:
    """Queue a theme run unless one is already queued or running; returns whether one was queued."""
    if rebuild_waiting():
        return False
    themes_rebuild_task.enqueue(actor_id=actor_id)
    return True


def rebuild_waiting() -> bool:
    """True while a theme run is queued or running (the feedback page says themes are on their way)."""
    return _already_waiting(themes_rebuild_task, running=True)


def _already_waiting(which: Any = None, *, running: bool = False) -> bool:
    """True when a task of this kind (default: assignment) is queued and not started, or running when asked: it will
    pick up this item too."""
    try:
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # another task backend: just enqueue
        return False
    which = which or themes_assign_new_task
    path = f"{which.func.__module__}.{which.func.__qualname__}"
    waiting = DBTaskResult.objects.ready().filter(task_path=path).exists()
    return waiting or (running and DBTaskResult.objects.running().filter(task_path=path).exists())
