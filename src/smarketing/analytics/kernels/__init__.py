"""Pure attribution kernels over integer-coded journeys (NumPy/SciPy; no ORM, no engine)."""

from __future__ import annotations

from collections.abc import Sequence

from smarketing.analytics.kernels.journeys import (
    AttributionInputInvalid,
    Journeys,
    journeys_from_events,
    journeys_from_lists,
)
from smarketing.analytics.kernels.markov import markov_credit, touch_share_from_channel_weights
from smarketing.analytics.kernels.paths import (
    PathsFileInvalid,
    journeys_from_path_strings,
    parse_paths,
    read_paths,
    read_paths_file,
)
from smarketing.analytics.kernels.rules import (
    RULE_MODELS,
    AttributionModel,
    AttributionWeightsInvalid,
    Credit,
    rule_credit,
    touch_weights,
    validate_custom_weights,
)
from smarketing.analytics.kernels.shapley import shapley_credit

__all__ = [
    "RULE_MODELS", "AttributionInputInvalid", "AttributionModel", "AttributionWeightsInvalid", "Credit", "Journeys",
    "PathsFileInvalid", "attribute", "journeys_from_events", "journeys_from_lists", "journeys_from_path_strings",
    "markov_credit", "parse_paths", "read_paths", "read_paths_file", "rule_credit", "shapley_credit", "touch_share_from_channel_weights",
    "touch_weights", "validate_custom_weights",
]


def attribute(j: Journeys, model: AttributionModel | str, *, order: int = 1, half_life_days: float = 7.0,
              custom: Sequence[float] | None = None, seed: int = 0) -> Credit:
    """Run one model; rule-based models only look at converting journeys, data-driven ones at all."""
    m = AttributionModel(model)
    if m is AttributionModel.MARKOV:
        return markov_credit(j, order=order)
    if m is AttributionModel.SHAPLEY:
        return shapley_credit(j, seed=seed)
    return rule_credit(j, m, half_life_days=half_life_days, custom=custom)
