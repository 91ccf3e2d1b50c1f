"""After the CRM changed, the worker computes again the figures people looked at in the last minutes, so a page
opened a few seconds later finds them computed instead of showing the old numbers while it waits for them.

`figures_refresh_soon` runs after each catch-up of the history store (a hook of its task, registered in
`WebConfig.ready`): the store's task runs only after writes, so the data version has moved. It queues one refresh
(`web.tasks.figures_refresh_task`), at most one waiting at a time and starting no sooner than
`SMARKETING_FIGURES_REFRESH_SECONDS` after the previous one (0 turns refreshes off). The refresh reads the data
version when it starts and claims and queues each figure due (`freshness.figures_to_refresh`) exactly as a page
does, so a page opened meanwhile waits for the same computation instead of queueing another.

Which figures: those a page showed in the last `VIEWED_WITHIN` (as long as an older value is served while a new one
is computed: a figure nobody looked at for longer is computed when next asked for, as before), at most
`REFRESH_MAX` per refresh, the most recently viewed first.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from smarketing.core import clock
from smarketing.web.data.common import (
    PENDING_TIMEOUT,
    REFRESH_PRIORITY,
    STALE_FOR,
    claim,
    data_version,
    forget_version,
)
from smarketing.web.data.freshness import ViewedFigure, figures_to_refresh, refresh_start_at
from smarketing.web.models import ComputedFigure

log = logging.getLogger(__name__)
# The row that says when the last refresh started (computed_at) and whether one is waiting (pending_since).
REFRESH_KEY = "refresh:figures"
VIEWED_WITHIN = STALE_FOR
# Why 24: the five analytics pages show about a dozen figures for one period; two people on two periods fit, and on
# the large demo a figure after a write takes a few tenths of a second, so a refresh keeps the workers seconds.
REFRESH_MAX = 24


def refresh_pause() -> timedelta:
    return timedelta(seconds=settings.SMARKETING_FIGURES_REFRESH_SECONDS)


def figure_list_viewed(*, since: datetime) -> list[ViewedFigure]:
    """The figure rows a page showed since `since` that a task can compute again (never their values)."""
    rows = (ComputedFigure.objects.filter(viewed_at__gte=since).exclude(kind="")
            .values_list("key", "kind", "spec", "version", "computed_at", "pending_version", "pending_since",
                         "viewed_at"))
    return [ViewedFigure(key=key, kind=kind, spec=spec, version=version, computed=computed_at is not None,
                         pending_version=pending_version, pending_since=pending_since, viewed_at=viewed_at)
            for key, kind, spec, version, computed_at, pending_version, pending_since, viewed_at in rows]


def _due(now: datetime) -> tuple[str, list[ViewedFigure]]:
    """The current data version and the figures a refresh for it computes."""
    forget_version()  # the version this process read up to two seconds ago may predate the write
    version = data_version()
    return version, figures_to_refresh(figure_list_viewed(since=now - VIEWED_WITHIN), version=version, now=now,
                                       viewed_within=VIEWED_WITHIN, limit=REFRESH_MAX,
                                       pending_lost_before=clock.now() - PENDING_TIMEOUT)


def figures_refresh_soon(copied: int = 0) -> bool:
    """Queue a refresh of the figures viewed recently unless refreshes are off, one is waiting already, or no such
    figure is out of date; returns whether one was queued. Registered as a hook of the store's catch-up task
    (`copied`: the rows it copied; not consulted, since a page's own query may have caught the store up first and
    left the task nothing to copy while the data version has still moved)."""
    pause = refresh_pause()
    now = timezone.now()  # the worker's clock, for run_after (the product's may be frozen in tests)
    state = ComputedFigure.objects.filter(key=REFRESH_KEY).values_list("computed_at", "pending_since").first()
    last_started, waiting_since = state if state is not None else (None, None)
    start = refresh_start_at(now=now, last_started=last_started, waiting_since=waiting_since, pause=pause,
                             waiting_lost_after=PENDING_TIMEOUT)
    if start is None or not _due(now)[1]:
        return False
    from smarketing.web.tasks import figures_refresh_task

    with transaction.atomic():
        if not _waiting_take(now=now, lost_before=now - pause - PENDING_TIMEOUT):
            return False  # another process queued one meanwhile
        figures_refresh_task.using(run_after=start).enqueue()
    return True


def _waiting_take(*, now: datetime, lost_before: datetime) -> bool:
    """Mark a refresh as waiting; True for the one caller that should queue it (as `common.claim` for a figure)."""
    taken = (ComputedFigure.objects.filter(key=REFRESH_KEY)
             .filter(Q(pending_since=None) | Q(pending_since__lt=lost_before))
             .update(pending_since=now, pending_version="refresh"))
    if taken:
        return True
    if ComputedFigure.objects.filter(key=REFRESH_KEY).exists():
        return False
    try:
        with transaction.atomic():
            ComputedFigure.objects.create(key=REFRESH_KEY, name="refresh", pending_version="refresh",
                                          pending_since=now)
    except IntegrityError:
        return False
    return True


def figures_refresh() -> dict[str, Any]:
    """Claim and queue, for the current data version, the figures viewed recently that are out of date (the task
    `figures_refresh_task` runs this); returns the version and the kinds queued."""
    from smarketing.web.tasks import figure_compute_task

    now = timezone.now()
    # Started: no longer waiting, so a catch-up from now on queues the next refresh (a pause after this one).
    ComputedFigure.objects.filter(key=REFRESH_KEY).update(computed_at=now, pending_since=None, pending_version="")
    version, due = _due(now)
    queued = []
    for figure in due:
        if claim(key=figure.key, name=f"query:{figure.kind}", version=version, kind=figure.kind, spec=figure.spec):
            figure_compute_task.using(priority=REFRESH_PRIORITY).enqueue(figure.kind, figure.spec, version)
            queued.append(figure.kind)
    log.info("refreshing %d figures viewed recently for the data version %s", len(queued), version)
    return {"version": version, "queued": queued}
