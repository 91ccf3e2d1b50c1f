"""Scoring's side of the apps' hooks: the rescore hook list it calls, and the hooks it registers in others.

Registered when Django sets up (apps.py), so this module loads no more than the standard library: the services,
the playbook's schema (pydantic) and the rules load when a hook first runs, not in every command's start-up.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

# Called on commit with a contact id after its score changed; the lifecycle app qualifies MQLs here.
RESCORE_HOOKS: list[Callable[[int], None]] = []
# A bulk write affecting this many contacts or more queues one full rebuild instead of a rescore of each.
BULK_REBUILD_AT = 500

_deferred = threading.local()


def touchpoint_rescore_hook(touchpoint_id: int) -> None:
    """Registered in campaigns' TOUCHPOINT_HOOKS: queue a rescore of the touchpoint's contact (or defer it)."""
    pending: set[int] | None = getattr(_deferred, "touchpoints", None)
    if pending is not None:
        pending.add(touchpoint_id)
        return
    from smarketing.scoring import selectors
    from smarketing.scoring.tasks import contact_rescore_task

    contact_id = selectors.touchpoint_contact_id(touchpoint_id=touchpoint_id)
    if contact_id is not None:
        contact_rescore_task.enqueue(contact_id)


def playbook_activated_rescore_hook(version_id: int) -> None:
    """Registered in playbook's ACTIVATION_HOOKS: queue a full rebuild, so every score follows the new rules.

    The task scores under whichever version is active when it runs, so a quick succession of sign-offs still
    ends with scores of the latest one. Without any cached score nothing is stale, so nothing is queued (a
    seeded or bulk-loaded database is scored when someone asks for it, as before).
    """
    from smarketing.scoring.models import ContactScore
    from smarketing.scoring.tasks import scores_rebuild_all_task

    if not ContactScore.objects.exists():
        return
    scores_rebuild_all_task.enqueue()


@contextmanager
def rescore_deferred() -> Iterator[None]:
    """Collect touchpoint rescoring while a bulk import runs, then queue one task for all affected contacts."""
    outer = getattr(_deferred, "touchpoints", None)
    if outer is not None:  # already deferring: the outermost block enqueues
        yield
        return
    _deferred.touchpoints = set()
    try:
        yield
    finally:
        touchpoints: set[int] = _deferred.touchpoints
        _deferred.touchpoints = None
    from smarketing.scoring import selectors
    from smarketing.scoring.tasks import contacts_rescore_task, scores_rebuild_all_task

    contact_ids = selectors.touchpoint_contact_ids(touchpoint_ids=sorted(touchpoints))
    if len(contact_ids) >= BULK_REBUILD_AT:
        scores_rebuild_all_task.enqueue()
    elif contact_ids:
        contacts_rescore_task.enqueue(contact_ids)
