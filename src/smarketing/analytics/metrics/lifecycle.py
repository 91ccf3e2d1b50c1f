"""Lifecycle measures: entries into each stage (events), the MQL cohort's sales decisions, the funnel cohort.

`mqls_entered` is the MQL volume the marketing SLA judges: `lifecycle.selectors_sla.marketing_period_counts`
reads `mql_cohort_counts` below, so the SLA and the measure are one implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from smarketing.analytics.metrics.rows import (
    Context,
    Rows,
    by_contact,
    count_in_period,
    empty_frame,
    shape,
    sorted_times,
)
from smarketing.analytics.queries.funnel import FunnelQuery, subject_timeline
from smarketing.lifecycle.enums import Decision

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import pandas as pd

    from smarketing.lifecycle.models import StageChange

# measure name → the stage its entries count
ENTRY_STAGES: dict[str, str] = {
    "leads_created": "lead", "mqls_entered": "mql", "sals_entered": "sal", "sqls_entered": "sql",
    "opportunities_entered": "opportunity", "customers_entered": "customer", "recycled_entered": "recycled",
    "disqualified_entered": "disqualified",
}
# measure name → the decision it counts on the MQL cohort ("" = not decided yet)
DECISIONS: dict[str, str] = {
    "mqls_accepted": Decision.ACCEPT, "mqls_rejected": Decision.REJECT, "mqls_recycled": Decision.RECYCLE,
    "mqls_awaiting_decision": "",
}
# measure name → the step of the lead → customer funnel (lead, mql, sal, sql, opportunity, customer)
COHORT_STEPS: dict[str, int] = {
    "cohort_entered": 0, "cohort_reached_mql": 1, "cohort_reached_sal": 2, "cohort_reached_sql": 3, "cohort_reached_opportunity": 4,
    "cohort_reached_customer": 5,
}


def stage_entries(ctx: Context, stage: str) -> Rows:
    """Stage changes of contacts into `stage` in the period; each entry is a row (re-entries count again)."""
    sc = ctx.engine.table("stage_changes")
    contacts = sc.filter(sc.contact_id.notnull())
    sc = contacts.filter(sc.to_stage == stage, sc.occurred_at >= ctx.lo, sc.occurred_at < ctx.hi)
    rows = shape(sc, row_id=sc.id, id=sc.contact_id, contact_id=sc.contact_id, occurred_at=sc.occurred_at)
    counted = None
    if not ctx.filters:
        times = sorted_times(ctx, "contact_stage_entries", contacts, "to_stage", "occurred_at")
        counted = count_in_period(ctx, times.get(stage)) if times is not None else None
    return Rows("contact", expr=by_contact(ctx, rows), counted=counted)


class _MqlEntry(NamedTuple):
    """An MQL entry as `mql_outcomes` reads a stage change: its id, contact and time."""

    pk: int
    contact_id: int
    occurred_at: datetime


def _utc_datetimes(times: pd.Series) -> list[datetime]:
    """Each engine timestamp as an aware UTC datetime, as `as_utc` gives it (Spark's come naive, in UTC)."""
    import pandas as pd  # pandas loads when a measure is computed, not at start-up

    stamps = pd.DatetimeIndex(pd.to_datetime(times))
    stamps = stamps.tz_localize("UTC") if stamps.tz is None else stamps.tz_convert("UTC")
    return list(stamps.to_pydatetime())


def _mql_decisions(ctx: Context) -> pd.DataFrame:
    """The period's MQL entries with `decision`: how sales answered each one so far ("" when undecided)."""

    if "mql_decisions" not in ctx.cache:
        from smarketing.lifecycle.selectors_report import mql_outcomes

        entries = stage_entries(ctx, "mql")
        assert entries.expr is not None
        frame = ctx.engine.execute(entries.expr)
        if frame.empty:
            frame = empty_frame()
        # Stand-ins carry what mql_outcomes reads (id, contact, time) without a second query: plain tuples, as
        # building thousands of unsaved StageChange instances took longer than the query (a quarter's MQLs on a
        # large CRM: 0.2 s of model initialisation).
        changes = [_MqlEntry(int(pk), int(contact), when) for pk, contact, when in
                   zip(frame["row_id"], frame["contact_id"], _utc_datetimes(frame["occurred_at"]), strict=True)]
        outcomes = mql_outcomes(cast("list[StageChange]", changes))
        frame = frame.assign(decision=[outcomes[c.pk].decision if c.pk in outcomes else "" for c in changes])
        ctx.cache["mql_decisions"] = frame
    decided: pd.DataFrame = ctx.cache["mql_decisions"]
    return decided


def mql_decided(ctx: Context, decision: str) -> Rows:
    """The period's MQL entries on which sales decided `decision` ("" = not decided yet)."""
    frame = _mql_decisions(ctx)
    return Rows("contact", frame=frame[frame["decision"] == decision].drop(columns="decision"))


def mql_all_decided(ctx: Context) -> Rows:
    """The period's MQL entries on which sales decided (accepted, rejected or recycled): the rate's denominator."""
    frame = _mql_decisions(ctx)
    return Rows("contact", frame=frame[frame["decision"] != ""].drop(columns="decision"))


def mql_cohort_counts(*, start: datetime, end: datetime, engine: Any = None) -> dict[str, int]:
    """MQLs that entered in [start, end) and how sales decided on them (the marketing SLA's counts)."""
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.metrics.periods import ReportingPeriod
    from smarketing.core import clock

    period = ReportingPeriod(key="", label="", start=start, end=end, timezone="UTC")
    if engine is None:
        with open_engine() as eng:
            return mql_cohort_counts(start=start, end=end, engine=eng)
    ctx = Context(engine, period, {}, clock.now())
    frame = _mql_decisions(ctx)
    by = frame["decision"].value_counts().to_dict()
    return {"mql_volume": len(frame), "accepted": int(by.get(Decision.ACCEPT, 0)),
            "rejected": int(by.get(Decision.REJECT, 0)), "recycled": int(by.get(Decision.RECYCLE, 0))}


def _cohort_timeline(ctx: Context) -> ir.Table:
    """The funnel query's own timeline (lead → customer, the same filters) of the contacts whose first funnel stage
    falls in the period's instants (built once per evaluation: each step's measure reads it)."""
    if "cohort_timeline" not in ctx.cache:
        spec = FunnelQuery(from_stage="lead", to_stage="customer", filters=ctx.filters)
        per = subject_timeline(ctx.engine, spec)
        ctx.cache["cohort_timeline"] = per.filter(per.entered_at >= ctx.lo, per.entered_at < ctx.hi)
    timeline: ir.Table = ctx.cache["cohort_timeline"]
    return timeline


def _step_at(per: ir.Table, step: int) -> ir.Column:
    return per.entered_at if step == 0 else per[f"reached_{step}"]


def _cohort_counts(ctx: Context) -> dict[int, int]:
    """How many of the cohort reached each funnel step: one query for every step (a page shows them together, and
    each step on its own would build the timeline of the whole history again)."""
    if "cohort_counts" not in ctx.cache:
        per = _cohort_timeline(ctx)
        row = ctx.engine.execute(per.aggregate(**{f"s{step}": _step_at(per, step).count()
                                                  for step in COHORT_STEPS.values()})).iloc[0]
        ctx.cache["cohort_counts"] = {step: int(row[f"s{step}"]) for step in COHORT_STEPS.values()}
    counts: dict[int, int] = ctx.cache["cohort_counts"]
    return counts


def funnel_cohort(ctx: Context, step: int) -> Rows:
    """Contacts whose first funnel stage falls in the period that reached funnel step `step` by now."""
    per = _cohort_timeline(ctx)
    at = _step_at(per, step)
    per = per.filter(at.notnull())
    return Rows("contact", expr=shape(per, row_id=per.subject, id=per.subject, contact_id=per.subject, occurred_at=at),
                counted=_cohort_counts(ctx)[step])


IMPLEMENTATIONS: dict[str, Callable[[Context], Rows]] = {
    **{name: partial(stage_entries, stage=stage) for name, stage in ENTRY_STAGES.items()},
    **{name: partial(mql_decided, decision=decision) for name, decision in DECISIONS.items()},
    **{name: partial(funnel_cohort, step=step) for name, step in COHORT_STEPS.items()},
}
RATIOS: dict[str, tuple[Callable[[Context], Rows], Callable[[Context], Rows]]] = {
    "mql_acceptance_rate": (partial(mql_decided, decision=Decision.ACCEPT), mql_all_decided),
}
