"""Attribution: which channels and campaigns earned the conversions, pipeline and revenue.

Spec → expression → engine → kernel → typed result. The relational part (conversion units, the touches before
each, the first MQL of each subject) is one ibis expression per table and runs on DuckDB, PostgreSQL or Spark.
The engine returns integer-coded touches; the pure NumPy kernels in `analytics.kernels` do the crediting.

A *journey* ends in one conversion unit — an opportunity (created or won) or a subject's first arrival at a
lifecycle stage — and holds the subject's touches up to that moment (within `window_days` if given). At contact
level the subject is the contact (an opportunity's primary contact); at account level it is the account, so an
opportunity's journey holds every touch of the buying committee. Subjects with touches and no conversion are
non-converting journeys, which data-driven models need to see what does not work.

Here: the spec, the models' credit as rows and the query kind. The sorted touches are in `touches`, the
conversion units and their journeys in `attribution_journeys`, one deal's decomposition in
`attribution_opportunity`, the linear model's shortcut in `attribution_linear`, every model's credit read off the
sorted touches without gathering (the roi's) in `attribution_ranges`.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import Field, model_validator

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.queries.attribution_journeys import JourneyData
from smarketing.analytics.queries.common import STAGE_KEYS, check_timezone
from smarketing.analytics.queries.touches import Level
from smarketing.analytics.registry import QueryResult, QuerySpec, query_kind
from smarketing.core.errors import ValidationFailed

if TYPE_CHECKING:
    from smarketing.analytics.kernels import Credit, Journeys

CreditKind = Literal["conversions", "pipeline", "revenue"]
OPPORTUNITY_CONVERSIONS = ("opportunity_created", "opportunity_won")


class AttributionQuery(QuerySpec):
    """Which model, at which level, crediting what, for which conversion event."""

    model: AttributionModel = AttributionModel.LAST_TOUCH
    order: int = Field(default=1, ge=1, le=3, description="Markov chain order (states = last k channels)")
    half_life_days: float = Field(default=7.0, gt=0, description="Time decay: a touch this old weighs half")
    weights: tuple[float, ...] | None = Field(default=None, description="Custom position weights: first, …, last")
    level: Level = "contact"
    credit: CreditKind = "conversions"
    conversion: str = Field(default="opportunity_created",
                            description="opportunity_created, opportunity_won or a lifecycle stage reached (mql…)")
    window_days: float | None = Field(default=None, gt=0, description="Only touches this many days before")
    start: date | None = Field(default=None, description="First day of conversions counted")
    end: date | None = Field(default=None, description="Last day (inclusive) of conversions counted")
    timezone: str | None = Field(default=None, description="Time zone whose midnights bound start and end (default "
                                 "UTC), e.g. the reporting period's")
    seed: int = Field(default=0, description="Kept for old specs: no model samples (Shapley is exact), so it "
                                            "changes nothing")

    @model_validator(mode="after")
    def _check(self) -> AttributionQuery:
        from smarketing.analytics.kernels import validate_custom_weights  # the kernels load on use

        if self.conversion not in OPPORTUNITY_CONVERSIONS and self.conversion not in STAGE_KEYS:
            raise ValidationFailed(f"conversion {self.conversion!r} is unknown; use one of "
                                   f"{[*OPPORTUNITY_CONVERSIONS, *STAGE_KEYS]}", field="conversion")
        if self.model is AttributionModel.CUSTOM:
            if self.weights is None:
                raise ValidationFailed("the custom model needs weights, e.g. 0.4,0.2,0.4", field="weights")
            validate_custom_weights(self.weights)
        elif self.weights is not None:
            raise ValidationFailed(f"weights apply to the custom model only, not {self.model.value}", field="weights")
        if self.start and self.end and self.end < self.start:
            raise ValidationFailed(f"the date range is empty: end {self.end} is before start {self.start}", field="end")
        check_timezone(self.timezone)
        return self

    @property
    def opportunity_based(self) -> bool:
        return self.conversion in OPPORTUNITY_CONVERSIONS


class CreditRow(QueryResult):
    key: str
    name: str
    conversions: float
    value: float
    share: float = Field(description="Share of attributed conversions")
    weight: float | None = Field(default=None, description="The model's weight for this row (data-driven models)")
    touches: int = Field(description="Touches in converting journeys")
    reach: int = Field(default=0, description="Journeys (converting or not) with at least one touch of it")
    by_order: list[float] | None = Field(default=None, description=(
        "Shapley only (the ordered Shapley value): `conversions` split by the order in which this channel entered "
        "each journey — as its 1st, 2nd, 3rd, or 4th-or-later distinct channel"))


class AttributionResult(QueryResult):
    query: AttributionQuery
    weights: dict[str, Any] = Field(description="The model's weights, to show beside the figures")
    definition: str = Field(description="The model's weights and definition in plain words")
    method: str = Field(description="How the figures were computed: exact, or sampled with its sample size and seed")
    value_label: str
    journeys: int
    converting_journeys: int
    touches: int
    total_conversions: float
    total_value: float
    unattributed_conversions: float = Field(description="Conversions with no touch before them")
    unattributed_value: float
    conversion_probability: float | None = None
    channels: list[CreditRow]
    campaigns: list[CreditRow]


def credit_rows(credit: Credit, j: Journeys, labels: dict[str, str] | None = None) -> list[CreditRow]:
    from smarketing.analytics.kernels.loops import touches_and_reach  # compiled; loads when a query runs

    touches, reach = touches_and_reach(j.offsets, j.codes, j.conversions > 0, j.n_codes)
    return rows_of(credit, touches, reach, labels)


def rows_of(credit: Credit, touches: np.ndarray, reach: np.ndarray,
            labels: dict[str, str] | None = None) -> list[CreditRow]:
    """Credit rows, largest first, from a model's credit and each code's touches and reach."""
    total = float(credit.conversions.sum())
    shares = credit.weights.get("shares") or credit.weights.get("removal_effects")
    order = credit.extra.get("by_order")
    rows = [CreditRow(key=k, name=(labels or {}).get(k, k), conversions=round(float(c), 9), value=round(float(v), 6),
                      share=round(float(c) / total, 9) if total else 0.0,
                      weight=None if shares is None else round(float(shares.get(k, 0.0)), 9), touches=int(t),
                      reach=int(r), by_order=None if order is None else [round(float(x), 9) for x in order[i]])
            for i, (k, c, v, t, r) in enumerate(zip(credit.names, credit.conversions, credit.value, touches, reach,
                                                    strict=True))]
    return sorted(rows, key=lambda r: (-r.conversions, -r.value, r.key))


def campaign_labels(engine: Any, keys: tuple[str, ...]) -> dict[str, str]:
    camp = engine.to_arrow(engine.table("campaigns").select("id", "name"))
    names = {str(i): str(n) for i, n in zip(camp["id"].to_pylist(), camp["name"].to_pylist(), strict=True)}
    return {k: names.get(k, k) for k in keys}


def describe(spec: AttributionQuery) -> str:
    """The spec's model in plain words."""
    from smarketing.analytics.kernels.rules import model_definition  # the kernels load on use

    return model_definition(spec.model, half_life_days=spec.half_life_days, custom=spec.weights, order=spec.order)


def method_of(spec: AttributionQuery, *, channels: Credit | None = None, campaigns: Credit | None = None) -> str:
    """How the figures were computed, in words: every model here is exact; Shapley says how many coalitions."""
    if spec.model is AttributionModel.SHAPLEY:
        counts = " and ".join(f"{c.extra.get('coalitions', 0)} {what} coalitions" for c, what in
                              ((channels, "channel"), (campaigns, "campaign")) if c is not None)
        return (f"exact simplified Shapley value over the {counts} seen in converting journeys; "
                "nothing sampled")
    if spec.model is AttributionModel.MARKOV:
        return "exact: the absorbing chain is solved, not simulated; nothing sampled"
    return "exact: a fixed rule applied to every journey; nothing sampled"


def run_model(data: JourneyData, spec: AttributionQuery, *, by: Literal["channel", "campaign"]) -> Credit:
    from smarketing.analytics.kernels import attribute  # loads when a query runs, not at start-up

    j = data.by_channel if by == "channel" else data.by_campaign
    if spec.model in (AttributionModel.MARKOV, AttributionModel.SHAPLEY):
        return attribute(j, spec.model, order=spec.order, seed=spec.seed)
    # Only converting journeys can be credited by a rule, so the kernel sees those alone.
    return attribute(j.converting(), spec.model, half_life_days=spec.half_life_days, custom=spec.weights)


@query_kind("attribution", spec=AttributionQuery, result=AttributionResult)
def run_attribution(engine: Any, spec: AttributionQuery) -> AttributionResult:
    """Credit per channel and per campaign under one attribution model, with the model's weights."""
    # The figures of the journeys gathered (`build_journeys` → `run_model`), read off the sorted touches.
    if spec.model is AttributionModel.LINEAR:
        from smarketing.analytics.queries.attribution_linear import linear_attribution

        return linear_attribution(engine, spec)
    from smarketing.analytics.queries.attribution_ranges import ranges_attribution

    return ranges_attribution(engine, spec)


def attribution_result(spec: AttributionQuery, conversions: np.ndarray, value: np.ndarray, lengths: np.ndarray,
                       ch: Credit, cp: Credit, *, channels: list[CreditRow],
                       campaigns: list[CreditRow]) -> AttributionResult:
    """The result of a run: per journey its conversions, value and touch count; the model's credit by channel and by
    campaign and their rows."""
    has = lengths > 0
    total_conv, total_val = float(conversions.sum()), float(value.sum())
    unattributed_conv = float(conversions[~has].sum())
    unattributed_val = float(value[~has].sum())
    weights = {k: v for k, v in ch.weights.items() if k not in ("shares", "removal_effects")}
    prob = ch.extra.get("conversion_probability")
    return AttributionResult(
        query=spec, weights=weights, definition=describe(spec), method=method_of(spec, channels=ch, campaigns=cp),
        value_label=spec.credit, journeys=int(has.sum()),
        converting_journeys=int(((conversions > 0) & has).sum()), touches=int(lengths.sum()),
        total_conversions=round(total_conv, 9), total_value=round(total_val, 6),
        unattributed_conversions=round(unattributed_conv, 9), unattributed_value=round(unattributed_val, 6),
        conversion_probability=None if prob is None else round(float(prob), 12),
        channels=channels, campaigns=campaigns)


class PathsAttributionResult(QueryResult):
    """Attribution of journeys brought in the aggregated path format."""

    model: AttributionModel
    weights: dict[str, Any]
    definition: str = Field(description="The model's weights and definition in plain words")
    journeys: float
    total_conversions: float
    total_value: float
    conversion_probability: float | None = None
    channels: list[CreditRow]


def attribute_paths(j: Journeys, *, model: AttributionModel | str, order: int = 1,
                    weights: tuple[float, ...] | None = None, seed: int = 0) -> PathsAttributionResult:
    """Credit channels of journeys read from a paths file (no engine: the paths are the data)."""
    from smarketing.analytics.kernels import attribute  # loads when a query runs, not at start-up
    from smarketing.analytics.kernels.rules import model_definition

    m = AttributionModel(model)
    if m is AttributionModel.TIME_DECAY:
        raise ValidationFailed("the paths format has no touch times, so time decay cannot run on it",
                               field="model")
    if m is AttributionModel.CUSTOM and weights is None:
        raise ValidationFailed("the custom model needs weights, e.g. 0.4,0.2,0.4", field="weights")
    src = j if m in (AttributionModel.MARKOV, AttributionModel.SHAPLEY) else j.converting()
    credit = attribute(src, m, order=order, custom=weights, seed=seed)
    prob = credit.extra.get("conversion_probability")
    return PathsAttributionResult(
        model=m, weights={k: v for k, v in credit.weights.items() if k not in ("shares", "removal_effects")},
        definition=model_definition(m, custom=weights, order=order),
        journeys=round(j.total_journeys(), 6), total_conversions=round(j.total_conversions(), 9),
        total_value=round(j.total_value(), 6), conversion_probability=None if prob is None else round(float(prob), 12),
        channels=credit_rows(credit, j))
