"""Reverse waterfall: pure arithmetic, measured rates on hand-written journeys, pacing, and clear errors."""

from __future__ import annotations

from datetime import date

import pytest

from smarketing.analytics.builders import build_journeys
from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.goals import GoalsQuery, Rates, parse_period, reverse_waterfall, run_goals
from smarketing.analytics.registry import parse_spec
from smarketing.core.errors import ValidationFailed


def _history() -> dict:
    # 10 leads on 01-01; 6 become MQL after 10 days, 3 SQL 20 days later, 2 opportunities 10 days later;
    # of those, one deal won (1000) and one lost, 30 days after opening. In Q4: one lead→MQL and a 2000 deal.
    people = {}
    for i in range(10):
        events = [("2026-01-01", "stage:lead")]
        events += [("2026-01-11", "stage:mql")] if i < 6 else []
        events += [("2026-01-31", "stage:sql")] if i < 3 else []
        events += [("2026-02-10", "stage:opportunity")] if i < 2 else []
        deals = [{"amount": 1000, "outcome": ["won", "lost"][i], "opened": "2026-02-10", "closed": "2026-03-12"}] \
            if i < 2 else []
        people[f"p{i}"] = {"events": events, "deals": deals}
    people["q4"] = {"events": [("2026-10-05", "stage:lead"), ("2026-10-20", "stage:mql")],
                    "deals": [{"amount": 2000, "outcome": "won", "opened": "2026-10-01", "closed": "2026-11-03"}]}
    return people


@pytest.fixture(scope="module")
def engine():
    with open_engine("duckdb", frames=build_journeys(_history())) as eng:
        yield eng


@pytest.mark.parametrize(("label", "start", "end", "months"), [
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31), 3),
    ("2026", date(2026, 1, 1), date(2026, 12, 31), 12),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28), 1),
])
def test_periods_parse(label, start, end, months):
    p = parse_period(label)
    assert (p.start, p.end, len(p.months)) == (start, end, months)


@pytest.mark.parametrize("label", ["2026-Q5", "Q4", "2026-13", "26-01"])
def test_bad_period_is_named(label):
    with pytest.raises(ValidationFailed) as err:
        parse_spec("goals", {"period": label, "revenue": 10})
    assert err.value.field == "period"


RATES = Rates(lead_to_mql=0.5, mql_to_sql=0.5, sql_to_opportunity=0.5, win_rate=0.25, average_deal_size=10_000,
              days_lead_to_mql=30, days_mql_to_sql=31, days_sql_to_opportunity=0, days_opportunity_to_won=61)


def test_reverse_waterfall_is_plain_arithmetic_and_lands_targets_earlier():
    # given 100k in one month, deals of 10k: 10 deals, 40 opps, 80 SQLs, 160 MQLs, 320 leads
    needed, months = reverse_waterfall(revenue=100_000, rates=RATES, months=[date(2026, 11, 1)])
    assert needed == {"deals": 10, "opportunities": 40, "sqls": 80, "mqls": 160, "leads": 320, "revenue": 100_000}
    # then each earlier stage lands its lag earlier: opps 61 days before mid-November (mid-September)
    assert months["2026-11"] == {"deals": 10.0, "revenue": 100_000}
    assert months["2026-09"] == {"opportunities": 40.0, "sqls": 80.0}
    assert months["2026-08"] == {"mqls": 160.0}
    assert months["2026-07"] == {"leads": 320.0}


def test_reverse_waterfall_refuses_a_zero_rate():
    with pytest.raises(ValidationFailed) as err:
        reverse_waterfall(revenue=1, rates=RATES.model_copy(update={"mql_to_sql": 0.0}), months=[date(2026, 1, 1)])
    assert err.value.field == "lookback_days"


def test_goals_measure_rates_and_pace_actuals(engine):
    # when planning 6000 for 2026-Q4 with the history measured before October
    r = run_goals(engine, GoalsQuery(period="2026-Q4", revenue=6000, as_of="2026-11-15",
                                                 timezone="UTC"))
    # then the measured rates and lags are the hand-computed ones
    assert r.rates.model_dump() == {
        "lead_to_mql": 0.6, "mql_to_sql": 0.5, "sql_to_opportunity": 0.666667, "win_rate": 0.5,
        "average_deal_size": 1000.0, "days_lead_to_mql": 10.0, "days_mql_to_sql": 20.0,
        "days_sql_to_opportunity": 10.0, "days_opportunity_to_won": 30.0}
    assert r.needed == {"deals": 6, "opportunities": 12, "sqls": 18, "mqls": 36, "leads": 60, "revenue": 6000}
    months = {m.month: m for m in r.months}
    assert list(months) == ["2026-08", "2026-09", "2026-10", "2026-11", "2026-12"]
    assert months["2026-11"].actuals == {"deals": 1.0, "revenue": 2000.0, "opportunities": 0.0, "sqls": 0.0}
    pacing = {p.stage: p for p in r.pacing}
    # by mid-November: Oct's 2000 and half of Nov's 2000 were due; 2000 came in
    assert (pacing["revenue"].target_to_date, pacing["revenue"].actual_to_date) == (3000.0, 2000.0)
    assert (pacing["revenue"].status, pacing["revenue"].measure) == ("behind_pace", "revenue_won")
    assert pacing["leads"].actual_to_date == 1.0
    assert r.elapsed == 0.5


def test_goals_actuals_are_the_measures_of_the_periods_own_months(engine):
    # given a plan for Q4 whose lead targets fall before the period (August, September)
    r = run_goals(engine, GoalsQuery(period="2026-Q4", revenue=6000, timezone="UTC", as_of="2026-12-31"))
    months = {m.month: m for m in r.months}
    # then the months before Q4 are a plan with their own months' actuals (no lead was created then) ...
    assert months["2026-08"].actuals["leads"] == 0.0 and "revenue" not in months["2026-08"].targets
    # ... and the period's actuals are Q4's own measures: one lead (5 Oct), one MQL (20 Oct), 2000 won (3 Nov)
    pacing = {p.stage: p for p in r.pacing}
    assert {s: pacing[s].actual_to_date for s in ("leads", "mqls", "opportunities", "deals", "revenue")} == {
        "leads": 1.0, "mqls": 1.0, "opportunities": 1.0, "deals": 1.0, "revenue": 2000.0}
    # and at the end of the period the whole target is due, never before it
    assert pacing["revenue"].target_to_date == 6000.0 and r.elapsed == 1.0
    early = run_goals(engine, GoalsQuery(period="2026-Q4", revenue=6000, timezone="UTC", as_of="2026-09-30"))
    assert {p.status for p in early.pacing} == {"not_started"}


def test_no_won_history_is_a_clear_error(engine):
    with pytest.raises(ValidationFailed) as err:
        run_goals(engine, GoalsQuery(period="2025-Q1", revenue=6000, timezone="UTC"))
    assert err.value.field == "lookback_days"


@pytest.mark.django_db
def test_revenue_defaults_to_the_playbook_goal(engine, active_playbook):
    r = run_goals(engine, GoalsQuery(period="2026-Q4", as_of="2026-10-01"))
    assert r.revenue == 3_300_000
    assert r.needed["deals"] == 3300


@pytest.mark.django_db
def test_missing_playbook_goal_names_revenue(engine, active_playbook):
    # the shipped playbook has goals for 2026 (covering every 2026 period) and two quarters; none covers 2025
    with pytest.raises(ValidationFailed) as err:
        run_goals(engine, GoalsQuery(period="2025-Q2"))
    assert err.value.field == "revenue"


def test_a_month_without_its_own_goal_takes_its_days_share_of_the_quarter_goal():
    from types import SimpleNamespace

    from smarketing.analytics.queries.goals import playbook_goal

    goals = [SimpleNamespace(period="2026-Q4", revenue=920_000.0, currency="USD", segment=""),
             SimpleNamespace(period="2026-12", revenue=500_000.0, currency="USD", segment=""),
             SimpleNamespace(period="2026-Q4", revenue=1.0, currency="USD", segment="enterprise")]
    # a month of the quarter with no goal of its own: 31 of the quarter's 92 days
    october = playbook_goal(goals, "2026-10")
    assert october is not None and not october.exact
    assert october.revenue == pytest.approx(920_000 * 31 / 92)
    assert october.source == "34% of the Q4 2026 goal (pro-rated by days)"
    # a month with its own goal keeps it; a segment only reads its own goals; nothing covers 2027
    december = playbook_goal(goals, "2026-12")
    assert december is not None and december.exact and december.revenue == 500_000
    assert playbook_goal(goals, "2026-Q4", "enterprise").revenue == 1.0  # type: ignore[union-attr]
    assert playbook_goal(goals, "2027-01") is None
