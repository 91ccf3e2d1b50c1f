"""Journeys read off every event an engine keeps where its memo is carried (`queries.journeys._period_events`: the
level's events read and sorted once, each period a slice) equal a read of the period's own events: periods that
start or end on the day of events at midnight, open ranges, a period with only some activities, an empty one,
both levels, on one carried engine against a fresh engine per spec."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from smarketing.analytics.builders import build_journeys
from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.common import MEMO_CARRIED
from smarketing.analytics.queries.journeys import (
    JourneysQuery,
    _period_events,
    events_table,
    fetch_arrays,
    run_journeys,
)
from smarketing.analytics.tests.test_journeys import IDEAL, PEOPLE

RANGES: list[tuple[date | None, date | None]] = [
    (None, None), (date(2026, 1, 5), None), (None, date(2026, 1, 4)), (date(2026, 1, 2), date(2026, 1, 5)),
    (date(2026, 2, 1), date(2026, 2, 28)), (date(2027, 1, 1), date(2027, 1, 31)), (date(2026, 1, 3), date(2026, 1, 3)),
]


def _specs() -> list[JourneysQuery]:
    return [JourneysQuery(level=level, start=start, end=end, top=3, ideal_journeys=IDEAL)  # type: ignore[arg-type]
            for level in ("contact", "account") for start, end in RANGES]


def _dump(result: Any) -> dict[str, Any]:
    return result.model_dump(mode="json")


@pytest.mark.django_db
def test_journeys_sliced_from_the_kept_events_are_the_periods_own():
    frames = build_journeys(PEOPLE)
    # Given each spec's journeys on one engine whose memo is carried (every event kept, each period a slice)
    with open_engine("duckdb", frames=frames) as engine:
        engine.memo[MEMO_CARRIED] = True
        kept = [_dump(run_journeys(engine, spec)) for spec in _specs()]
        assert {("metrics:kept", "journey_events:contact"), ("metrics:kept", "journey_events:account")} <= set(engine.memo)
    # When each runs on its own engine (the period's events read alone)
    own = []
    for spec in _specs():
        with open_engine("duckdb", frames=frames) as engine:
            own.append(_dump(run_journeys(engine, spec)))
            assert not any(isinstance(k, tuple) and k[0] == "metrics:kept" for k in engine.memo)
    # Then the journeys are the same, and the periods differ (the slices are not all the whole history)
    assert kept == own
    events = [r["events"] for r in kept[:len(RANGES)]]
    assert events[0] > events[1] > 0 and events[5] == 0 and len(set(events)) >= 5
    assert kept[4]["edges"] and {e["source"] for e in kept[4]["edges"]} < {e["source"] for e in kept[0]["edges"]}


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
def test_a_slice_of_the_kept_events_is_the_periods_read_array_for_array(level):
    # Given an engine whose memo is carried, and each range's own read of its events
    with open_engine("duckdb", frames=build_journeys(PEOPLE)) as engine:
        engine.memo[MEMO_CARRIED] = True
        for start, end in RANGES:
            spec = JourneysQuery(level=level, start=start, end=end)  # type: ignore[arg-type]
            # When the range is sliced from every kept event
            sliced, read = _period_events(engine, spec), fetch_arrays(engine, events_table(engine, spec))
            # Then subjects, seconds, codes and labels (only the range's activities) are the read's
            assert sliced.labels == read.labels, (start, end)
            for name in ("subject", "ts", "code"):
                assert getattr(sliced, name).tolist() == getattr(read, name).tolist(), (name, start, end)
