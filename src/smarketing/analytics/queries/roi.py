"""Campaign ROI: cost against what each campaign earned under the chosen attribution model.

Per campaign: cost, attributed MQLs, SQLs, opportunities, pipeline, won deals and revenue (each an attribution
run on the same engine), cost per MQL/SQL/opportunity, ROAS (attributed revenue / cost), ROI in percent
(100 × (attributed revenue − cost) / cost), pipeline per unit of cost (attributed pipeline / cost), and
pipeline/revenue *influenced* — the full amount of every deal whose journey touched the campaign. Costs, pipeline
and revenue are in the same currency, so ROI and the ratios carry no unit.
"""

from __future__ import annotations

import contextvars
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.queries.attribution import AttributionQuery, describe, method_of
from smarketing.analytics.queries.attribution_journeys import journey_ranges
from smarketing.analytics.queries.attribution_linear import influenced_by_campaign
from smarketing.analytics.queries.attribution_ranges import ranges_credit
from smarketing.analytics.queries.touches import NO_CAMPAIGN, Level
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.core.errors import ValidationFailed

if TYPE_CHECKING:
    from smarketing.analytics.kernels import Credit


class RoiQuery(QuerySpec):
    """Which attribution model credits the campaigns, at which level, for which period."""

    model: AttributionModel = AttributionModel.LINEAR
    order: int = Field(default=1, ge=1, le=3)
    half_life_days: float = Field(default=7.0, gt=0)
    weights: tuple[float, ...] | None = None
    level: Level = "contact"
    window_days: float | None = Field(default=None, gt=0)
    start: date | None = None
    end: date | None = None
    timezone: str | None = Field(default=None, description="Time zone whose midnights bound start and end (default "
                                 "UTC), e.g. the reporting period's")
    seed: int = 0

    @model_validator(mode="after")
    def _check(self) -> RoiQuery:
        from smarketing.analytics.kernels import validate_custom_weights  # the kernels load on use

        if self.model is AttributionModel.CUSTOM:
            if self.weights is None:
                raise ValidationFailed("the custom model needs weights, e.g. 0.4,0.2,0.4", field="weights")
            validate_custom_weights(self.weights)
        if self.start and self.end and self.end < self.start:
            raise ValidationFailed(f"the date range is empty: end {self.end} is before start {self.start}", field="end")
        return self

    def attribution(self, conversion: str, credit: str) -> AttributionQuery:
        return AttributionQuery(model=self.model, order=self.order, half_life_days=self.half_life_days,
                                weights=self.weights if self.model is AttributionModel.CUSTOM else None,
                                level=self.level, credit=credit, conversion=conversion,  # type: ignore[arg-type]
                                window_days=self.window_days, start=self.start, end=self.end,
                                timezone=self.timezone, seed=self.seed)


class CampaignRoi(QueryResult):
    campaign_id: int | None
    name: str
    channel: str
    cost: float
    budget: float
    mqls: float
    sqls: float
    opportunities: float
    pipeline: float
    won: float
    revenue: float
    cost_per_mql: float | None
    cost_per_sql: float | None
    cost_per_opportunity: float | None
    roas: float | None = Field(description="Attributed revenue per unit of cost (None without cost)")
    roi: float | None = Field(description="ROI in percent: 100 × (attributed revenue − cost) / cost; -100 means "
                                          "nothing came back (None without cost)")
    pipeline_per_cost: float | None = Field(description="Attributed pipeline per unit of cost (None without cost)")
    pipeline_influenced: float
    revenue_influenced: float


class RoiResult(QueryResult):
    query: RoiQuery
    weights: dict[str, Any]
    definition: str = Field(description="The attribution model's weights and definition in plain words")
    method: str = Field(description="How the figures were computed: exact, or sampled with its sample size and seed")
    campaigns: list[CampaignRoi]
    total: CampaignRoi


def _per_key(credit: Credit) -> dict[str, tuple[float, float]]:
    return {k: (float(c), float(v)) for k, c, v in zip(credit.names, credit.conversions, credit.value, strict=True)}


@dataclasses.dataclass(frozen=True)
class _Earned:
    """What the campaigns earned for one conversion: the model's credit, and the value each influenced (every
    converting journey's full value, once per campaign it touched) and all campaigns together influenced."""

    credit: Credit
    influenced: dict[str, float]
    influenced_total: float


def _earned(engine: Any, aq: AttributionQuery) -> _Earned:
    # No model needs a gathered journey: each is read off the journeys' runs of the sorted touches (the same figures
    # as `run_model` of the gathered journeys, see `attribution_ranges`).
    r = journey_ranges(engine, aq)
    return _Earned(credit=ranges_credit(engine, r, aq, "campaign"), influenced=influenced_by_campaign(r),
                   influenced_total=_influenced_total(r))


def _influenced_total(journeys: Any) -> float:
    """The full value of every converting journey with a campaign touch, each once: influence is not additive across
    campaigns (a deal touches several). `journeys`: gathered journeys or journey ranges (value, lengths, conversions)."""
    return float(journeys.value[(journeys.lengths > 0) & (journeys.conversions > 0)].sum())


def _ratio(num: float, den: float) -> float | None:
    return round(num / den, 6) if den else None


def roi_percent(revenue: float, cost: float) -> float | None:
    """ROI in percent: 100 × (revenue − cost) / cost; None when nothing was spent."""
    return round(100.0 * (revenue - cost) / cost, 6) if cost else None


def _row(cid: int | None, name: str, channel: str, cost: float, budget: float, figures: dict[str, float]) -> CampaignRoi:
    rev = figures["revenue"]
    return CampaignRoi(
        campaign_id=cid, name=name, channel=channel, cost=round(cost, 2), budget=round(budget, 2),
        **{k: round(v, 6) for k, v in figures.items()},  # type: ignore[arg-type]  # figures never has "warnings"
        cost_per_mql=_ratio(cost, figures["mqls"]), cost_per_sql=_ratio(cost, figures["sqls"]),
        cost_per_opportunity=_ratio(cost, figures["opportunities"]), roas=_ratio(rev, cost),
        roi=roi_percent(rev, cost), pipeline_per_cost=_ratio(figures["pipeline"], cost))


@query_kind("roi", spec=RoiQuery, result=RoiResult)
def run_roi(engine: Any, spec: RoiQuery) -> RoiResult:
    """Campaign ROI, ROAS, cost per MQL/SQL/opportunity and pipeline influenced under one attribution model."""

    runs = {label: _earned(engine, spec.attribution(conversion, credit))
            for label, conversion, credit in (("mql", "mql", "conversions"), ("sql", "sql", "conversions"),
                                              ("opp", "opportunity_created", "pipeline"),
                                              ("won", "opportunity_won", "revenue"))}
    mql, sql, opp, won = (_per_key(runs[k].credit) for k in ("mql", "sql", "opp", "won"))
    infl_pipe, infl_rev = runs["opp"].influenced, runs["won"].influenced

    camp = engine.execute(engine.table("campaigns").select("id", "name", "channel", "budget", "actual_cost"))
    rows: list[CampaignRoi] = []
    totals = dict.fromkeys(("mqls", "sqls", "opportunities", "pipeline", "won", "revenue", "pipeline_influenced",
                            "revenue_influenced"), 0.0)
    total_cost = total_budget = 0.0
    records = [(int(r.id), str(r.name), str(r.channel), float(r.actual_cost or 0.0), float(r.budget or 0.0))
               for r in camp.itertuples()]
    keys = [str(r[0]) for r in records]
    # Touches without a campaign are shown as one row, so the totals still add up.
    extra = [NO_CAMPAIGN] if any(NO_CAMPAIGN in d for d in (mql, sql, opp, won)) else []
    for key, rec in [*zip(keys, records, strict=True), *((k, None) for k in extra)]:
        figures = {"mqls": mql.get(key, (0.0, 0.0))[0], "sqls": sql.get(key, (0.0, 0.0))[0],
                   "opportunities": opp.get(key, (0.0, 0.0))[0], "pipeline": opp.get(key, (0.0, 0.0))[1],
                   "won": won.get(key, (0.0, 0.0))[0], "revenue": won.get(key, (0.0, 0.0))[1],
                   "pipeline_influenced": infl_pipe.get(key, 0.0), "revenue_influenced": infl_rev.get(key, 0.0)}
        cid, name, channel, cost, budget = rec if rec is not None else (None, NO_CAMPAIGN, "", 0.0, 0.0)
        rows.append(_row(cid, name, channel, cost, budget, figures))
        for k in totals:
            if not k.endswith("_influenced"):
                totals[k] += figures[k]
        total_cost += cost
        total_budget += budget
    totals["pipeline_influenced"] = runs["opp"].influenced_total
    totals["revenue_influenced"] = runs["won"].influenced_total
    rows.sort(key=lambda r: (-(r.revenue), -(r.pipeline), r.name))
    weights = {k: v for k, v in runs["won"].credit.weights.items() if k not in ("shares", "removal_effects")}
    won_spec = spec.attribution("opportunity_won", "revenue")
    return RoiResult(query=spec, weights=weights, definition=describe(won_spec),
                     method=method_of(won_spec, campaigns=runs["won"].credit), campaigns=rows,
                     total=_row(None, "(all campaigns)", "", total_cost, total_budget, totals))


# A store of query results by (kind, spec as JSON) that a caller lends while it runs a query kind: the web lends its
# shared figure cache, so the roi a metrics run computes for its campaign measures is the very result a direct
# `roi` query of the same spec reads (the campaigns panel), and the other way round: cold, the scoreboard runs the
# roi of a period once, not twice. The CLI and the API lend none and compute in place.
ResultStore = Callable[[str, str, Callable[[], Any]], Any]
_lent: contextvars.ContextVar[ResultStore | None] = contextvars.ContextVar("smk_roi_results", default=None)


@contextmanager
def results_shared(store: ResultStore) -> Iterator[None]:
    """Within the block, `roi_result` reads and writes results through `store(kind, spec_json, compute)`."""
    token = _lent.set(store)
    try:
        yield
    finally:
        _lent.reset(token)


def roi_result(engine: Any, spec: RoiQuery) -> RoiResult:
    """The roi of a spec on this engine: from the lent store when a caller lent one (computed once there), else run."""
    store = _lent.get()
    if store is None:
        return run_roi(engine, spec)
    result: RoiResult = store("roi", spec.model_dump_json(), lambda: run_roi(engine, spec))
    return result
