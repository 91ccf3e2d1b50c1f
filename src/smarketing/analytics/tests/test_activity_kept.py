"""Touchpoints recorded, counted off the sorted touch times an engine keeps where its memo is carried
(`metrics.activity._touch_times`), equal the count of the measure's own query: touches on a period's first instant
and on its end, several periods (one in a time zone) on one carried engine, against a
fresh engine per period and an engine that keeps nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from smarketing.analytics.engine import Engine, open_engine
from smarketing.analytics.metrics import MeasureRecordsQuery, MetricsQuery, reporting_period
from smarketing.analytics.queries.common import MEMO_CARRIED
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401 - the shared fixture
from smarketing.testing.factories import ContactFactory, TouchpointFactory

PERIODS = ["2026-Q1", "2026-03-31..2026-04-01", "2026", "2025"]
NAMES = ["touchpoints_recorded", "leads_created"]


@pytest.fixture
def on_the_edges(company):  # noqa: F811
    """Touches exactly on 2026-Q1's first instant, a microsecond before its end and on its end."""
    q1 = reporting_period("2026-Q1")
    contact = ContactFactory(account=company[0])
    for when in (q1.start, q1.end - timedelta(microseconds=1), q1.end):
        TouchpointFactory(contact=contact, kind="ad_click", channel="paid_search", occurred_at=when)
    return q1


def _specs() -> list[Any]:
    specs: list[Any] = [MetricsQuery(period=p, names=NAMES) for p in PERIODS]
    specs += [MetricsQuery(period="2026-Q1", names=NAMES, timezone="Pacific/Kiritimati"),
              MetricsQuery(period="2026-Q1", names=NAMES, filters={"segment": ["enterprise"]}),
              MeasureRecordsQuery(name="touchpoints_recorded", period="2026-Q1", limit=4, offset=1)]
    return specs


def _dump(result: Any) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"data_as_of", "as_of"})


def _on_one_carried_engine() -> tuple[list[dict[str, Any]], bool]:
    with open_engine("duckdb") as engine:
        engine.memo[MEMO_CARRIED] = True
        out = [_dump(run_query(spec, engine=engine)) for spec in _specs()]
        return out, ("metrics:kept", "touchpoint_times") in engine.memo


def _each_on_its_own_engine() -> list[dict[str, Any]]:
    out = []
    for spec in _specs():
        with open_engine("duckdb") as engine:
            out.append(_dump(run_query(spec, engine=engine)))
            assert ("metrics:kept", "touchpoint_times") not in engine.memo  # a one-off run counts its period
    return out


@pytest.mark.django_db
def test_touches_counted_off_the_kept_times_are_the_queries_counts(on_the_edges, monkeypatch):
    # Given the figures on one engine whose memo is carried (the touch times kept, each period a slice)
    kept, was_kept = _on_one_carried_engine()
    assert was_kept
    # When each spec runs on its own engine, and on an engine that keeps nothing
    own = _each_on_its_own_engine()
    monkeypatch.setattr(Engine, "embedded", property(lambda self: False))
    queried = [_dump(run_query(spec)) for spec in _specs()]
    # Then the figures and records are the same
    assert kept == own == queried
    # and the edges count as the query counts them: the first instant and the last microsecond in, the end out
    q1 = {m["name"]: m["value"] for m in kept[0]["measures"]}
    edges = kept[1]["measures"][0]["value"]
    assert q1["touchpoints_recorded"] > 2 and edges == 2
