"""Goals on the funnel's scale: the reverse waterfall from a revenue goal, and pacing of actuals against it.

Measured over a lookback window before the period: the conversion rates lead→MQL→SQL→opportunity, the win
rate and average deal size of closed opportunities, and the median lags between stages. `reverse_waterfall`
(pure) turns them into the leads, MQLs, SQLs, opportunities and deals needed, placing each stage's target in
the month it must happen so the deals land inside the period (a lead target may fall before the period: a plan).
Actuals are the metrics layer's measures (leads created, MQLs and SQLs entered, opportunities opened, deals and
revenue won) for each month and for the period itself; pacing compares the period's actual so far with the
whole-period target times the part of the period elapsed.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator

from smarketing.analytics.queries.common import (
    clean,
    day_after,
    day_start,
    days_between,
    ts_literal,
)
from smarketing.analytics.queries.funnel import FunnelQuery, cohort_timeline
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.core.errors import ValidationFailed

PERIOD_RE = re.compile(r"^(\d{4})(?:-Q([1-4])|-(\d{2}))?$")
WATERFALL = ("leads", "mqls", "sqls", "opportunities", "deals")
# Each planned stage's actuals: the measure that counts it (events in the month or period).
ACTUAL_MEASURES = {"leads": "leads_created", "mqls": "mqls_entered", "sqls": "sqls_entered",
                   "opportunities": "opportunities_opened", "deals": "deals_won", "revenue": "revenue_won"}


@dataclass(frozen=True)
class Period:
    label: str
    start: date
    end: date  # inclusive

    @property
    def months(self) -> list[date]:
        out, m = [], self.start.replace(day=1)
        while m <= self.end:
            out.append(m)
            m = _add_months(m, 1)
        return out


def _add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def parse_period(label: str) -> Period:
    """`2026`, `2026-Q4` or `2026-11` → the period's first and last day (the reporting period's local days)."""
    from smarketing.analytics.metrics.periods import reporting_period

    key = label.strip()
    if not PERIOD_RE.match(key):
        raise ValidationFailed(f"period {label!r} is not a year, quarter or month (2026, 2026-Q4, 2026-11)",
                               field="period")
    period = reporting_period(key, tz="UTC")  # local days are the same in every zone; only instants differ
    return Period(key, period.first_day, period.last_day)


class Rates(QueryResult):
    lead_to_mql: float
    mql_to_sql: float
    sql_to_opportunity: float
    win_rate: float
    average_deal_size: float
    days_lead_to_mql: float
    days_mql_to_sql: float
    days_sql_to_opportunity: float
    days_opportunity_to_won: float


class MonthTargets(QueryResult):
    month: str
    targets: dict[str, float] = Field(description="Needed in this month, per stage (leads … deals, revenue)")
    actuals: dict[str, float]


class StagePacing(QueryResult):
    stage: str
    target: int
    target_to_date: float
    actual_to_date: float
    pacing: float | None = Field(description="actual_to_date / target_to_date")
    status: str = Field(description="on_pace | behind_pace | not_started (nothing due yet)")
    measure: str = Field(description="The measure that counts the actual (events in the period so far)")


class GoalsQuery(QuerySpec):
    """A revenue goal for a period (taken from the playbook's goals when revenue is omitted)."""

    period: str
    revenue: float | None = Field(default=None, gt=0)
    segment: str = ""
    lookback_days: int = Field(default=365, ge=30, le=3650, description="History used to measure rates")
    as_of: date | None = Field(default=None, description="Pacing through the end of this day (default: now)")
    timezone: str | None = Field(default=None, description="Reporting time zone of the period's days (default: "
                                 "the playbook's calendar time zone)")

    @model_validator(mode="after")
    def _check(self) -> GoalsQuery:
        parse_period(self.period)
        return self


class GoalsResult(QueryResult):
    query: GoalsQuery
    revenue: float
    goal_source: str = Field(default="", description="Where the revenue goal comes from: the playbook's goal for "
                             "the period, a share by days of a goal covering it, or the revenue given")
    period_start: date
    period_end: date
    elapsed: float = Field(description="Share of the period elapsed at the pacing instant (0..1)")
    rates: Rates
    needed: dict[str, int]
    months: list[MonthTargets]
    pacing: list[StagePacing]


def reverse_waterfall(*, revenue: float, rates: Rates, months: list[date]) -> tuple[dict[str, int],
                                                                                     dict[str, dict[str, float]]]:
    """Pure: totals needed per stage and, per month ('YYYY-MM'), the share that must happen then."""
    if rates.average_deal_size <= 0:
        raise ValidationFailed("the average won deal size is 0, so no number of deals reaches the goal",
                               field="average_deal_size")
    deals = revenue / rates.average_deal_size
    chain = [("deals", deals, 0.0)]
    for stage, rate, lag in (("opportunities", rates.win_rate, rates.days_opportunity_to_won),
                             ("sqls", rates.sql_to_opportunity, rates.days_sql_to_opportunity),
                             ("mqls", rates.mql_to_sql, rates.days_mql_to_sql),
                             ("leads", rates.lead_to_mql, rates.days_lead_to_mql)):
        if rate <= 0:
            raise ValidationFailed(f"the measured rate into the next stage after {stage} is 0; widen "
                                   "lookback_days or record more history", field="lookback_days")
        prev_stage, prev_volume, prev_lag = chain[-1]
        chain.append((stage, prev_volume / rate, prev_lag + lag))
    needed = {stage: math.ceil(round(volume, 9)) for stage, volume, _ in chain}
    needed["revenue"] = math.ceil(revenue)
    per_month: dict[str, dict[str, float]] = {}
    share = 1.0 / len(months)
    for month in months:
        last_day = month.replace(day=calendar.monthrange(month.year, month.month)[1])
        mid = month + (last_day - month) / 2
        for stage, volume, lag in chain:
            when = mid - timedelta(days=lag)
            key = f"{when.year:04d}-{when.month:02d}"
            row = per_month.setdefault(key, {})
            row[stage] = row.get(stage, 0.0) + volume * share
        key = f"{month.year:04d}-{month.month:02d}"
        per_month.setdefault(key, {})["revenue"] = per_month[key].get("revenue", 0.0) + revenue * share
    return needed, dict(sorted(per_month.items()))


@dataclass(frozen=True)
class PlaybookGoal:
    """The revenue goal the playbook sets for a period, and where it comes from."""

    revenue: float
    source: str
    currency: str
    exact: bool


def playbook_goal(goals: list[Any], period_key: str, segment: str = "") -> PlaybookGoal | None:
    """Pure: the goal stated for the period, else the share (by days) of a goal whose period covers it, else None.

    `goals` are the playbook's goal terms (period, revenue, currency, segment). Days are the periods' local days,
    so a month of a quarter's goal is its days over the quarter's, whatever the time zone."""
    period = parse_period(period_key)
    label = _label(period)
    for g in goals:
        if g.period == period.label and (g.segment or "") == segment:
            return PlaybookGoal(g.revenue, f"playbook goal for {label}", g.currency, True)
    for g in goals:
        if (g.segment or "") != segment:
            continue
        try:
            covering = parse_period(g.period)
        except ValidationFailed:  # a goal with an odd period covers nothing
            continue
        if covering.start <= period.start and period.end <= covering.end and covering != period:
            share = ((period.end - period.start).days + 1) / ((covering.end - covering.start).days + 1)
            return PlaybookGoal(g.revenue * share,
                                f"{share:.0%} of the {_label(covering)} goal (pro-rated by days)", g.currency, False)
    return None


def _label(period: Period) -> str:
    from smarketing.analytics.metrics.periods import reporting_period

    return reporting_period(period.label, tz="UTC").label


def _goal_revenue(spec: GoalsQuery) -> tuple[float, str]:
    if spec.revenue is not None:
        return spec.revenue, "the revenue given"
    from smarketing.playbook.selectors import playbook_active_terms

    version, terms = playbook_active_terms()
    goal = playbook_goal(list(terms.goals), spec.period, spec.segment)
    if goal is None:
        raise ValidationFailed(f"playbook v{version.number} has no revenue goal for period {spec.period!r}"
                               + (f" and segment {spec.segment!r}" if spec.segment else "")
                               + " nor one covering it; pass --revenue", field="revenue")
    return goal.revenue, goal.source


def measure_rates(engine: Any, spec: GoalsQuery, period: Period, tz: str = "UTC") -> Rates:
    """Conversion rates, win rate, deal size and lags over the lookback window before the period."""
    import ibis  # ibis loads when a query runs, not at start-up

    start = period.start - timedelta(days=spec.lookback_days)
    end = period.start - timedelta(days=1)
    fq = FunnelQuery(from_stage="lead", to_stage="customer", start=start, end=end, timezone=tz)
    per = cohort_timeline(engine, fq)
    # steps: lead, mql, sal, sql, opportunity, customer → reached_1 = mql, reached_3 = sql, reached_4 = opp
    if spec.segment:
        con = engine.table("contacts")
        per = per.join(con.filter(con.segment == spec.segment).select(subject=con.id), "subject")
    agg = engine.execute(per.aggregate(
        leads=per.count(), mqls=per.reached_1.count(), sqls=per.reached_3.count(), opps=per.reached_4.count(),
        d_lead_mql=days_between(per.entered_at, per.reached_1).median(),
        d_mql_sql=days_between(per.reached_1, per.reached_3).median(),
        d_sql_opp=days_between(per.reached_3, per.reached_4).median(),
    )).iloc[0]
    opp = engine.table("opportunities")
    opp = opp.filter(opp.closed_at >= ts_literal(day_start(start, tz)), opp.closed_at < ts_literal(day_after(end, tz)))
    if spec.segment:
        acc = engine.table("accounts")
        seg = acc.filter(acc.segment == spec.segment).select(aid=acc.id)
        opp = opp.join(seg, opp.account_id == seg.aid).select(*opp.columns)
    won = opp.outcome == "won"
    o = engine.execute(opp.aggregate(
        won=won.sum(), lost=(opp.outcome == "lost").sum(), size=opp.amount.mean(where=won),
        # median(where=…) does not compile on Spark; nulls outside the filter are ignored everywhere.
        cycle=ibis.ifelse(won, days_between(opp.opened_at, opp.closed_at), ibis.null("float64")).median(),
    )).iloc[0]
    n_won, n_lost = int(o["won"] or 0), int(o["lost"] or 0)
    if n_won == 0:
        raise ValidationFailed(f"no opportunity was won between {start} and {end}, so there is no deal size or win "
                               "rate to plan with; widen lookback_days", field="lookback_days")

    def rate(num: Any, den: Any) -> float:
        return round(float(num) / float(den), 6) if den else 0.0

    return Rates(
        lead_to_mql=rate(agg["mqls"], agg["leads"]), mql_to_sql=rate(agg["sqls"], agg["mqls"]),
        sql_to_opportunity=rate(agg["opps"], agg["sqls"]), win_rate=rate(n_won, n_won + n_lost),
        average_deal_size=clean(o["size"], 2) or 0.0,
        days_lead_to_mql=clean(agg["d_lead_mql"]) or 0.0, days_mql_to_sql=clean(agg["d_mql_sql"]) or 0.0,
        days_sql_to_opportunity=clean(agg["d_sql_opp"]) or 0.0, days_opportunity_to_won=clean(o["cycle"]) or 0.0,
    )


def _actuals(engine: Any, spec: GoalsQuery, key: str, tz: str) -> dict[str, float]:
    """The measures counting each planned stage over the reporting period `key` (a month, the period so far)."""
    from smarketing.analytics.metrics.compute import evaluate
    from smarketing.analytics.metrics.definitions import MEASURES
    from smarketing.analytics.metrics.periods import reporting_period
    from smarketing.analytics.metrics.rows import Context
    from smarketing.core import clock

    filters = {"segment": [spec.segment]} if spec.segment else {}
    ctx = Context(engine, reporting_period(key, tz), filters, clock.now())
    return {stage: evaluate(ctx, MEASURES[name]).value or 0.0 for stage, name in ACTUAL_MEASURES.items()}


def _pacing_instant(as_of: date | None, tz: str) -> datetime:
    """Pacing runs to the end of `as_of` (local), or to now."""
    from smarketing.core import clock

    return day_after(as_of, tz) if as_of is not None else clock.now()


@query_kind("goals", spec=GoalsQuery, result=GoalsResult)
def run_goals(engine: Any, spec: GoalsQuery) -> GoalsResult:
    """Reverse waterfall from a revenue goal, with monthly targets and pacing of actuals."""
    from smarketing.analytics.metrics.periods import reporting_period, reporting_timezone

    tz = spec.timezone or reporting_timezone()
    period = parse_period(spec.period)
    revenue, goal_source = _goal_revenue(spec)
    rates = measure_rates(engine, spec, period, tz)
    needed, per_month = reverse_waterfall(revenue=revenue, rates=rates, months=period.months)
    months = [MonthTargets(month=k, targets={s: round(v, 2) for s, v in per_month[k].items()},
                           actuals={s: v for s, v in _actuals(engine, spec, k, tz).items() if s in per_month[k]})
              for k in per_month]
    whole = reporting_period(period.label, tz)
    instant = _pacing_instant(spec.as_of, tz)
    elapsed = whole.elapsed_fraction(instant)
    if elapsed <= 0:
        so_far: dict[str, float] = dict.fromkeys(ACTUAL_MEASURES, 0.0)
    elif instant >= whole.end:
        so_far = _actuals(engine, spec, whole.key, tz)
    else:
        last = (instant - timedelta(microseconds=1)).astimezone(ZoneInfo(tz)).date()
        so_far = _actuals(engine, spec, f"{whole.first_day}..{last}", tz)
    pacing = []
    for stage in (*WATERFALL, "revenue"):
        to_date = needed[stage] * elapsed
        actual = so_far[stage]
        ratio = round(actual / to_date, 4) if to_date > 0 else None
        status = "not_started" if ratio is None else "on_pace" if actual >= to_date else "behind_pace"
        pacing.append(StagePacing(stage=stage, target=needed[stage], target_to_date=round(to_date, 2),
                                  actual_to_date=round(actual, 2), pacing=ratio, status=status,
                                  measure=ACTUAL_MEASURES[stage]))
    return GoalsResult(query=spec, revenue=revenue, goal_source=goal_source, period_start=period.start, period_end=period.end,
                       elapsed=round(elapsed, 6), rates=rates, needed=needed, months=months, pacing=pacing)
