"""Campaign measures: cost, attributed pipeline and revenue, ROI and pipeline per unit of cost.

Every value is a figure of the analytics `roi` query kind for the period (its first and last local day in the
reporting time zone) under one attribution model (`model`, default linear): the one per campaign named by the
`campaign` filter (its id, or its name; several are added up), or the total over all campaigns without it. The
records are the campaigns (cost) or the opportunities credited, each with the credit it gave the campaigns
(the same model run on the same journeys as the `roi` query).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.metrics.periods import ReportingPeriod
from smarketing.analytics.metrics.rows import COLUMNS, Context, Rows
from smarketing.analytics.queries.attribution import run_model
from smarketing.analytics.queries.attribution_journeys import build_journeys
from smarketing.analytics.queries.roi import CampaignRoi, RoiQuery, RoiResult, roi_percent, roi_result
from smarketing.core.errors import ValidationFailed

DEFAULT_MODEL = "linear"
# Custom weights are no single name, so the custom model stays in the roi query itself.
MODELS: tuple[str, ...] = tuple(m.value for m in AttributionModel if m is not AttributionModel.CUSTOM)


def check_model(model: str | None) -> str | None:
    """`model` if it names an attribution model; an error naming the `model` field otherwise."""
    if model is not None and model not in MODELS:
        raise ValidationFailed(f"model {model!r} is not an attribution model; use one of {', '.join(MODELS)}",
                               field="model")
    return model


def roi_spec_for(period: ReportingPeriod, model: str | None) -> RoiQuery:
    """The `roi` spec of a period and model: the period's first and last local day, in its time zone."""
    return RoiQuery(model=AttributionModel(model or DEFAULT_MODEL), start=period.first_day, end=period.last_day,
                    timezone=period.timezone)


def roi_spec(ctx: Context) -> RoiQuery:
    return roi_spec_for(ctx.period, ctx.model)


def roi_of(ctx: Context) -> RoiResult:
    """The `roi` query of the measures' spec, once per run (and once with a direct `roi` query of the same spec
    where the caller shares results: `roi.results_shared`)."""
    key = f"roi:{ctx.model or DEFAULT_MODEL}"
    if key not in ctx.cache:
        ctx.cache[key] = roi_result(ctx.engine, roi_spec(ctx))
    result: RoiResult = ctx.cache[key]
    return result


def selected(result: RoiResult, wanted: list[str] | None) -> list[CampaignRoi] | None:
    """The campaigns named by the `campaign` filter values (ids or names); None without the filter (all)."""
    if not wanted:
        return None
    return [r for r in result.campaigns if r.campaign_id is not None and (str(r.campaign_id) in wanted
                                                                           or r.name in wanted)]


def figure(result: RoiResult, wanted: list[str] | None, field: str) -> float | None:
    """Pure: one figure (cost, pipeline, revenue, roi, pipeline_per_cost) of the campaigns named by `wanted` (their
    ids or names; several are added up, then the ratios taken), or of the total row without it."""
    rows = selected(result, wanted)
    if rows is None:
        rows = [result.total]
    if len(rows) == 1:  # the roi row's own figure, as the campaigns page lists it
        value: float | None = getattr(rows[0], field)
        return value
    cost, pipeline, revenue = (sum(getattr(r, f) for r in rows) for f in ("cost", "pipeline", "revenue"))
    if field == "roi":
        return roi_percent(revenue, cost)
    if field == "pipeline_per_cost":
        return round(pipeline / cost, 6) if cost else None
    total: float = {"cost": cost, "pipeline": pipeline, "revenue": revenue}[field]
    return total


def _figure(field: str) -> Callable[[Context], float | None]:
    return lambda ctx: figure(roi_of(ctx), ctx.filters.get("campaign"), field)


# measure name → the field of the roi query's campaign row it reads
FIELDS: dict[str, str] = {"campaign_cost": "cost", "campaign_attributed_pipeline": "pipeline",
                          "campaign_attributed_revenue": "revenue", "campaign_roi": "roi",
                          "campaign_pipeline_per_cost": "pipeline_per_cost"}


def campaigns_costed(ctx: Context) -> Rows:
    """The campaigns whose cost the figure adds up (amount = the campaign's whole spend)."""
    import pandas as pd  # loads when a measure is computed, not at start-up

    result = roi_of(ctx)
    rows = selected(result, ctx.filters.get("campaign"))
    ids = [r.campaign_id for r in (rows if rows is not None else result.campaigns) if r.campaign_id is not None]
    camp = ctx.engine.table("campaigns")
    frame = ctx.engine.execute(camp.filter(camp.id.isin(ids or [-1])).select("id", "start_date", "actual_cost"))
    out = pd.DataFrame({"row_id": frame["id"].astype("int64"), "id": frame["id"].astype("int64"),
                        "contact_id": pd.Series([None] * len(frame), dtype="object"),
                        "occurred_at": pd.to_datetime(frame["start_date"], utc=True),
                        "amount": frame["actual_cost"].astype("float64").fillna(0.0)})
    return Rows("campaign", frame=out[list(COLUMNS)])


def opportunities_credited(ctx: Context, conversion: str, credit: str) -> Rows:
    """The opportunities of the period that credited the selected campaigns (all campaigns without the filter),
    amount = the credit they gave them under the model (the `roi` query's journeys and model run)."""
    import pandas as pd  # loads when a measure is computed, not at start-up

    from smarketing.analytics.kernels import touch_share_from_channel_weights

    spec = roi_spec(ctx).attribution(conversion, credit)
    data = build_journeys(ctx.engine, spec)
    j = data.by_campaign
    run = run_model(data, spec, by="campaign")
    if spec.model in (AttributionModel.MARKOV, AttributionModel.SHAPLEY):
        journeys = np.arange(j.n_journeys)
    else:  # rule models are run on the converting journeys alone
        journeys = np.flatnonzero(j.conversions > 0)
    sub = j.subset(journeys)
    share = run.touch_share if run.touch_share is not None else touch_share_from_channel_weights(
        sub, np.clip(run.conversions, 0.0, None))
    wanted = ctx.filters.get("campaign")
    keep = np.ones(sub.n_touches, dtype=bool)
    if wanted:
        chosen = {str(r.campaign_id) for r in selected(roi_of(ctx), wanted) or []}
        keep = np.isin(sub.codes, [i for i, key in enumerate(sub.names) if key in chosen])
    jt = sub.journey_of_touch()
    credited = np.bincount(jt[keep], weights=(share * sub.value[jt])[keep], minlength=sub.n_journeys)
    hit = np.flatnonzero((sub.conversions > 0) & np.bincount(jt[keep], minlength=sub.n_journeys).astype(bool))
    opp_ids = data.opportunity_ids[journeys[hit]]
    opp = ctx.engine.table("opportunities")
    when = "opened_at" if conversion == "opportunity_created" else "closed_at"
    found = ctx.engine.execute(opp.filter(opp.id.isin([int(i) for i in opp_ids] or [-1])).select(
        "id", "primary_contact_id", when)).set_index("id")
    frame = pd.DataFrame({"row_id": opp_ids.astype("int64"), "id": opp_ids.astype("int64"),
                          "contact_id": [found["primary_contact_id"].get(int(i)) for i in opp_ids],
                          "occurred_at": [found[when].get(int(i)) for i in opp_ids],
                          "amount": credited[hit]})
    return Rows("opportunity", frame=frame[list(COLUMNS)])


SCALARS: dict[str, Callable[[Context], float | None]] = {name: _figure(field) for name, field in FIELDS.items()}
RECORDS: dict[str, Callable[[Context], Rows]] = {
    "campaign_cost": campaigns_costed,
    "campaign_attributed_pipeline": lambda ctx: opportunities_credited(ctx, "opportunity_created", "pipeline"),
    "campaign_attributed_revenue": lambda ctx: opportunities_credited(ctx, "opportunity_won", "revenue"),
    "campaign_roi": lambda ctx: opportunities_credited(ctx, "opportunity_won", "revenue"),
    "campaign_pipeline_per_cost": lambda ctx: opportunities_credited(ctx, "opportunity_created", "pipeline"),
}
