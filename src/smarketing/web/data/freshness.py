"""Which figures a background refresh computes again after the CRM changed, and when that refresh may start: pure
decisions over plain data (`web.data.refresh` reads the rows, queues the work and applies them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class ViewedFigure:
    """A figure row as the refresh sees it: what computes it, what it holds and when a page last showed it."""

    key: str
    kind: str  # the query kind (or page figure) that computes it; "" for a row no task can compute again
    spec: str  # the spec's JSON
    version: str  # the data version of the value it holds
    computed: bool  # whether it holds a value (or the domain error it raised) for `version`
    pending_version: str  # the version a computation was queued for, "" for none
    pending_since: datetime | None
    viewed_at: datetime | None


def figures_to_refresh(figures: Iterable[ViewedFigure], *, version: str, now: datetime, viewed_within: timedelta,
                       limit: int, pending_lost_before: datetime) -> list[ViewedFigure]:
    """The figures a refresh for `version` computes: those a page showed within `viewed_within` of `now` that hold
    no value for `version` and are not being computed for it (a computation queued before `pending_lost_before`
    is presumed lost), the most recently viewed first, at most `limit`."""
    since = now - viewed_within

    def due(f: ViewedFigure) -> bool:
        if not f.kind or f.viewed_at is None or f.viewed_at < since:
            return False
        if f.computed and f.version == version:
            return False
        queued = f.pending_version == version and f.pending_since is not None
        return not (queued and f.pending_since >= pending_lost_before)  # type: ignore[operator]

    chosen = sorted((f for f in figures if due(f)), key=lambda f: (f.viewed_at, f.key), reverse=True)
    return chosen[:max(limit, 0)]


def refresh_start_at(*, now: datetime, last_started: datetime | None, waiting_since: datetime | None,
                     pause: timedelta, waiting_lost_after: timedelta) -> datetime | None:
    """When a refresh asked for at `now` should start: at once, or `pause` after the previous one started if that
    is later. None when refreshes are off (no pause) or one is already waiting: it will see this change too, as it
    reads the data version when it starts. A refresh waiting for longer than `pause` + `waiting_lost_after` is
    presumed lost (its task gone) and no longer counts."""
    if pause <= timedelta(0):
        return None
    if waiting_since is not None and now - waiting_since < pause + waiting_lost_after:
        return None
    if last_started is None:
        return now
    return max(now, last_started + pause)
