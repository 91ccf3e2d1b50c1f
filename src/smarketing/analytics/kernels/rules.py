"""Rule-based attribution: every touch gets a share of its journey's credit by position or by age.

Each model returns one weight per touch; the weights of a journey sum to 1, so attributed conversions and value
sum exactly to the totals. Only converting journeys can receive credit, so callers pass
`journeys.converting()` when most journeys do not convert (the kernels give the same numbers either way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np

from smarketing.analytics.kernels.journeys import Journeys
from smarketing.core.errors import ValidationFailed


class AttributionModel(StrEnum):
    FIRST_TOUCH = "first_touch"
    LAST_TOUCH = "last_touch"
    LINEAR = "linear"
    TIME_DECAY = "time_decay"
    U_SHAPED = "u_shaped"
    W_SHAPED = "w_shaped"
    FULL_PATH = "full_path"
    CUSTOM = "custom"
    MARKOV = "markov"
    SHAPLEY = "shapley"


RULE_MODELS = (AttributionModel.FIRST_TOUCH, AttributionModel.LAST_TOUCH, AttributionModel.LINEAR,
               AttributionModel.TIME_DECAY, AttributionModel.U_SHAPED, AttributionModel.W_SHAPED,
               AttributionModel.FULL_PATH, AttributionModel.CUSTOM)

U_SHAPE = {"first": 0.4, "middle": 0.2, "last": 0.4}
W_SHAPE = {"first": 0.3, "lead_creation": 0.3, "opportunity_creation": 0.3, "middle": 0.1}
FULL_PATH_SHAPE = {"first": 0.225, "lead_creation": 0.225, "opportunity_creation": 0.225, "close": 0.225,
                   "middle": 0.1}
DEFAULT_HALF_LIFE_DAYS = 7.0


class AttributionWeightsInvalid(ValidationFailed):
    code = "attribution_weights_invalid"


@dataclass(frozen=True)
class Credit:
    """Credit per code (channel or campaign) plus the weights the model used, for display beside the figures."""

    names: tuple[str, ...]
    conversions: np.ndarray  # float64 per code
    value: np.ndarray  # float64 per code
    weights: dict[str, Any] = field(default_factory=dict)
    touch_share: np.ndarray | None = None  # per touch: share of its journey's credit (rule models)
    extra: dict[str, Any] = field(default_factory=dict)


def validate_custom_weights(weights: Sequence[float]) -> tuple[float, ...]:
    """Position weights (first, …middle segments…, last) must be finite, non-negative and sum to 1."""
    w = tuple(float(x) for x in weights)
    if not w:
        raise AttributionWeightsInvalid("custom weights are empty: give at least one position weight, e.g. 0.4,0.2,0.4",
                                        field="weights")
    if any(not np.isfinite(x) or x < 0 for x in w):
        raise AttributionWeightsInvalid(f"custom weights must be finite and not negative, got {list(w)}",
                                        field="weights")
    total = sum(w)
    if abs(total - 1.0) > 1e-6:
        raise AttributionWeightsInvalid(f"custom weights must sum to 1, got {list(w)} which sums to {total:g}",
                                        field="weights")
    return w


def _normalise(j: Journeys, jt: np.ndarray, w: np.ndarray) -> np.ndarray:
    sums = np.bincount(jt, weights=w, minlength=j.n_journeys)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = w / sums[jt]
    return np.nan_to_num(out, nan=0.0)


def _slot_weights(j: Journeys, jt: np.ndarray, slots: list[tuple[np.ndarray, float]], middle: float) -> np.ndarray:
    """Key touches get their slot weights (slots landing on one touch add up); the rest share `middle`.

    A slot whose position is -1 is dropped. Journeys with no non-key touch are renormalised over the key touches,
    so a one-touch journey gives that touch everything and a two-touch U-shape gives 50/50.
    """
    n = j.n_touches
    starts = j.offsets[:-1]
    key_w = np.zeros(n)
    for pos, weight in slots:
        ok = pos >= 0
        key_w += np.bincount(starts[ok] + pos[ok], minlength=n) * weight
    is_key = np.zeros(n, dtype=bool)
    for pos, _ in slots:
        ok = pos >= 0
        is_key[starts[ok] + pos[ok]] = True
    rest = j.lengths - np.bincount(jt[is_key], minlength=j.n_journeys)
    with np.errstate(invalid="ignore", divide="ignore"):
        mid = np.where(is_key, 0.0, middle / rest[jt])
    return _normalise(j, jt, key_w + np.nan_to_num(mid, nan=0.0, posinf=0.0))


def _middle_pos(lengths: np.ndarray, known: np.ndarray | None, fraction: float) -> np.ndarray:
    """The known key position, else an interior touch at `fraction` of the path; -1 when there is no interior."""
    guess = np.clip(np.rint((lengths - 1) * fraction).astype(np.int64), 1, np.maximum(lengths - 2, 1))
    guess = np.where(lengths >= 3, guess, -1)
    if known is None:
        return guess
    ok = (known >= 0) & (known < lengths)
    return np.where(ok, known, guess)


def touch_weights(j: Journeys, model: AttributionModel | str, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                  custom: Sequence[float] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Share of its journey's credit for every touch, and the weights to show next to the figures."""
    model = AttributionModel(model)
    jt = j.journey_of_touch()
    pos = j.position_of_touch()
    length = j.lengths[jt]
    first = np.zeros(j.n_journeys, dtype=np.int64)
    last = j.lengths - 1
    if model is AttributionModel.FIRST_TOUCH:
        return (pos == 0).astype(np.float64), {"first": 1.0}
    if model is AttributionModel.LAST_TOUCH:
        return (pos == length - 1).astype(np.float64), {"last": 1.0}
    if model is AttributionModel.LINEAR:
        return 1.0 / length, {"each_touch": "1/n"}
    if model is AttributionModel.TIME_DECAY:
        if not half_life_days > 0:
            raise AttributionWeightsInvalid(f"half-life must be a positive number of days, got {half_life_days}",
                                            field="half_life_days")
        if j.times is None:
            raise AttributionWeightsInvalid("time decay needs touch times", field="model")
        # Normalised weights do not depend on the reference time, so measure age from the journey's newest touch:
        # that touch has weight 1 and no journey underflows to all-zero weights.
        age = _group_max(j.times, j)[jt] - j.times
        w = np.exp2(-age / half_life_days)
        return _normalise(j, jt, w), {"half_life_days": half_life_days, "weight": "2^(-age_days/half_life)"}
    if model is AttributionModel.U_SHAPED:
        return _slot_weights(j, jt, [(first, 0.4), (last, 0.4)], 0.2), dict(U_SHAPE)
    if model is AttributionModel.W_SHAPED:
        lead = _middle_pos(j.lengths, j.lead_pos, 0.5)
        opp = last if j.opp_pos is None else np.where((j.opp_pos >= 0) & (j.opp_pos < j.lengths), j.opp_pos, last)
        return _slot_weights(j, jt, [(first, 0.3), (lead, 0.3), (opp, 0.3)], 0.1), dict(W_SHAPE)
    if model is AttributionModel.FULL_PATH:
        lead = _middle_pos(j.lengths, j.lead_pos, 1 / 3)
        opp = _middle_pos(j.lengths, j.opp_pos, 2 / 3)
        slots = [(first, 0.225), (lead, 0.225), (opp, 0.225), (last, 0.225)]
        return _slot_weights(j, jt, slots, 0.1), dict(FULL_PATH_SHAPE)
    if model is AttributionModel.CUSTOM:
        if custom is None:
            raise AttributionWeightsInvalid("the custom model needs position weights, e.g. --weights 0.4,0.2,0.4",
                                            field="weights")
        w = validate_custom_weights(custom)
        return _custom(j, jt, pos, length, w), {"positions": list(w)}
    raise AttributionWeightsInvalid(f"{model} is not a rule-based model", field="model")


def _group_max(x: np.ndarray, j: Journeys) -> np.ndarray:
    nonempty = j.lengths > 0
    out = np.zeros(j.n_journeys)
    if j.n_touches:
        out[nonempty] = np.maximum.reduceat(x, j.offsets[:-1][nonempty])
    return out


def _custom(j: Journeys, jt: np.ndarray, pos: np.ndarray, length: np.ndarray, w: tuple[float, ...]) -> np.ndarray:
    """Weights (first, middle segments…, last): first and last touches take the end weights; interior touches are
    cut into len(w)-2 equal segments, each sharing its weight; buckets without touches are renormalised away."""
    k = len(w)
    warr = np.asarray(w)
    if k == 1:
        return 1.0 / length
    interior = k - 2
    # Bucket k is a zero-weight bucket for interior touches when only (first, last) weights are given.
    wext = np.append(warr, 0.0)
    bucket = np.where(pos == 0, 0, np.where(pos == length - 1, k - 1, k))
    if interior > 0:
        inner = (pos >= 1) & (pos <= length - 2)
        seg = 1 + ((pos - 1) * interior) // np.maximum(length - 2, 1)
        bucket = np.where(inner, seg, bucket)
    # One-touch journeys: the single touch is both first and last.
    single = length == 1
    # Touches per (journey, bucket), to spread a bucket's weight over its touches.
    key = jt * (k + 1) + bucket
    per_bucket = np.bincount(key, minlength=j.n_journeys * (k + 1))
    raw = wext[bucket] / per_bucket[key]
    raw = np.where(single, warr[0] + warr[k - 1], raw)
    out = _normalise(j, jt, raw)
    # All present buckets weighted 0 (e.g. weights 0,1,0 on a two-touch path): fall back to equal shares.
    zero = np.bincount(jt, weights=out, minlength=j.n_journeys) == 0
    return np.where(zero[jt], 1.0 / length, out)


def rule_credit(j: Journeys, model: AttributionModel | str, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                custom: Sequence[float] | None = None) -> Credit:
    """Conversions and value credited to each code under a rule-based model."""
    share, weights = touch_weights(j, model, half_life_days=half_life_days, custom=custom)
    jt = j.journey_of_touch()
    conv = np.bincount(j.codes, weights=share * j.conversions[jt], minlength=j.n_codes)
    val = np.bincount(j.codes, weights=share * j.value[jt], minlength=j.n_codes)
    return Credit(names=j.names, conversions=conv, value=val, weights={"model": str(model), **weights},
                  touch_share=share)
