"""The scoreboard's measures as the worker computes them, figure after figure: what the engine keeps for every
period (`analytics.metrics.rows.kept`: MQL decisions, SLA events, the funnel timeline) is carried from one figure to
the next while the store is unchanged (`common._memo_carry`), gives each period the figures of a computation that
keeps nothing, and is read again once a decision is recorded."""

from __future__ import annotations

from typing import Any

import pytest

from smarketing.analytics.metrics import MetricsQuery
from smarketing.analytics.queries.common import MEMO_CARRIED
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_metrics_kept import PLAN, spread  # noqa: F401 - the shared fixture
from smarketing.analytics.tests.test_touches_cache import lake  # noqa: F401 - the shared fixture
from smarketing.lifecycle.services_handoff import handoff_accept
from smarketing.testing.factories import UserFactory
from smarketing.web.data import common
from smarketing.web.data.measures import page_measures
from smarketing.web.data.scoreboard import SCOREBOARD_MEASURES

PERIODS = ["2026-Q4", "2026-Q3", "2026-09-30..2026-10-01", "2026"]
NAMES = [name for name in page_measures() if name in SCOREBOARD_MEASURES]


def _figure(period: str, version: str) -> dict[str, Any]:
    """The scoreboard's metrics figure as the worker's task computes it."""
    spec = common.query_spec("metrics", {"period": period, "filters": {}, "names": NAMES})
    result = common.compute_query(kind="metrics", spec_json=spec.model_dump_json(), version=version)
    return {m.name: (m.value, m.numerator, m.denominator) for m in result.measures}


def _afresh(period: str) -> dict[str, Any]:
    """The same measures on an engine of their own, whose memo nobody carries (each period's own reads)."""
    result = run_query(MetricsQuery(period=period, names=NAMES))
    return {m.name: (m.value, m.numerator, m.denominator) for m in result.measures}  # type: ignore[attr-defined]


def _kept() -> set[Any]:
    assert common._carried is not None
    memo = common._carried[1]
    assert memo.get(MEMO_CARRIED)
    return {key[1] for key in memo if isinstance(key, tuple) and key[0] == "metrics:kept"}


@pytest.mark.django_db(transaction=True)
def test_the_measures_carried_from_period_to_period_are_those_computed_afresh(spread, lake):  # noqa: F811
    # given the scoreboard's figure for one period after another, on the store (the memo carried between them)
    carried = {period: _figure(period, f"v1-{period}") for period in PERIODS}
    assert {"mql_decisions", "sales_sla_events", "cohort_steps"} <= _kept()
    # when each period is computed afresh
    common.clear(rows=True)
    afresh = {period: _afresh(period) for period in PERIODS}
    # then the figures are the same, and not trivially empty
    assert carried == afresh
    assert carried["2026-Q4"]["mqls_accepted"][0] == 2 and carried["2026-Q4"]["decision_within_sla"][2] > 0


@pytest.mark.django_db(transaction=True)
def test_a_decision_recorded_since_is_in_the_next_figure(spread, lake):  # noqa: F811
    # given the figure of a quarter with one MQL awaiting a decision (5 entered, 4 decided)
    before = _figure("2026-Q4", "v1")
    assert (before["mqls_entered"][0], before["mql_acceptance_rate"][2]) == (5, 4)
    # when sales accepts it and the next figure is computed
    waiting = spread[next(i for i, (_, decision, _) in enumerate(PLAN) if not decision and i < 5)]
    handoff_accept(contact=waiting, user=waiting.owner or UserFactory(role="sales"))
    after = _figure("2026-Q4", "v2")
    # then the decision is counted (the kept decisions were read again), as a computation afresh counts it
    assert (after["mql_acceptance_rate"][2], after["mqls_accepted"][0]) == (5, before["mqls_accepted"][0] + 1)
    assert after["decision_within_sla"][2] == before["decision_within_sla"][2] + 1
    assert after == _afresh("2026-Q4")
