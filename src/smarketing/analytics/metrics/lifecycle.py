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
    kept,
    period_slice,
    shape,
    sorted_times,
)
from smarketing.analytics.queries.funnel import FunnelQuery, subject_timeline
from smarketing.analytics.queries.kept import COHORT_STEPS_KEPT, MQL_DECISIONS_KEPT
from smarketing.lifecycle.enums import Decision

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
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


def _contact_entries(ctx: Context, stage: str) -> ir.Table:
    """Stage changes of contacts into `stage` over the whole history, as measure rows (filters not applied)."""
    sc = ctx.engine.table("stage_changes")
    sc = sc.filter(sc.contact_id.notnull(), sc.to_stage == stage)
    return shape(sc, row_id=sc.id, id=sc.contact_id, contact_id=sc.contact_id, occurred_at=sc.occurred_at)


def stage_entries(ctx: Context, stage: str) -> Rows:
    """Stage changes of contacts into `stage` in the period; each entry is a row (re-entries count again)."""
    def build() -> ir.Table:
        rows = _contact_entries(ctx, stage)
        return by_contact(ctx, rows.filter(rows.occurred_at >= ctx.lo, rows.occurred_at < ctx.hi))

    counted = None
    if not ctx.filters:
        def of_contacts() -> ir.Table:
            sc = ctx.engine.table("stage_changes")
            return sc.filter(sc.contact_id.notnull())

        times = sorted_times(ctx, "contact_stage_entries", of_contacts, "to_stage", "occurred_at",
                             datasets=("stage_changes",))
        counted = count_in_period(ctx, times.get(stage)) if times is not None else None
    return Rows("contact", build=build, counted=counted)


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


def _decided(entries: pd.DataFrame) -> pd.DataFrame:
    """MQL entries (measure rows) with `decision`: how sales answered each one so far ("" when undecided), as
    `lifecycle.selectors_report.mql_outcomes` judges it."""
    from smarketing.lifecycle.selectors_report import mql_outcomes

    # Stand-ins carry what mql_outcomes reads (id, contact, time) without a second query: plain tuples, as building
    # thousands of unsaved StageChange instances took longer than the query (a quarter's MQLs on a large CRM: 0.2 s
    # of model initialisation).
    changes = [_MqlEntry(int(pk), int(contact), when) for pk, contact, when in
               zip(entries["row_id"], entries["contact_id"], _utc_datetimes(entries["occurred_at"]), strict=True)]
    outcomes: dict[int, Any] = {}
    for at in range(0, len(changes), _OUTCOMES_CHUNK):
        outcomes.update(mql_outcomes(cast("list[StageChange]", changes[at:at + _OUTCOMES_CHUNK])))
    return entries.assign(decision=[outcomes[c.pk].decision if c.pk in outcomes else "" for c in changes])


# MQL entries judged per call of `mql_outcomes` (its queries name each entry's id and contact: under SQLite's limit
# of bound parameters however long the history).
_OUTCOMES_CHUNK = 10_000


def _decided_history(ctx: Context) -> tuple[np.ndarray, pd.DataFrame] | None:
    """Every MQL entry of the history with its decision, in order of time (then id), and their epoch microseconds:
    an entry's decision does not depend on the period asked for, so a period's are a slice of these. Kept (`kept`)
    where the engine's memo is carried to later computations and no filter applies; None otherwise."""
    if ctx.filters:
        return None

    def read() -> tuple[np.ndarray, pd.DataFrame]:
        import numpy as np  # NumPy and pandas load when a measure is computed, not at start-up
        import pandas as pd

        from smarketing.lifecycle.selectors_report import mql_decision_list

        frame = ctx.engine.execute(_contact_entries(ctx, "mql"))
        if frame.empty:
            return np.zeros(0, dtype=np.int64), _decided(empty_frame())
        frame = frame.sort_values(["occurred_at", "row_id"], kind="stable").reset_index(drop=True)
        # Every entry's decision in one query (`mql_decision_list`, as `mql_outcomes` judges it), by id: the
        # period's path (`_decided`) sends the ids and builds a decision instance each, a second on a large CRM.
        listed = mql_decision_list()
        decided = pd.Series([decision for _, decision in listed], dtype=object,
                            index=pd.Index([pk for pk, _ in listed], dtype=np.int64))
        frame = frame.assign(decision=frame["row_id"].map(decided).fillna("").to_numpy(dtype=object))
        return pd.DatetimeIndex(frame["occurred_at"]).as_unit("us").asi8, frame

    return kept(ctx, MQL_DECISIONS_KEPT, read, carried_only=True)


def _mql_decisions(ctx: Context) -> pd.DataFrame:
    """The period's MQL entries with `decision`: how sales answered each one so far ("" when undecided)."""
    if "mql_decisions" not in ctx.cache:
        history = _decided_history(ctx)
        if history is not None:
            micros, decided = history
            frame = decided.iloc[period_slice(ctx, micros)].reset_index(drop=True)
        else:
            frame = ctx.engine.execute(stage_entries(ctx, "mql").query())
            frame = _decided(empty_frame() if frame.empty else frame)
        ctx.cache["mql_decisions"] = frame
    found: pd.DataFrame = ctx.cache["mql_decisions"]
    return found


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


def _cohort_steps(ctx: Context) -> tuple[np.ndarray, dict[int, np.ndarray]] | None:
    """Unfiltered, on an embedded engine: the funnel timeline of every subject of the history (`_cohort_timeline`
    before the period), as its entry instants sorted (epoch microseconds) and per later step the running count of
    those subjects that reached it, so a period's cohort counts are two binary searches (`kept`). None otherwise."""
    if ctx.filters:
        return None

    def read() -> tuple[np.ndarray, dict[int, np.ndarray]]:
        import numpy as np  # loads when a measure is computed, not at start-up

        from smarketing.analytics.queries.common import epoch_micros

        steps = [step for step in COHORT_STEPS.values() if step]
        per = subject_timeline(ctx.engine, FunnelQuery(from_stage="lead", to_stage="customer"))
        t = ctx.engine.to_arrow(per.select("entered_at", *(f"reached_{step}" for step in steps)))
        entered = epoch_micros(t["entered_at"])
        order = np.argsort(entered, kind="stable")
        missing = np.iinfo(np.int64).max  # how epoch_micros reads a step not reached
        reached = {step: np.concatenate(([0], np.cumsum(epoch_micros(t[f"reached_{step}"])[order] != missing)))
                   for step in steps}
        return entered[order], reached

    return kept(ctx, COHORT_STEPS_KEPT, read)


def _cohort_counts(ctx: Context) -> dict[int, int]:
    """How many of the cohort reached each funnel step: one query for every step (a page shows them together, and
    each step on its own would build the timeline of the whole history again), or a slice of the kept steps."""
    if "cohort_counts" not in ctx.cache:
        kept_steps = _cohort_steps(ctx)
        if kept_steps is not None:
            entered, reached = kept_steps
            span = period_slice(ctx, entered)
            counts = {step: (span.stop - span.start if step == 0 else int(reached[step][span.stop] -
                                                                            reached[step][span.start]))
                      for step in COHORT_STEPS.values()}
        else:
            per = _cohort_timeline(ctx)
            row = ctx.engine.execute(per.aggregate(**{f"s{step}": _step_at(per, step).count()
                                                      for step in COHORT_STEPS.values()})).iloc[0]
            counts = {step: int(row[f"s{step}"]) for step in COHORT_STEPS.values()}
        ctx.cache["cohort_counts"] = counts
    found: dict[int, int] = ctx.cache["cohort_counts"]
    return found


def funnel_cohort(ctx: Context, step: int) -> Rows:
    """Contacts whose first funnel stage falls in the period that reached funnel step `step` by now."""
    def build() -> ir.Table:
        per = _cohort_timeline(ctx)
        at = _step_at(per, step)
        per = per.filter(at.notnull())
        return shape(per, row_id=per.subject, id=per.subject, contact_id=per.subject, occurred_at=at)

    return Rows("contact", build=build, counted=_cohort_counts(ctx)[step])


IMPLEMENTATIONS: dict[str, Callable[[Context], Rows]] = {
    **{name: partial(stage_entries, stage=stage) for name, stage in ENTRY_STAGES.items()},
    **{name: partial(mql_decided, decision=decision) for name, decision in DECISIONS.items()},
    **{name: partial(funnel_cohort, step=step) for name, step in COHORT_STEPS.items()},
}
RATIOS: dict[str, tuple[Callable[[Context], Rows], Callable[[Context], Rows]]] = {
    "mql_acceptance_rate": (partial(mql_decided, decision=Decision.ACCEPT), mql_all_decided),
}
