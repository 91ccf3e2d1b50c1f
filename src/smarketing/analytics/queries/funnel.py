"""Funnel: volume, conversion, velocity and value between two lifecycle stages.

Cohort: every subject (contact or account) that reached `from_stage` (or a later funnel stage — skips count),
entering at its first such change, optionally only entries inside [start, end]. A subject converts when it
reaches `to_stage` (or later) at or after entering, within `window_days` if given. Every intermediate funnel
stage is a step with its own volume and lag. Opportunities of the subject give value and outcome.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from smarketing.analytics.queries.common import (
    FUNNEL_KEYS,
    check_stage,
    check_timezone,
    clean,
    day_after,
    day_start,
    days_between,
    ratio,
    reached_set,
    ts_literal,
)
from smarketing.analytics.queries.kept import funnel_timeline_kept, kept_in
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.core.errors import ValidationFailed

if TYPE_CHECKING:
    import ibis
    import ibis.expr.types as ir
    import pandas as pd

Level = Literal["contact", "account"]
GROUP_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("source", "campaign", "segment", "owner", "cohort_month", "country"),
    "account": ("segment", "owner", "cohort_month", "industry", "region"),
}
OUTCOMES = ("won", "lost", "open", "none")
NONE_LABEL = "(none)"
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


class FunnelQuery(QuerySpec):
    """Which stages, which subjects, which cohort window, grouped how."""

    from_stage: str = Field(description="Lifecycle stage the cohort enters, e.g. mql")
    to_stage: str = Field(description="Lifecycle stage that counts as converted, e.g. customer")
    level: Level = "contact"
    by: str | None = Field(default=None, description="Group field: source, campaign, segment, owner, cohort_month…")
    start: date | None = Field(default=None, description="First day of entries into from_stage")
    end: date | None = Field(default=None, description="Last day (inclusive) of entries into from_stage")
    timezone: str | None = Field(default=None, description="Time zone of the start/end days (default UTC), e.g. "
                                 "the reporting time zone so the days are a reporting period's")
    window_days: float | None = Field(default=None, gt=0, description="Count conversions only within N days")
    filters: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Only subjects whose group field has one of the values, e.g. {\"source\": [\"webinar\", "
                    "\"referral\"], \"segment\": [\"enterprise\"]}: fields ANDed, values ORed; the keys groups "
                    "report (\"(none)\" for a missing value, user ids for owner, YYYY-MM for cohort_month)")

    @field_validator("filters", mode="after")
    @classmethod
    def _canonical_filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        # One spelling per meaning, so equal filters share cached results and read the same in exports.
        return {name: sorted(set(values)) for name, values in sorted(value.items())}

    @model_validator(mode="after")
    def _check(self) -> FunnelQuery:
        check_stage(self.from_stage, "from_stage")
        check_stage(self.to_stage, "to_stage")
        if self.from_stage == self.to_stage:
            raise ValidationFailed("to_stage must differ from from_stage", field="to_stage")
        if (self.from_stage in FUNNEL_KEYS and self.to_stage in FUNNEL_KEYS
                and FUNNEL_KEYS.index(self.to_stage) < FUNNEL_KEYS.index(self.from_stage)):
            raise ValidationFailed(f"to_stage {self.to_stage!r} comes before from_stage {self.from_stage!r} in the "
                                   f"funnel {FUNNEL_KEYS}", field="to_stage")
        check_timezone(self.timezone)
        if self.start and self.end and self.end < self.start:
            raise ValidationFailed(f"the date range is empty: end {self.end} is before start {self.start}", field="end")
        if self.by is not None and self.by not in GROUP_FIELDS[self.level]:
            raise ValidationFailed(f"cannot group {self.level} funnels by {self.by!r}; use one of "
                                   f"{list(GROUP_FIELDS[self.level])}", field="by")
        for name, values in self.filters.items():
            _check_filter(self.level, name, values)
        return self

    @property
    def steps(self) -> list[str]:
        if self.from_stage in FUNNEL_KEYS and self.to_stage in FUNNEL_KEYS:
            return FUNNEL_KEYS[FUNNEL_KEYS.index(self.from_stage): FUNNEL_KEYS.index(self.to_stage) + 1]
        return [self.from_stage, self.to_stage]


def _check_filter(level: Level, name: str, values: list[str]) -> None:
    path = f"filters.{name}"
    if name not in GROUP_FIELDS[level]:
        raise ValidationFailed(f"{path}: cannot filter {level} funnels on {name!r}; use one of "
                               f"{list(GROUP_FIELDS[level])}", field=path)
    if not values:
        raise ValidationFailed(f"{path} has no values; give at least one (values of one field are ORed)", field=path)
    for value in values:
        if value == "":
            raise ValidationFailed(f"{path} has an empty value; use {NONE_LABEL!r} for subjects without a {name}",
                                   field=path)
        if name == "cohort_month" and not _MONTH.fullmatch(value):
            raise ValidationFailed(f"{path} value {value!r} is not a month; use YYYY-MM, e.g. 2026-01", field=path)
        if name == "owner" and not (value.isdigit() or value == NONE_LABEL):
            raise ValidationFailed(f"{path} value {value!r} is not a user id; owners are filtered by id (or "
                                   f"{NONE_LABEL!r} for unowned)", field=path)


def filters_from_terms(terms: Iterable[str], *, sep: str, source: str) -> dict[str, list[str]]:
    """Repeated `field<sep>value` terms (`--where source=webinar`, `filter=source:webinar`) as a filters mapping."""
    filters: dict[str, list[str]] = {}
    for term in terms:
        name, found, value = term.partition(sep)
        if not found or not name.strip():
            raise ValidationFailed(f"{source} {term!r} is not field{sep}value, e.g. source{sep}webinar", field=source)
        filters.setdefault(name.strip(), []).append(value.strip())
    return filters


def describe_filters(filters: dict[str, list[str]]) -> str:
    """`source in (referral, webinar); segment = enterprise`, or "" without filters (titles of tables, exports)."""
    return "; ".join(f"{name} = {values[0]}" if len(values) == 1 else f"{name} in ({', '.join(values)})"
                     for name, values in filters.items())


class FunnelStep(QueryResult):
    stage: str
    reached: int
    conversion_from_previous: float | None
    conversion_from_start: float | None
    median_days_from_previous: float | None
    mean_days_from_previous: float | None


class FunnelGroup(QueryResult):
    key: str
    entered: int
    converted: int
    conversion_rate: float | None
    median_days_to_convert: float | None
    mean_days_to_convert: float | None
    median_days_in_stage: float | None = Field(description="Time from entering from_stage to leaving it (subjects "
                                                           "that were in it and left)")
    mean_days_in_stage: float | None
    pipeline_value: float = Field(description="Opportunity amounts of converted subjects")
    won_value: float
    outcomes: dict[str, int] = Field(description="Cohort split by the best outcome of its opportunities")
    steps: list[FunnelStep]


class FunnelResult(QueryResult):
    query: FunnelQuery
    stages: list[str]
    total: FunnelGroup
    groups: list[FunnelGroup]


def stage_events(engine: Any, level: Level) -> ir.Table:
    """(subject, to_stage, occurred_at): an account's history includes the changes of its contacts."""
    import ibis  # ibis loads when a query runs, not at start-up

    sc = engine.table("stage_changes")
    if level == "contact":
        sc = sc.filter(sc.contact_id.notnull())
        return sc.select(subject=sc.contact_id, from_stage=sc.from_stage, to_stage=sc.to_stage,
                         occurred_at=sc.occurred_at)
    con = engine.table("contacts").select(cid=lambda t: t.id, contact_account=lambda t: t.account_id)
    j = sc.join(con, sc.contact_id == con.cid, how="left")
    j = j.mutate(subject=ibis.coalesce(j.account_id, j.contact_account))
    return j.filter(j.subject.notnull()).select("subject", "from_stage", "to_stage", "occurred_at")


def subject_timeline(engine: Any, spec: FunnelQuery) -> ir.Table:
    """One row per cohort subject: entered_at, reached_<k> per step, stage_in_at/stage_out_at (window applied)."""
    per = _whole_timeline(engine, spec)
    if spec.start is not None:
        per = per.filter(per.entered_at >= ts_literal(day_start(spec.start, spec.timezone)))
    if spec.end is not None:
        per = per.filter(per.entered_at < ts_literal(day_after(spec.end, spec.timezone)))
    return _narrowed(engine, spec, per)


def _whole_timeline(engine: Any, spec: FunnelQuery) -> ir.Table:
    """`subject_timeline` over the whole history: every subject that entered, whenever (no dates, filters or
    window)."""
    sc = stage_events(engine, spec.level)
    in_stage = {"stage_in_at": sc.occurred_at.min(where=sc.to_stage == spec.from_stage),
                "stage_out_at": sc.occurred_at.min(where=sc.from_stage == spec.from_stage)}
    if _all_funnel_stages(spec):
        # Reaching a later funnel stage implies having reached the entry one, so every reached_k is at or after
        # entered_at by construction: one pass over the history, no join back.
        aggs: dict[str, Any] = {"entered_at": sc.occurred_at.min(where=sc.to_stage.isin(reached_set(spec.from_stage))),
                                **in_stage}
        for k, stage in enumerate(spec.steps[1:], start=1):
            aggs[f"reached_{k}"] = sc.occurred_at.min(where=sc.to_stage.isin(reached_set(stage)))
        per = sc.group_by("subject").aggregate(**aggs)
        return per.filter(per.entered_at.notnull())
    entered = (sc.filter(sc.to_stage.isin(reached_set(spec.from_stage)))
               .group_by("subject").aggregate(entered_at=sc.occurred_at.min()))
    j = sc.join(entered, "subject")
    stays = sc.group_by("subject").aggregate(**in_stage)
    j = j.filter(j.occurred_at >= j.entered_at)
    aggs = {"entered_at": j.entered_at.min()}
    for k, stage in enumerate(spec.steps[1:], start=1):
        aggs[f"reached_{k}"] = j.occurred_at.min(where=j.to_stage.isin(reached_set(stage)))
    return j.group_by("subject").aggregate(**aggs).join(stays, "subject")


def _all_funnel_stages(spec: FunnelQuery) -> bool:
    return all(stage in FUNNEL_KEYS for stage in spec.steps)


def _narrowed(engine: Any, spec: FunnelQuery, per: ir.Table) -> ir.Table:
    """The cohort timeline `per` narrowed by the spec's filters, its steps cut at the window."""
    import ibis  # ibis loads when a query runs, not at start-up

    for name, values in spec.filters.items():
        wanted = [v.replace("-", "") for v in values] if name == "cohort_month" else values
        keyed = _with_key(engine, spec.level, name, per, "filter_key")
        per = keyed.filter(keyed.filter_key.isin(wanted)).drop("filter_key")
    if spec.window_days is not None:
        limit = spec.window_days
        per = per.mutate(**{
            f"reached_{k}": ibis.ifelse(days_between(per.entered_at, per[f"reached_{k}"]) <= limit,
                                        per[f"reached_{k}"], ibis.null("timestamp('UTC', 6)"))
            for k in range(1, len(spec.steps))
        })
    return per


# The name the kept timeline's rows of one cohort are registered under in an engine's connection (`cohort_timeline`).
KEPT_COHORT = "kept_funnel_cohort"


def cohort_timeline(engine: Any, spec: FunnelQuery) -> ir.Table:
    """`subject_timeline`, read where an embedded engine's memo is carried to later computations (the web's figure
    tasks) from the whole history's timeline, kept for every period (`metrics.rows.kept`): the rows whose entry falls
    in [start, end) by binary search, registered in the engine's connection, so the expression names no date and its
    SQL is compiled once per process. The same rows as `subject_timeline` (only their order may differ)."""
    schema = _kept_slice(engine, spec)
    return subject_timeline(engine, spec) if schema is None else _kept_rows(engine, spec, schema)


def _kept_slice(engine: Any, spec: FunnelQuery) -> ibis.Schema | None:
    """Register the spec's cohort, sliced off the kept whole-history timeline, as `KEPT_COHORT` in the engine's
    connection and return its schema; None where nothing is kept (see `cohort_timeline`)."""
    import numpy as np  # loads when a query runs, not at start-up

    from smarketing.analytics.queries.common import instant_micros

    last = FUNNEL_KEYS[-1]
    if not _all_funnel_stages(spec) or spec.from_stage == last:
        return None
    # Every later funnel stage is a step of the chain up to the last one, so one timeline per (level, from_stage)
    # serves every to_stage: a spec's reached_<k> are its first columns.
    chain = spec.model_copy(update={"to_stage": last, "start": None, "end": None, "filters": {}, "window_days": None})

    def read() -> tuple[np.ndarray, Any, ibis.Schema]:
        from smarketing.analytics.queries.common import epoch_micros

        whole = _whole_timeline(engine, chain)
        table = engine.to_arrow(whole).sort_by([("entered_at", "ascending"), ("subject", "ascending")])
        return epoch_micros(table["entered_at"]), table, whole.schema()

    kept = kept_in(engine, funnel_timeline_kept(spec.level, spec.from_stage), read, carried_only=True)
    if kept is None:
        return None
    entered, table, schema = kept
    lo = 0 if spec.start is None else int(np.searchsorted(
        entered, instant_micros(day_start(spec.start, spec.timezone)), side="left"))
    hi = len(entered) if spec.end is None else int(np.searchsorted(
        entered, instant_micros(day_after(spec.end, spec.timezone)), side="left"))
    engine.backend.con.register(KEPT_COHORT, table.slice(lo, max(hi - lo, 0)))
    found: ibis.Schema = schema
    return found


def _unbound(engine: Any) -> bool:
    """Whether the engine's datasets are unbound tables (DuckDB over the store): an expression over them belongs to
    no connection."""
    return engine.store is not None and engine.frames is None


def _kept_rows(engine: Any, spec: FunnelQuery, schema: ibis.Schema) -> ir.Table:
    """The registered cohort (`_kept_slice`) as the spec's timeline: its steps, filters and window."""
    import ibis  # ibis loads when a query runs, not at start-up

    rows = ibis.table(schema, name=KEPT_COHORT) if _unbound(engine) else engine.backend.table(KEPT_COHORT)
    steps = [f"reached_{k}" for k in range(1, len(spec.steps))]
    return _narrowed(engine, spec, rows.select("subject", "entered_at", "stage_in_at", "stage_out_at", *steps))


def _with_key(engine: Any, level: Level, field: str, per: ir.Table, column: str) -> ir.Table:
    """`per` plus `column`: each subject's key for a group field (a string; year*100+month for cohort months)."""
    import ibis  # ibis loads when a query runs, not at start-up

    if field == "cohort_month":
        return per.mutate(**{column: (per.entered_at.year() * 100 + per.entered_at.month()).cast("string")})
    if level == "account":
        acc = engine.table("accounts")
        value = {"segment": acc.segment, "industry": acc.industry, "region": acc.region,
                 "owner": acc.owner_id.cast("string")}[field]
        keys = acc.select(subject=acc.id, field_value=value)
    elif field == "campaign":
        tp = engine.table("touchpoints")
        camp = engine.table("campaigns")
        first = tp.filter(tp.contact_id.notnull()).mutate(
            rn=ibis.row_number().over(group_by=tp.contact_id, order_by=[tp.occurred_at, tp.id]))
        first = first.filter(first.rn == 0)
        keys = first.join(camp, first.campaign_id == camp.id, how="left").select(
            subject=first.contact_id, field_value=camp.name)
    else:
        con = engine.table("contacts")
        value = {"source": con.lead_source, "segment": con.segment, "country": con.country,
                 "owner": con.owner_id.cast("string")}[field]
        keys = con.select(subject=con.id, field_value=value)
    joined = per.join(keys, "subject", how="left")
    key = joined.field_value
    return joined.mutate(**{column: ibis.ifelse(key.isnull() | (key == ""), NONE_LABEL, key)}).select(
        *per.columns, column)


def _group_keys(engine: Any, spec: FunnelQuery, per: ir.Table) -> ir.Table:
    """Attach `group_key` (a string, or a year*100+month number for cohort months)."""
    import ibis  # ibis loads when a query runs, not at start-up

    if spec.by is None:
        return per.mutate(group_key=ibis.literal("all"))
    return _with_key(engine, spec.level, spec.by, per, "group_key")


def _values(engine: Any, spec: FunnelQuery) -> ir.Table:
    opp = engine.table("opportunities")
    col = opp.primary_contact_id if spec.level == "contact" else opp.account_id
    opp = opp.filter(col.notnull()).mutate(subject=col)
    return opp.group_by("subject").aggregate(
        pipeline=opp.amount.sum(),
        won_value=opp.amount.sum(where=opp.outcome == "won"),
        n_won=(opp.outcome == "won").sum(),
        n_open=(opp.outcome == "open").sum(),
        n_lost=(opp.outcome == "lost").sum(),
    )


def funnel_frame(engine: Any, spec: FunnelQuery, *, grouped: bool, per: ir.Table | None = None) -> pd.DataFrame:
    """The aggregated funnel as one frame row per group (one row overall when not grouped)."""
    return engine.execute(_aggregate(engine, spec, grouped=grouped, per=per))


def _aggregate(engine: Any, spec: FunnelQuery, *, grouped: bool, per: ir.Table | None = None) -> ir.Table:
    """The expression of `funnel_frame`."""
    import ibis  # ibis loads when a query runs, not at start-up

    per = subject_timeline(engine, spec) if per is None else per
    per = _group_keys(engine, spec if grouped else spec.model_copy(update={"by": None}), per)
    vals = _values(engine, spec)
    t = per.join(vals, "subject", how="left")
    last = len(spec.steps) - 1
    converted_at = t[f"reached_{last}"]
    outcome = ibis.cases((t.n_won.fill_null(0) > 0, "won"), (t.n_open.fill_null(0) > 0, "open"),
                         (t.n_lost.fill_null(0) > 0, "lost"), else_="none")
    t = t.mutate(outcome=outcome, to_convert=days_between(t.entered_at, converted_at),
                 in_stage=ibis.ifelse(t.stage_out_at >= t.stage_in_at, days_between(t.stage_in_at, t.stage_out_at),
                                      ibis.null("float64")))
    aggs: dict[str, Any] = {
        "entered": t.count(),
        "converted": converted_at.count(),
        "median_to_convert": t.to_convert.median(),
        "mean_to_convert": t.to_convert.mean(),
        "median_in_stage": t.in_stage.median(),
        "mean_in_stage": t.in_stage.mean(),
        "pipeline_value": t.pipeline.sum(where=converted_at.notnull()),
        "won_value": t.won_value.sum(where=converted_at.notnull()),
    }
    for name in OUTCOMES:
        aggs[f"outcome_{name}"] = (t.outcome == name).sum()
    for k in range(1, last + 1):
        prev = t.entered_at if k == 1 else t[f"reached_{k - 1}"]
        lag = days_between(prev, t[f"reached_{k}"])
        aggs[f"reached_{k}"] = t[f"reached_{k}"].count()
        aggs[f"median_lag_{k}"] = lag.median()
        aggs[f"mean_lag_{k}"] = lag.mean()
    return t.group_by("group_key").aggregate(**aggs)


def _group(spec: FunnelQuery, row: pd.Series, key: str) -> FunnelGroup:
    entered = int(row["entered"])
    steps = [FunnelStep(stage=spec.steps[0], reached=entered, conversion_from_previous=None,
                        conversion_from_start=1.0 if entered else None, median_days_from_previous=None,
                        mean_days_from_previous=None)]
    previous = entered
    for k, stage in enumerate(spec.steps[1:], start=1):
        reached = int(row[f"reached_{k}"])
        steps.append(FunnelStep(stage=stage, reached=reached, conversion_from_previous=ratio(reached, previous),
                                conversion_from_start=ratio(reached, entered),
                                median_days_from_previous=clean(row.get(f"median_lag_{k}")),
                                mean_days_from_previous=clean(row.get(f"mean_lag_{k}"))))
        previous = reached
    converted = int(row["converted"])
    return FunnelGroup(
        key=key, entered=entered, converted=converted, conversion_rate=ratio(converted, entered),
        median_days_to_convert=clean(row.get("median_to_convert")), mean_days_to_convert=clean(row.get("mean_to_convert")),
        median_days_in_stage=clean(row.get("median_in_stage")), mean_days_in_stage=clean(row.get("mean_in_stage")),
        pipeline_value=clean(row["pipeline_value"], 2) or 0.0, won_value=clean(row["won_value"], 2) or 0.0,
        outcomes={name: int(row[f"outcome_{name}"]) for name in OUTCOMES}, steps=steps,
    )


# The funnel's expressions over a kept cohort on the store's unbound datasets, per spec without its dates (what the
# slice stands for): they hold no date and belong to no connection, and building one took longer than running it
# (about 0.1 s a pass on a loaded machine).
# With them, the datasets they read: an engine creates a dataset's view when a query first asks for its table.
_KEPT_EXPRESSIONS: dict[str, tuple[ir.Table, ir.Table | None, list[str]]] = {}
_KEPT_EXPRESSIONS_MAX = 256


def _expressions(engine: Any, spec: FunnelQuery) -> tuple[ir.Table, ir.Table | None]:
    """The funnel's overall expression and, grouped by `spec.by`, its groups' (None when not grouped)."""
    from ibis.expr import operations as ops

    schema = _kept_slice(engine, spec)
    key = spec.model_copy(update={"start": None, "end": None, "timezone": None}).model_dump_json()
    if schema is not None and _unbound(engine) and key in _KEPT_EXPRESSIONS:
        total, grouped, datasets = _KEPT_EXPRESSIONS[key]
        for name in datasets:
            engine.table(name)
        return total, grouped
    # Both passes (overall and grouped) read the same timeline; it is not materialised in between, so each pass is
    # one expression over the datasets, whose SQL an engine may keep compiled.
    per = subject_timeline(engine, spec) if schema is None else _kept_rows(engine, spec, schema)
    found = (_aggregate(engine, spec, grouped=False, per=per),
             _aggregate(engine, spec, grouped=True, per=per) if spec.by is not None else None)
    if schema is not None and _unbound(engine):
        if len(_KEPT_EXPRESSIONS) >= _KEPT_EXPRESSIONS_MAX:
            _KEPT_EXPRESSIONS.clear()
        read = [*found[0].op().find(ops.UnboundTable), *(found[1].op().find(ops.UnboundTable) if found[1] is not None else [])]
        _KEPT_EXPRESSIONS[key] = (*found, sorted({t.name for t in read} - {KEPT_COHORT}))
    return found


def _label(spec: FunnelQuery, key: str) -> str:
    if spec.by == "cohort_month" and key.isdigit():
        return f"{key[:4]}-{key[4:]}"
    return key


def _empty_row(spec: FunnelQuery) -> pd.Series:
    import pandas as pd  # pandas loads when a query runs, not at start-up

    data: dict[str, Any] = {"entered": 0, "converted": 0, "pipeline_value": 0.0, "won_value": 0.0}
    data.update({f"outcome_{o}": 0 for o in OUTCOMES})
    data.update({f"reached_{k}": 0 for k in range(1, len(spec.steps))})
    return pd.Series(data)


@query_kind("funnel", spec=FunnelQuery, result=FunnelResult)
def run_funnel(engine: Any, spec: FunnelQuery) -> FunnelResult:
    """Volume, conversion, velocity and value between two stages, optionally grouped."""
    total_expr, grouped_expr = _expressions(engine, spec)
    total_frame = engine.execute(total_expr)
    total_row = total_frame.iloc[0] if len(total_frame) else _empty_row(spec)
    total = _group(spec, total_row, "all")
    groups: list[FunnelGroup] = []
    if grouped_expr is not None:
        frame = engine.execute(grouped_expr)
        for _, row in frame.iterrows():
            groups.append(_group(spec, row, _label(spec, str(row["group_key"]))))
        groups.sort(key=lambda g: (-g.entered, g.key))
    return FunnelResult(query=spec, stages=spec.steps, total=total, groups=groups)
