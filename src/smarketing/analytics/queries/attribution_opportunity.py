"""Opportunity attribution: one deal's credit decomposed over the touches of its journey."""

from __future__ import annotations

from typing import Any

import numpy as np
from pydantic import Field, model_validator

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.queries.attribution import (
    OPPORTUNITY_CONVERSIONS,
    AttributionQuery,
    CreditKind,
    campaign_labels,
    describe,
    run_model,
)
from smarketing.analytics.queries.attribution_journeys import build_journeys
from smarketing.analytics.registry import QueryResult, query_kind
from smarketing.core.errors import NotFound, ValidationFailed


class OpportunityAttributionQuery(AttributionQuery):
    """One deal's decomposition: which touches got how much of its credit."""

    opportunity_id: int = Field(description="The opportunity to decompose")
    conversion: str = "opportunity_created"
    credit: CreditKind = "pipeline"

    @model_validator(mode="after")
    def _check_opportunity(self) -> OpportunityAttributionQuery:
        if not self.opportunity_based:
            raise ValidationFailed("a deal decomposition needs an opportunity conversion: "
                                   f"{list(OPPORTUNITY_CONVERSIONS)}", field="conversion")
        return self


class TouchCredit(QueryResult):
    touch_id: int
    occurred_at_epoch: int
    channel: str
    campaign: str
    share: float
    conversions: float
    value: float


class OpportunityAttributionResult(QueryResult):
    query: OpportunityAttributionQuery
    weights: dict[str, Any]
    definition: str = Field(description="The model's weights and definition in plain words")
    opportunity_id: int
    converted: bool
    value: float
    touches: list[TouchCredit]
    channels: dict[str, float]


@query_kind("opportunity_attribution", spec=OpportunityAttributionQuery, result=OpportunityAttributionResult)
def run_opportunity_attribution(engine: Any, spec: OpportunityAttributionQuery) -> OpportunityAttributionResult:
    """Which touches earned how much of one opportunity's credit under the chosen model."""
    from smarketing.analytics.kernels import (
        attribute,  # loads when a query runs, not at start-up
        touch_share_from_channel_weights,
    )

    data = build_journeys(engine, spec)
    j = data.by_channel
    hit = np.flatnonzero(data.opportunity_ids == spec.opportunity_id)
    if hit.size == 0:
        raise NotFound(f"opportunity {spec.opportunity_id} has no {spec.level} journey (unknown id, no "
                       f"{'account' if spec.level == 'account' else 'primary contact'}, or outside the period)",
                       field="opportunity_id", record=f"opportunity:{spec.opportunity_id}")
    idx = int(hit[0])
    if spec.model is AttributionModel.MARKOV:
        credit = run_model(data, spec, by="channel")
        per_channel = np.clip(credit.conversions, 0.0, None)
        one = j.subset(np.array([idx]))
        share = touch_share_from_channel_weights(one, per_channel)
        weights = credit.weights
    else:
        one = j.subset(np.array([idx]))
        # Rule models and the simplified Shapley value split each journey on its own, so one deal is enough.
        credit = attribute(one, spec.model, half_life_days=spec.half_life_days, custom=spec.weights)
        share = credit.touch_share if credit.touch_share is not None else np.zeros(one.n_touches)
        weights = {k: v for k, v in credit.weights.items() if k not in ("shares", "coalitions")}
    lo = int(j.offsets[idx])
    labels = campaign_labels(engine, data.campaign_keys)
    conv, val = float(j.conversions[idx]), float(j.value[idx])
    touches = [TouchCredit(touch_id=int(data.touch_ids[lo + k]), occurred_at_epoch=int(round(j.times[lo + k] * 86400))
                           if j.times is not None else 0, channel=j.names[j.codes[lo + k]],
                           campaign=labels.get(data.campaign_keys[data.by_campaign.codes[lo + k]],
                                               data.campaign_keys[data.by_campaign.codes[lo + k]]),
                           share=round(float(s), 9), conversions=round(float(s) * conv, 9),
                           value=round(float(s) * val, 6))
               for k, s in enumerate(share)]
    channels: dict[str, float] = {}
    for t in touches:
        channels[t.channel] = round(channels.get(t.channel, 0.0) + t.share, 9)
    return OpportunityAttributionResult(query=spec, weights={k: v for k, v in weights.items()},
                                        definition=describe(spec),
                                        opportunity_id=spec.opportunity_id, converted=conv > 0, value=val,
                                        touches=touches, channels=channels)
