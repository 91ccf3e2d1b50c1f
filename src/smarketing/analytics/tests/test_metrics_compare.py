"""Comparison with the previous period: the same measure computed for both periods, and the change between them."""

from __future__ import annotations

import pytest

from smarketing.analytics.builders import build_journeys
from smarketing.analytics.engine import open_engine
from smarketing.analytics.metrics import MetricsQuery, change, reporting_period, run_metrics
from smarketing.analytics.tests.test_metrics import ACCOUNTS, NOW, PEOPLE
from smarketing.core import clock
from smarketing.core.errors import ValidationFailed


@pytest.fixture
def engine(active_playbook):
    clock.freeze(NOW)
    with open_engine("duckdb", frames=build_journeys(PEOPLE, ACCOUNTS)) as eng:
        yield eng
    clock.freeze(None)


@pytest.mark.parametrize(("key", "previous"), [
    ("2026-Q1", "2025-Q4"), ("2026-Q4", "2026-Q3"), ("2026-01", "2025-12"), ("2026", "2025"),
    ("2026-10-01..2026-10-10", "2026-09-21..2026-09-30"), ("last-30d", "last-30d-previous")])
def test_the_previous_period_is_the_same_kind_just_before(key, previous):
    period = reporting_period(key, tz="America/New_York", now=NOW)
    before = period.previous()
    assert before.key == previous and before.end == period.start


def test_a_change_says_its_direction_difference_and_percentage():
    assert change(3, 1).model_dump(exclude={"warnings"}) == {"previous": 1, "delta": 2, "delta_percent": 200.0,
                                                             "direction": "up", "good": True}
    assert (change(1, 4).direction, change(1, 4).delta_percent) == ("down", -75.0)
    assert change(2, 2).direction == "same"
    assert change(5, 0).delta_percent is None and change(5, 0).delta == 5  # no percentage of nothing
    assert change(None, 3).delta is None and change(None, 3).previous == 3


def test_compare_prev_computes_each_measure_for_the_previous_quarter(engine):
    # given Q4 2026 compared with the previous period
    result = run_metrics(engine, MetricsQuery(period="2026-Q4", compare="prev",
                                              names=["mqls_entered", "revenue_won", "win_rate"]))
    alone = run_metrics(engine, MetricsQuery(period="2026-Q3", names=["mqls_entered", "revenue_won", "win_rate"]))
    # then the previous period is Q3 and each previous value is the Q3 measure itself
    assert result.previous is not None and result.previous.key == "2026-Q3"
    for m in result.measures:
        assert m.change is not None and m.change.previous == alone.get(m.name).value
    mqls = result.get("mqls_entered")
    # ada's MQL at 03:00 UTC on 1 October is September's; bob twice and cy in Q4
    assert (mqls.value, mqls.change.previous, mqls.change.delta, mqls.change.direction) == (3, 1, 2, "up")
    assert result.get("revenue_won").change.delta_percent is None  # nothing won in Q3
    # and without compare nothing is compared
    assert run_metrics(engine, MetricsQuery(period="2026-Q4", names=["mqls_entered"])).measures[0].change is None


def test_an_unknown_comparison_names_the_compare_field():
    with pytest.raises(ValidationFailed) as err:
        MetricsQuery(period="2026-Q4", compare="next")
    assert err.value.field == "compare"
