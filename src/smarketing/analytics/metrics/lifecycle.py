"""Lifecycle measures: entries into each stage (events), the MQL cohort's sales decisions, the funnel cohort.

`mqls_entered` is the MQL volume the marketing SLA judges: `lifecycle.selectors_sla.marketing_period_counts`
reads `mql_cohort_counts` below, so the SLA and the measure are one implementation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from smarketing.analytics.metrics.rows import Context, Rows, as_utc, by_contact, empty_frame, shape
from smarketing.analytics.queries.funnel import FunnelQuery, subject_timeline
from smarketing.lifecycle.enums import Decision

if TYPE_CHECKING:
    import pandas as pd

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
    sc = sc.filter(sc.contact_id.notnull(), sc.to_stage == stage, sc.occurred_at >= ctx.lo,
                   sc.occurred_at < ctx.hi)
    rows = shape(sc, row_id=sc.id, id=sc.contact_id, contact_id=sc.contact_id, occurred_at=sc.occurred_at)
    return Rows("contact", expr=by_contact(ctx, rows))


def _mql_decisions(ctx: Context) -> pd.DataFrame:
    """The period's MQL entries with `decision`: how sales answered each one so far ("" when undecided)."""

    if "mql_decisions" not in ctx.cache:
        from smarketing.lifecycle.models import StageChange
        from smarketing.lifecycle.selectors_report import mql_outcomes

        entries = stage_entries(ctx, "mql")
        assert entries.expr is not None
        frame = ctx.engine.execute(entries.expr)
        if frame.empty:
            frame = empty_frame()
        # Unsaved stand-ins carry what mql_outcomes reads (id, contact, time) without a second query.
        changes = []
        for r in frame.itertuples():
            when = as_utc(r.occurred_at)
            assert when is not None  # a stage change always has a time
            changes.append(StageChange(pk=int(r.row_id), contact_id=int(r.contact_id), occurred_at=when))
        outcomes = mql_outcomes(changes)
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


def funnel_cohort(ctx: Context, step: int) -> Rows:
    """Contacts whose first funnel stage falls in the period that reached funnel step `step` by now.

    The funnel query's own timeline (lead → customer, the same filters), bounded by the period's instants.
    """
    spec = FunnelQuery(from_stage="lead", to_stage="customer", filters=ctx.filters)
    per = subject_timeline(ctx.engine, spec)
    per = per.filter(per.entered_at >= ctx.lo, per.entered_at < ctx.hi)
    at = per.entered_at if step == 0 else per[f"reached_{step}"]
    per = per.filter(at.notnull())
    return Rows("contact", expr=shape(per, row_id=per.subject, id=per.subject, contact_id=per.subject, occurred_at=at))


IMPLEMENTATIONS: dict[str, Callable[[Context], Rows]] = {
    **{name: partial(stage_entries, stage=stage) for name, stage in ENTRY_STAGES.items()},
    **{name: partial(mql_decided, decision=decision) for name, decision in DECISIONS.items()},
    **{name: partial(funnel_cohort, step=step) for name, step in COHORT_STEPS.items()},
}
RATIOS: dict[str, tuple[Callable[[Context], Rows], Callable[[Context], Rows]]] = {
    "mql_acceptance_rate": (partial(mql_decided, decision=Decision.ACCEPT), mql_all_decided),
}
