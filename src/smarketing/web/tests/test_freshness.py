"""The refresh's decisions: which figures viewed recently it computes again, and when it may start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smarketing.web.data.freshness import ViewedFigure, figures_to_refresh, refresh_start_at

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
WITHIN = timedelta(minutes=15)
LOST = NOW - timedelta(minutes=10)


def figure(key: str, *, viewed_minutes_ago: float | None = 1, version: str = "v1", computed: bool = True,
           pending_version: str = "", pending_minutes_ago: float | None = None, kind: str = "funnel") -> ViewedFigure:
    return ViewedFigure(key=key, kind=kind, spec="{}", version=version, computed=computed,
                        pending_version=pending_version,
                        pending_since=None if pending_minutes_ago is None else NOW - timedelta(minutes=pending_minutes_ago),
                        viewed_at=None if viewed_minutes_ago is None else NOW - timedelta(minutes=viewed_minutes_ago))


def chosen(figures: list[ViewedFigure], *, limit: int = 10, version: str = "v2") -> list[str]:
    return [f.key for f in figures_to_refresh(figures, version=version, now=NOW, viewed_within=WITHIN, limit=limit,
                                              pending_lost_before=LOST)]


def test_figures_viewed_recently_and_out_of_date_are_refreshed_latest_viewed_first():
    figures = [figure("a", viewed_minutes_ago=5), figure("b", viewed_minutes_ago=1), figure("c", viewed_minutes_ago=14)]
    assert chosen(figures) == ["b", "a", "c"]


@pytest.mark.parametrize(("why", "row"), [
    ("viewed too long ago", figure("x", viewed_minutes_ago=16)),
    ("never viewed", figure("x", viewed_minutes_ago=None)),
    ("computed for this version already", figure("x", version="v2")),
    ("queued for this version by a page", figure("x", pending_version="v2", pending_minutes_ago=1)),
    ("no task computes it (the warm-up's row, a quick ORM figure)", figure("x", kind="")),
])
def test_a_figure_is_left_alone_when(why, row):
    assert chosen([row]) == [], why


@pytest.mark.parametrize(("why", "row"), [
    ("queued for an older version", figure("x", pending_version="v1", pending_minutes_ago=1)),
    ("queued for this version so long ago it is presumed lost", figure("x", pending_version="v2", pending_minutes_ago=11)),
    ("never computed, only asked for", figure("x", version="", computed=False)),
    ("computed for this version's predecessor, viewed just now", figure("x", viewed_minutes_ago=0)),
])
def test_a_figure_is_refreshed_when(why, row):
    assert chosen([row]) == ["x"], why


def test_at_most_the_limit_most_recently_viewed_are_refreshed():
    figures = [figure(f"f{i}", viewed_minutes_ago=i) for i in range(10)]
    assert chosen(figures, limit=3) == ["f0", "f1", "f2"]
    assert chosen(figures, limit=0) == []


def test_figures_viewed_in_the_same_minute_come_in_a_stable_order():
    same = [figure("b"), figure("a"), figure("c")]
    assert chosen(same) == chosen(list(reversed(same))) == ["c", "b", "a"]


PAUSE = timedelta(seconds=30)
LOST_AFTER = timedelta(minutes=10)


def start(*, last_started: datetime | None = None, waiting_since: datetime | None = None,
          pause: timedelta = PAUSE) -> datetime | None:
    return refresh_start_at(now=NOW, last_started=last_started, waiting_since=waiting_since, pause=pause,
                            waiting_lost_after=LOST_AFTER)


def test_the_first_refresh_starts_at_once():
    assert start() == NOW


def test_a_refresh_starts_no_sooner_than_the_pause_after_the_previous_one():
    assert start(last_started=NOW - timedelta(seconds=10)) == NOW + timedelta(seconds=20)
    assert start(last_started=NOW - timedelta(seconds=30)) == NOW
    assert start(last_started=NOW - timedelta(hours=1)) == NOW


def test_no_second_refresh_is_queued_while_one_waits():
    assert start(waiting_since=NOW - timedelta(seconds=5)) is None
    assert start(last_started=NOW - timedelta(seconds=5), waiting_since=NOW - timedelta(seconds=1)) is None


def test_a_refresh_waiting_for_much_longer_than_the_pause_is_presumed_lost():
    assert start(waiting_since=NOW - PAUSE - LOST_AFTER - timedelta(seconds=1)) == NOW


def test_no_pause_turns_refreshes_off():
    assert start(pause=timedelta(0)) is None

