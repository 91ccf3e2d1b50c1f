"""Counts an embedded engine takes from its sorted times (`metrics.rows.sorted_times`: stage entries, opportunities
opened, won, lost) are the counts of the measures' own queries, events on a period's first instant and on its end
included: the end is outside the period, the start inside."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smarketing.analytics.engine import Engine
from smarketing.analytics.metrics.periods import reporting_period
from smarketing.analytics.metrics.query import MetricsQuery, MetricsResult
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401 - the shared fixture

COUNTS = ["leads_created", "mqls_entered", "sals_entered", "sqls_entered", "opportunities_entered",
          "customers_entered", "opportunities_opened", "deals_won", "deals_lost", "win_rate", "pipeline_opened",
          "revenue_won"]


@pytest.fixture
def on_the_edges(company):  # noqa: F811
    """Stage changes and deals exactly on 2026-Q1's first instant and exactly on its end (the next one's first)."""
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import ContactFactory, OpportunityFactory

    q1 = reporting_period("2026-Q1")
    for when in (q1.start, q1.end, q1.end - timedelta(microseconds=1)):
        contact = ContactFactory(account=company[0])
        stage_change_record(contact=contact, to_stage="mql", occurred_at=when)
        OpportunityFactory(account=company[0], primary_contact=contact, amount=1000, opened_at=when, outcome="won",
                           closed_at=when, stage="closed_won")
    return q1


def _values(period: str) -> dict[str, float | None]:
    result = run_query(MetricsQuery(period=period, names=COUNTS))
    assert isinstance(result, MetricsResult)
    return {m.name: m.value for m in result.measures}


@pytest.mark.django_db
@pytest.mark.parametrize("period", ["2026-Q1", "2026-04", "2026", "2025-12-20..2026-01-31"])
def test_counts_from_the_sorted_times_are_the_queries_counts(on_the_edges, period, monkeypatch):
    # Given the measures' values on the embedded engine (counts from its sorted times)
    from_times = _values(period)
    # When the same measures are counted by their queries (an engine that keeps no memo)
    monkeypatch.setattr(Engine, "embedded", property(lambda self: False))
    from_queries = _values(period)
    # Then they are the same, and not trivially zero
    assert from_times == from_queries
    assert any(from_times[name] for name in ("mqls_entered", "opportunities_opened"))
