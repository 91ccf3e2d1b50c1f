"""Rule-based attribution: every touch gets a share of its journey's credit by position or by age.

Each model returns one weight per touch; the weights of a journey sum to 1, so attributed conversions and value
sum exactly to the totals. Only converting journeys can receive credit, so callers pass
`journeys.converting()` when most journeys do not convert (the kernels give the same numbers either way).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.kernels import loops
from smarketing.analytics.kernels.journeys import Journeys
from smarketing.analytics.kernels.loops import jit
from smarketing.core.errors import ValidationFailed

RULE_MODELS = (AttributionModel.FIRST_TOUCH, AttributionModel.LAST_TOUCH, AttributionModel.LINEAR,
               AttributionModel.TIME_DECAY, AttributionModel.U_SHAPED, AttributionModel.W_SHAPED,
               AttributionModel.FULL_PATH, AttributionModel.CUSTOM)

U_SHAPE = {"first": 0.4, "lead_creation": 0.4, "middle": 0.2}
W_SHAPE = {"first": 0.3, "lead_creation": 0.3, "opportunity_creation": 0.3, "middle": 0.1}
FULL_PATH_SHAPE = {"first": 0.225, "lead_creation": 0.225, "opportunity_creation": 0.225, "close": 0.225,
                   "middle": 0.1}
DEFAULT_HALF_LIFE_DAYS = 7.0
LINEAR_SHOWN = {"each_touch": "1/n"}


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


# Model numbers understood by the compiled loop.
_FIRST, _LAST, _LINEAR, _DECAY, _U, _W, _FULL, _CUSTOM = range(8)
_CODES = {AttributionModel.FIRST_TOUCH: _FIRST, AttributionModel.LAST_TOUCH: _LAST, AttributionModel.LINEAR: _LINEAR,
          AttributionModel.TIME_DECAY: _DECAY, AttributionModel.U_SHAPED: _U, AttributionModel.W_SHAPED: _W,
          AttributionModel.FULL_PATH: _FULL, AttributionModel.CUSTOM: _CUSTOM}
# The models whose shares need the positions of the lead- and opportunity-creation touches, or the custom weights.
POSITION_MODELS = (AttributionModel.U_SHAPED, AttributionModel.W_SHAPED, AttributionModel.FULL_PATH,
                   AttributionModel.CUSTOM)


def model_number(model: AttributionModel) -> int:
    """The number the compiled loops know `model` by."""
    return _CODES[model]


@jit
def _middle_pos(length: int, known: int, fraction: float) -> int:
    """The known key position, else an interior touch at `fraction` of the path; -1 when there is no interior."""
    if 0 <= known < length:
        return known
    if length < 3:
        return -1
    return min(max(int(np.rint((length - 1) * fraction)), 1), max(length - 2, 1))


@jit
def _slots(share: np.ndarray, a: int, n: int, pos: np.ndarray, weight: np.ndarray, k: int, middle: float) -> None:
    """Key touches get their slot weights (slots landing on one touch add up); the rest share `middle`; then the
    journey is normalised. A slot at -1 is dropped, so a journey without other touches is renormalised over the
    key touches (a one-touch journey gives that touch everything, a two-touch U-shape gives 50/50)."""
    for i in range(n):
        share[a + i] = -1.0  # not a key touch yet
    keys = 0
    for s in range(k):
        if pos[s] >= 0 and share[a + pos[s]] < 0:
            share[a + pos[s]] = 0.0
            keys += 1
    for s in range(k):
        if pos[s] >= 0:
            share[a + pos[s]] += weight[s]
    rest = n - keys
    total = 0.0
    for i in range(n):
        if share[a + i] < 0:
            share[a + i] = middle / rest
        total += share[a + i]
    for i in range(n):
        share[a + i] = share[a + i] / total if total > 0 else 0.0


@jit
def _custom(share: np.ndarray, a: int, n: int, w: np.ndarray, per_bucket: np.ndarray) -> None:
    """Weights (first, middle segments…, last): the first and last touches take the end weights; interior touches
    are cut into len(w)-2 equal segments, each sharing its weight; buckets without touches are renormalised away
    and a journey whose touches all weigh 0 is split evenly."""
    k = w.shape[0]
    if k == 1 or n == 1:
        for i in range(n):
            share[a + i] = 1.0 / n
        return
    interior = k - 2
    per_bucket[:] = 0
    for i in range(n):
        per_bucket[_bucket(i, n, k, interior)] += 1
    total = 0.0
    for i in range(n):
        b = _bucket(i, n, k, interior)
        share[a + i] = (w[b] if b < k else 0.0) / per_bucket[b]
        total += share[a + i]
    for i in range(n):
        share[a + i] = share[a + i] / total if total > 0 else 1.0 / n


@jit
def _bucket(i: int, n: int, k: int, interior: int) -> int:
    if i == 0:
        return 0
    if i == n - 1:
        return k - 1
    if interior == 0:
        return k  # interior touches weigh nothing when only (first, last) weights are given
    return 1 + ((i - 1) * interior) // max(n - 2, 1)


@jit
def position_shares(share: np.ndarray, a: int, n: int, model: int, known_lead: int, known_opp: int,
                    custom: np.ndarray, pos: np.ndarray, weight: np.ndarray, per_bucket: np.ndarray) -> None:
    """`share[a:a + n]` of one journey of n touches under a position model (U, W, full path or custom), given the
    positions of its lead-creation and opportunity-creation touches (-1 unknown); `pos`, `weight` (4 each) and
    `per_bucket` (len(custom) + 1) are scratch. One definition for the gathered journeys and the ranges."""
    if model == _CUSTOM:
        _custom(share, a, n, custom, per_bucket)
        return
    if model == _U:
        # HubSpot's U-shape: the first touch and the lead-creation touch (the last one when unknown).
        lead = known_lead if 0 <= known_lead < n else n - 1
        pos[0], pos[1], weight[0], weight[1], k, middle = 0, lead, 0.4, 0.4, 2, 0.2
    elif model == _W:
        opp = known_opp if 0 <= known_opp < n else n - 1
        pos[0], pos[1], pos[2] = 0, _middle_pos(n, known_lead, 0.5), opp
        weight[0], weight[1], weight[2], k, middle = 0.3, 0.3, 0.3, 3, 0.1
    else:
        pos[0], pos[1], pos[2], pos[3] = (0, _middle_pos(n, known_lead, 1 / 3),
                                          _middle_pos(n, known_opp, 2 / 3), n - 1)
        weight[:] = 0.225
        k, middle = 4, 0.1
    _slots(share, a, n, pos, weight, k, middle)


@jit
def _rule_loop(offsets: np.ndarray, codes: np.ndarray, conversions: np.ndarray, value: np.ndarray,
               times: np.ndarray, lead_pos: np.ndarray, opp_pos: np.ndarray, model: int, half_life: float,
               custom: np.ndarray, n_codes: int, share: np.ndarray, j0: int, j1: int
               ) -> tuple[np.ndarray, np.ndarray]:
    """Touch shares of journeys [j0, j1) under one model, and the conversions and value they credit per code."""
    conv = np.zeros(n_codes)
    val = np.zeros(n_codes)
    pos = np.empty(4, dtype=np.int64)
    weight = np.empty(4)
    per_bucket = np.zeros(custom.shape[0] + 1, dtype=np.int64)
    for j in range(j0, j1):
        a = offsets[j]
        n = offsets[j + 1] - a
        if n == 0:
            continue
        if model in (_FIRST, _LAST):
            for i in range(n):
                share[a + i] = 0.0
            share[a if model == _FIRST else a + n - 1] = 1.0
        elif model == _LINEAR:
            for i in range(n):
                share[a + i] = 1.0 / n
        elif model == _DECAY:
            # Normalised weights do not depend on the reference time, so age is measured from the journey's
            # newest touch: it weighs 1 and no journey underflows to all-zero weights.
            newest = times[a]
            for i in range(n):
                newest = max(newest, times[a + i])
            total = 0.0
            for i in range(n):
                share[a + i] = 2.0 ** (-(newest - times[a + i]) / half_life)
                total += share[a + i]
            for i in range(n):
                share[a + i] /= total
        else:
            position_shares(share, a, n, model, lead_pos[j] if lead_pos.shape[0] else -1,
                            opp_pos[j] if opp_pos.shape[0] else -1, custom, pos, weight, per_bucket)
        for i in range(n):
            conv[codes[a + i]] += share[a + i] * conversions[j]
            val[codes[a + i]] += share[a + i] * value[j]
    return conv, val


def _run(j: Journeys, model: AttributionModel, half_life_days: float, custom: tuple[float, ...]
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    empty = np.zeros(0)
    none = np.zeros(0, dtype=np.int64)
    share = np.zeros(j.n_touches)
    parts = loops.in_chunks(
        _rule_loop, j.offsets, j.offsets, j.codes, j.conversions, j.value,
        j.times if j.times is not None else empty,
        j.lead_pos.astype(np.int64) if j.lead_pos is not None else none,
        j.opp_pos.astype(np.int64) if j.opp_pos is not None else none,
        _CODES[model], float(half_life_days), np.asarray(custom, dtype=np.float64), j.n_codes, share)
    conv, val = loops.add_up(parts)
    return share, conv, val


def _checked(j: Journeys, model: AttributionModel | str, half_life_days: float, custom: Sequence[float] | None
             ) -> tuple[AttributionModel, tuple[float, ...], dict[str, Any]]:
    """The model, its custom weights and the weights to show next to the figures; bad settings raise."""
    checked = rule_settings(model, half_life_days, custom)
    if checked[0] is AttributionModel.TIME_DECAY and j.times is None:
        raise AttributionWeightsInvalid("time decay needs touch times", field="model")
    return checked


def rule_settings(model: AttributionModel | str, half_life_days: float, custom: Sequence[float] | None
                  ) -> tuple[AttributionModel, tuple[float, ...], dict[str, Any]]:
    """A rule model, its custom weights and the weights to show next to the figures, whatever holds the journeys;
    bad settings raise."""
    model = AttributionModel(model)
    shown: dict[str, Any]
    w: tuple[float, ...] = ()
    if model is AttributionModel.FIRST_TOUCH:
        shown = {"first": 1.0}
    elif model is AttributionModel.LAST_TOUCH:
        shown = {"last": 1.0}
    elif model is AttributionModel.LINEAR:
        shown = dict(LINEAR_SHOWN)
    elif model is AttributionModel.TIME_DECAY:
        if not half_life_days > 0:
            raise AttributionWeightsInvalid(f"half-life must be a positive number of days, got {half_life_days}",
                                            field="half_life_days")
        shown = {"half_life_days": half_life_days, "weight": "2^(-age_days/half_life)"}
    elif model is AttributionModel.U_SHAPED:
        shown = dict(U_SHAPE)
    elif model is AttributionModel.W_SHAPED:
        shown = dict(W_SHAPE)
    elif model is AttributionModel.FULL_PATH:
        shown = dict(FULL_PATH_SHAPE)
    elif model is AttributionModel.CUSTOM:
        if custom is None:
            raise AttributionWeightsInvalid("the custom model needs position weights, e.g. --weights 0.4,0.2,0.4",
                                            field="weights")
        w = validate_custom_weights(custom)
        shown = {"positions": list(w)}
    else:
        raise AttributionWeightsInvalid(f"{model} is not a rule-based model", field="model")
    return model, w, shown


def model_definition(model: AttributionModel | str, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                     custom: Sequence[float] | None = None, order: int = 1) -> str:
    """The model's weights and definition in plain words, to show beside its figures."""
    m = AttributionModel(model)
    lead = ("the lead-creation touch (the last touch at or before the first MQL; the last touch of the journey "
            "when that is unknown)")
    rest = "Every journey's credit sums to 100 %, so the credits add up to the observed totals."
    text = {
        AttributionModel.FIRST_TOUCH: "100 % of each conversion to the journey's first touch.",
        AttributionModel.LAST_TOUCH: "100 % of each conversion to the last touch before it.",
        AttributionModel.LINEAR: "An equal share to every touch of the journey (1/n each).",
        AttributionModel.TIME_DECAY: (f"Each touch weighs 2^(−age / {half_life_days:g} days), its age counted "
                                      "back from the journey's newest touch: a touch "
                                      f"{half_life_days:g} days older weighs half as much."),
        AttributionModel.U_SHAPED: (f"40 % to the first touch, 40 % to {lead}, 20 % spread evenly over the other "
                                    "touches — HubSpot's U-shape (Marketo Measure's U-shape is 50/50 with "
                                    "nothing between). A touch holding both key roles takes both shares; "
                                    "without other touches the key touches are scaled up to 100 %."),
        AttributionModel.W_SHAPED: ("30 % to the first touch, 30 % to the lead-creation touch (a touch halfway "
                                    "along the journey when that is unknown), 30 % to the opportunity-creation "
                                    "touch (the last touch when unknown), 10 % spread evenly over the other "
                                    "touches."),
        AttributionModel.FULL_PATH: ("22.5 % each to the first touch, the lead-creation touch, the opportunity-"
                                     "creation touch and the last touch (close), 10 % spread evenly over the "
                                     "other touches."),
        AttributionModel.MARKOV: (f"Data-driven: an order-{order} Markov chain over every journey, converting or "
                                  "not. A channel's removal effect is how far the chance of converting falls when "
                                  "the channel is taken out; the conversions and value are shared in proportion to "
                                  "the removal effects (never negative)."),
        AttributionModel.SHAPLEY: ("Data-driven: the simplified Shapley value (Zhao et al. 2018, as Google Ads Data "
                                   "Hub uses). The worth of a set of channels is what the journeys touching only "
                                   "those channels earned; each channel's Shapley value then equals every "
                                   "converting journey's conversions and value split evenly over the distinct "
                                   "channels it touched. Exact for any number of channels and campaigns (nothing "
                                   "sampled); never negative."),
    }
    if m is AttributionModel.CUSTOM:
        w = [f"{x * 100:g} %" for x in (custom or ())]
        if len(w) <= 1:
            body = "Custom weights: every touch shares the credit equally."
        elif len(w) == 2:
            body = f"Custom weights: {w[0]} to the first touch, {w[1]} to the last, nothing to the touches between."
        else:
            body = (f"Custom weights: {w[0]} to the first touch, {w[-1]} to the last; the touches between are cut "
                    f"into {len(w) - 2} equal segments sharing {', '.join(w[1:-1])}.")
        return f"{body} {rest}"
    return f"{text[m]} {rest}"


def touch_weights(j: Journeys, model: AttributionModel | str, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                  custom: Sequence[float] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """Share of its journey's credit for every touch, and the weights to show next to the figures."""
    m, w, shown = _checked(j, model, half_life_days, custom)
    return _run(j, m, half_life_days, w)[0], shown


def rule_credit(j: Journeys, model: AttributionModel | str, *, half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
                custom: Sequence[float] | None = None) -> Credit:
    """Conversions and value credited to each code under a rule-based model (one compiled pass)."""
    m, w, shown = _checked(j, model, half_life_days, custom)
    share, conv, val = _run(j, m, half_life_days, w)
    return Credit(names=j.names, conversions=conv, value=val, weights={"model": str(m), **shown},
                  touch_share=share)
