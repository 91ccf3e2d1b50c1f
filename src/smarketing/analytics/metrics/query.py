"""The query kinds `metrics` (every measure's value for a period and filters) and `measure_records` (the rows one
measure counts), registered with the analytics registry so the API, the web pages, the CLI and the task worker
all compute them the same way.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from smarketing.analytics.metrics.campaigns import DEFAULT_MODEL, FIELDS, MODELS, check_model, figure
from smarketing.analytics.metrics.compare import COMPARE_HELP, Change, change, check_compare, previous_period
from smarketing.analytics.metrics.compute import evaluate, record_rows
from smarketing.analytics.metrics.definitions import (
    CONTACT_FILTERS,
    MEASURES,
    Measure,
    check_filters,
    measure_get,
)
from smarketing.analytics.metrics.periods import ReportingPeriod, reporting_period
from smarketing.analytics.metrics.rows import Context, as_utc
from smarketing.analytics.queries.funnel import _check_filter
from smarketing.analytics.queries.roi import RoiResult
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.core.pagination import MAX_LIMIT, MAX_OFFSET

FILTERS_HELP = ("Only records whose contact has one of the values, e.g. {\"source\": [\"webinar\"]}: fields ANDed, "
                "values ORed; fields " + ", ".join(CONTACT_FILTERS) + " (\"(none)\" for a missing value, user ids for "
                "owner, the first touch's campaign name for campaign; the campaign measures read campaign as the "
                "campaign's id or name)")
MODEL_HELP = ("Attribution model of the campaign measures: " + ", ".join(MODELS) + " (default linear)")


def _canonical(value: dict[str, list[str]]) -> dict[str, list[str]]:
    for name, values in value.items():
        if name not in CONTACT_FILTERS:
            raise ValidationFailed(f"filters.{name}: measures cannot be filtered on {name!r}; use one of "
                                   f"{list(CONTACT_FILTERS)}", field=f"filters.{name}")
        _check_filter("contact", name, values)
    # One spelling per meaning, so equal filters share cached results.
    return {name: sorted(set(values)) for name, values in sorted(value.items())}


class _ScopeSpec(QuerySpec):
    """What every measure query names: a reporting period, contact filters, the time zone and the model."""

    period: str = Field(description="2026, 2026-Q4, 2026-11, last-30d or 2026-10-01..2026-12-31")
    filters: dict[str, list[str]] = Field(default_factory=dict, description=FILTERS_HELP)
    timezone: str | None = Field(default=None, description="Reporting time zone of the period's days (default: the "
                                 "active playbook's calendar time zone)")
    model: str | None = Field(default=None, description=MODEL_HELP)

    @field_validator("filters", mode="after")
    @classmethod
    def _canonical_filters(cls, value: dict[str, list[str]]) -> dict[str, list[str]]:
        return _canonical(value)

    @field_validator("model", mode="after")
    @classmethod
    def _known_model(cls, value: str | None) -> str | None:
        return check_model(value)

    @model_validator(mode="after")
    def _check_period(self) -> _ScopeSpec:
        reporting_period(self.period, tz=self.timezone or "UTC")  # the key's syntax (and the zone's name)
        return self


class MetricsQuery(_ScopeSpec):
    """Measures for one reporting period and filters (and, with `compare`, the previous period too)."""

    names: list[str] = Field(default_factory=list, description="Measures to compute (default: all)")
    compare: str | None = Field(default=None, description=COMPARE_HELP)

    @field_validator("compare", mode="after")
    @classmethod
    def _known_compare(cls, value: str | None) -> str | None:
        return check_compare(value)

    @model_validator(mode="after")
    def _check(self) -> MetricsQuery:
        for name in self.names:
            check_filters(measure_get(name), self.filters)
        return self


class MeasureValue(QueryResult):
    name: str
    label: str
    definition: str
    basis: str
    grain: str
    unit: str
    filters: list[str] = Field(default_factory=list, description="The filter fields this measure takes")
    value: float | None = Field(description="Unrounded; None when there is nothing to measure (0 of 0)")
    numerator: float | None = None
    denominator: float | None = None
    note: str = ""
    change: Change | None = Field(default=None, description="Against the previous period (only with compare)")


class PeriodRef(QueryResult):
    key: str
    label: str
    start: datetime
    end: datetime


class MetricsResult(QueryResult):
    period: str
    label: str
    start: datetime
    end: datetime
    timezone: str
    as_of: datetime
    filters: dict[str, list[str]]
    model: str | None = Field(default=None, description="The attribution model of the campaign measures asked for "
                              "(None: their default, linear)")
    measures: list[MeasureValue]
    compare: str | None = Field(default=None, description="The comparison asked for (prev), or None")
    previous: PeriodRef | None = Field(default=None, description="The period compared with (only with compare)")

    def get(self, name: str) -> MeasureValue:
        for value in self.measures:
            if value.name == name:
                return value
        measure_get(name)
        raise ValidationFailed(f"measure {name!r} was not computed; ask for it in names", field="name")


def _value(measure: Measure, value: float | None, *, numerator: float | None = None,
           denominator: float | None = None, note: str = "") -> MeasureValue:
    return MeasureValue(name=measure.name, label=measure.label, definition=measure.definition, basis=measure.basis,
                        grain=measure.grain, unit=measure.unit, filters=list(measure.filters), value=value, numerator=numerator,
                        denominator=denominator, note=note)


def _context(engine: Any, period_key: str, filters: dict[str, list[str]], tz: str | None,
             model: str | None = None) -> Context:
    return Context(engine, reporting_period(period_key, tz), filters, clock.now(), model=model)


def _measure_values(ctx: Context, names: list[str], filters: dict[str, list[str]]) -> list[MeasureValue]:
    values = []
    for name in names:
        measure = MEASURES[name]
        refused = [f for f in filters if f not in measure.filters]
        if refused:
            values.append(_value(measure, None, note=f"cannot be filtered by {', '.join(refused)}"))
            continue
        result = evaluate(ctx, measure)
        values.append(_value(measure, result.value, numerator=result.numerator, denominator=result.denominator,
                             note=measure.filter_note if filters else ""))
    return values


def compared(current: MetricsResult, previous: MetricsResult) -> MetricsResult:
    """`current` with each measure's change against the same measure in `previous` (the previous period's result
    for the same filters and model): the one place a comparison is composed, for the query, the API and pages."""
    before = {m.name: m for m in previous.measures}
    measures = [m.model_copy(update={"change": change(m.value, before[m.name].value, MEASURES[m.name].better)})
                if m.name in before else m
                for m in current.measures]
    ref = PeriodRef(key=previous.period, label=previous.label, start=previous.start, end=previous.end)
    return current.model_copy(update={"measures": measures, "compare": "prev", "previous": ref})


@query_kind("metrics", spec=MetricsQuery, result=MetricsResult)
def run_metrics(engine: Any, spec: MetricsQuery) -> MetricsResult:
    """Every measure's value (or the named ones) for a period and filters, with definition and basis; with
    `compare=prev`, each one's change against the previous period."""
    ctx = _context(engine, spec.period, spec.filters, spec.timezone, spec.model)
    names = spec.names or list(MEASURES)
    p = ctx.period
    result = MetricsResult(period=p.key, label=p.label, start=p.start, end=p.end, timezone=p.timezone, as_of=ctx.now,
                           filters=spec.filters, model=spec.model,
                           measures=_measure_values(ctx, names, spec.filters))
    if spec.compare is None:
        return result
    before = previous_period(p)
    prev_ctx = Context(engine, before, spec.filters, ctx.now, model=spec.model)
    previous = MetricsResult(period=before.key, label=before.label, start=before.start, end=before.end,
                             timezone=before.timezone, as_of=ctx.now, filters=spec.filters, model=spec.model,
                             measures=_measure_values(prev_ctx, names, spec.filters))
    return compared(result, previous)


def campaign_metrics(roi: RoiResult, period: ReportingPeriod, *, model: str | None,
                     campaign_id: int | None) -> MetricsResult:
    """The campaign measures of one campaign (None: all campaigns) from a `roi` result of `roi_spec_for(period,
    model)`: what `metrics` gives for that period, model and campaign filter, read off the roi result a page
    already holds instead of running the roi query once per campaign."""
    wanted = [str(campaign_id)] if campaign_id is not None else None
    filters = {"campaign": wanted} if wanted else {}
    values = [_value(MEASURES[name], figure(roi, wanted, field), note=MEASURES[name].filter_note if filters else "")
              for name, field in FIELDS.items()]
    return MetricsResult(period=period.key, label=period.label, start=period.start, end=period.end,
                         timezone=period.timezone, as_of=clock.now(), filters=filters, model=model or DEFAULT_MODEL,
                         measures=values)


class MeasureRecordsQuery(_ScopeSpec):
    """The records one measure counts for a period and filters (its numerator for a ratio), paged."""

    name: str
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)

    @model_validator(mode="after")
    def _check(self) -> MeasureRecordsQuery:
        check_filters(measure_get(self.name), self.filters)
        return self


class RecordRef(QueryResult):
    kind: str = Field(description="contact | opportunity | touchpoint | feedback | campaign")
    id: int
    label: str
    occurred_at: datetime | None
    amount: float | None = None
    contact_id: int | None = Field(default=None, description="The contact the record belongs to, when it has one")


class MeasureRecordsResult(QueryResult):
    name: str
    period: str
    filters: dict[str, list[str]]
    model: str | None = None
    total: int = Field(description="Equals the measure's count (or its numerator for a ratio)")
    offset: int
    limit: int
    items: list[RecordRef]


@query_kind("measure_records", spec=MeasureRecordsQuery, result=MeasureRecordsResult)
def run_measure_records(engine: Any, spec: MeasureRecordsQuery) -> MeasureRecordsResult:
    """The records behind one measure: exactly the rows it counts, oldest first."""
    from smarketing.analytics.metrics.records import record_labels

    ctx = _context(engine, spec.period, spec.filters, spec.timezone, spec.model)
    rows = record_rows(ctx, MEASURES[spec.name])
    total, items = 0, []
    if rows is not None:
        total = rows.total(engine)
        page = rows.page(engine, spec.offset, spec.limit)
        labels = record_labels(rows.kind, [int(i) for i in page["id"]])
        for r in page.itertuples():
            contact = None if r.contact_id is None or r.contact_id != r.contact_id else int(r.contact_id)
            amount = None if r.amount is None or r.amount != r.amount else float(r.amount)
            items.append(RecordRef(kind=rows.kind, id=int(r.id), label=labels.get(int(r.id), f"#{int(r.id)}"),
                                   occurred_at=as_utc(r.occurred_at), amount=amount, contact_id=contact))
    return MeasureRecordsResult(name=spec.name, period=ctx.period.key, filters=spec.filters, model=spec.model,
                                total=total,
                                offset=spec.offset, limit=spec.limit, items=items)
