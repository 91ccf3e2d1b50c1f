"""Goals on the funnel's scale: the reverse waterfall from a revenue goal, and pacing of actuals against it.

Measured over a lookback window before the period: the conversion rates lead→MQL→SQL→opportunity, the win
rate and average deal size of closed opportunities, and the median lags between stages. `reverse_waterfall`
(pure) turns them into the leads, MQLs, SQLs, opportunities and deals needed, placing each stage's target in
the month it must happen so the deals land inside the period. Pacing compares first entries per month.
"""

from __future__ import annotations

import calendar
import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
from pydantic import Field, model_validator

from smarketing.analytics.queries.common import (
    clean,
    day_after,
    day_start,
    days_between,
    reached_set,
    ts_literal,
)
from smarketing.analytics.queries.funnel import FunnelQuery, subject_timeline
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.core.errors import ValidationFailed

PERIOD_RE = re.compile(r"^(\d{4})(?:-Q([1-4])|-(\d{2}))?$")
WATERFALL = ("leads", "mqls", "sqls", "opportunities", "deals")
STAGE_OF = {"leads": "lead", "mqls": "mql", "sqls": "sql"}


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
    """`2026`, `2026-Q4` or `2026-11` → the period's first and last day."""
    match = PERIOD_RE.match(label.strip())
    if not match or (match.group(3) and not 1 <= int(match.group(3)) <= 12):
        raise ValidationFailed(f"period {label!r} is not a year, quarter or month (2026, 2026-Q4, 2026-11)",
                               field="period")
    year = int(match.group(1))
    if match.group(2):
        q = int(match.group(2))
        start = date(year, 3 * q - 2, 1)
        end = _add_months(start, 3) - timedelta(days=1)
    elif match.group(3):
        start = date(year, int(match.group(3)), 1)
        end = start.replace(day=calendar.monthrange(year, start.month)[1])
    else:
        start, end = date(year, 1, 1), date(year, 12, 31)
    return Period(label.strip(), start, end)


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
    status: str


class GoalsQuery(QuerySpec):
    """A revenue goal for a period (taken from the playbook's goals when revenue is omitted)."""

    period: str
    revenue: float | None = Field(default=None, gt=0)
    segment: str = ""
    lookback_days: int = Field(default=365, ge=30, le=3650, description="History used to measure rates")
    as_of: date | None = Field(default=None, description="Pacing date (default: today)")

    @model_validator(mode="after")
    def _check(self) -> GoalsQuery:
        parse_period(self.period)
        return self


class GoalsResult(QueryResult):
    query: GoalsQuery
    revenue: float
    period_start: date
    period_end: date
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


def _goal_revenue(spec: GoalsQuery) -> float:
    if spec.revenue is not None:
        return spec.revenue
    from smarketing.playbook.selectors import playbook_active_terms

    version, terms = playbook_active_terms()
    for goal in terms.goals:
        if goal.period == parse_period(spec.period).label and goal.segment == spec.segment:
            return goal.revenue
    raise ValidationFailed(f"playbook v{version.number} has no revenue goal for period {spec.period!r}"
                           + (f" and segment {spec.segment!r}" if spec.segment else "") + "; pass --revenue",
                           field="revenue")


def measure_rates(engine: Any, spec: GoalsQuery, period: Period) -> Rates:
    """Conversion rates, win rate, deal size and lags over the lookback window before the period."""
    start = period.start - timedelta(days=spec.lookback_days)
    end = period.start - timedelta(days=1)
    fq = FunnelQuery(from_stage="lead", to_stage="customer", start=start, end=end)
    per = subject_timeline(engine, fq)
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
    opp = opp.filter(opp.closed_at >= ts_literal(day_start(start)), opp.closed_at < ts_literal(day_after(end)))
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


def _actuals(engine: Any, spec: GoalsQuery, first: date, last: date) -> dict[str, dict[str, float]]:
    """First entries per month into each stage, opportunities opened, deals and revenue won."""
    lo, hi = ts_literal(day_start(first)), ts_literal(day_after(last))
    out: dict[str, dict[str, float]] = {}

    def month_key(ts: Any) -> Any:
        return (ts.year() * 100 + ts.month()).name("ym")

    sc = engine.table("stage_changes")
    sc = sc.filter(sc.contact_id.notnull())
    if spec.segment:
        con = engine.table("contacts")
        seg = con.filter(con.segment == spec.segment).select(cid=con.id)
        sc = sc.join(seg, sc.contact_id == seg.cid).select(*sc.columns)
    for name, stage in STAGE_OF.items():
        firsts = (sc.filter(sc.to_stage.isin(reached_set(stage))).group_by("contact_id")
                  .aggregate(at=sc.occurred_at.min()))
        firsts = firsts.filter(firsts.at >= lo, firsts.at < hi)
        frame = engine.execute(firsts.group_by(month_key(firsts.at)).aggregate(n=firsts.count()))
        for ym, n in zip(frame["ym"], frame["n"], strict=True):
            out.setdefault(f"{int(ym) // 100:04d}-{int(ym) % 100:02d}", {})[name] = float(n)
    opp = engine.table("opportunities")
    if spec.segment:
        acc = engine.table("accounts")
        seg = acc.filter(acc.segment == spec.segment).select(aid=acc.id)
        opp = opp.join(seg, opp.account_id == seg.aid).select(*opp.columns)
    opened = opp.filter(opp.opened_at >= lo, opp.opened_at < hi)
    frame = engine.execute(opened.group_by(month_key(opened.opened_at)).aggregate(n=opened.count()))
    for ym, n in zip(frame["ym"], frame["n"], strict=True):
        out.setdefault(f"{int(ym) // 100:04d}-{int(ym) % 100:02d}", {})["opportunities"] = float(n)
    won = opp.filter(opp.outcome == "won", opp.closed_at >= lo, opp.closed_at < hi)
    frame = engine.execute(won.group_by(month_key(won.closed_at)).aggregate(n=won.count(), v=won.amount.sum()))
    for ym, n, v in zip(frame["ym"], frame["n"], frame["v"], strict=True):
        row = out.setdefault(f"{int(ym) // 100:04d}-{int(ym) % 100:02d}", {})
        row["deals"], row["revenue"] = float(n), round(float(v), 2)
    return out


def _elapsed_share(month: str, as_of: date) -> float:
    """How much of a month's target should be done by `as_of` (0 before, 1 after, pro rata within)."""
    y, m = int(month[:4]), int(month[5:])
    first = date(y, m, 1)
    days = calendar.monthrange(y, m)[1]
    if as_of < first:
        return 0.0
    if as_of >= first + timedelta(days=days - 1):
        return 1.0
    return (as_of - first).days / days + 1 / days


@query_kind("goals", spec=GoalsQuery, result=GoalsResult)
def run_goals(engine: Any, spec: GoalsQuery) -> GoalsResult:
    """Reverse waterfall from a revenue goal, with monthly targets and pacing of actuals."""
    from smarketing.core import clock

    period = parse_period(spec.period)
    revenue = _goal_revenue(spec)
    rates = measure_rates(engine, spec, period)
    needed, per_month = reverse_waterfall(revenue=revenue, rates=rates, months=period.months)
    keys = list(per_month)
    first = date(int(keys[0][:4]), int(keys[0][5:]), 1)
    last = period.end
    actuals = _actuals(engine, spec, first, last)
    as_of = spec.as_of or clock.now().date()
    months = [MonthTargets(month=k, targets={s: round(v, 2) for s, v in per_month[k].items()},
                           actuals={s: actuals.get(k, {}).get(s, 0.0) for s in per_month[k]})
              for k in keys]
    pacing = []
    for stage in (*WATERFALL, "revenue"):
        to_date = sum(m.targets.get(stage, 0.0) * _elapsed_share(m.month, as_of) for m in months)
        actual = sum(m.actuals.get(stage, 0.0) * (1.0 if _elapsed_share(m.month, as_of) > 0 else 0.0)
                     for m in months)
        ratio = round(actual / to_date, 4) if to_date > 0 else None
        status = ("not_started" if ratio is None else "ahead" if ratio >= 1.05 else
                  "on_track" if ratio >= 0.95 else "behind")
        pacing.append(StagePacing(stage=stage, target=needed[stage], target_to_date=round(to_date, 2),
                                  actual_to_date=round(actual, 2), pacing=ratio, status=status))
    return GoalsResult(query=spec, revenue=revenue, period_start=period.start, period_end=period.end, rates=rates,
                       needed=needed, months=months, pacing=pacing)

