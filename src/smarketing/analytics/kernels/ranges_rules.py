"""Position-based rule credit (U-shaped, W-shaped, full path, custom) read off journeys held as runs `[lo, hi)` of
one sorted touch array, never gathered.

A journey's lead-creation and opportunity-creation touches are its last touches at or before the subject's first
MQL and the opportunity's opening: the run's touches are in time order, so each is one binary search inside the
run (the gathered path's searchsorted over the whole key finds the same touch). The shares come from the very
function the gathered `rules._rule_loop` calls (`rules.position_shares`), journeys are chunked as
`Journeys.converting()` is, so the figures are the same floats.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.kernels.loops import jit
from smarketing.analytics.kernels.ranges import in_journey_chunks
from smarketing.analytics.kernels.rules import (
    DEFAULT_HALF_LIFE_DAYS,
    POSITION_MODELS,
    AttributionWeightsInvalid,
    Credit,
    model_number,
    position_shares,
    rule_settings,
)


@jit
def last_at_or_before(t_epoch: np.ndarray, a: int, n: int, when: int) -> int:
    """Position in the run `t_epoch[a:a + n]` (sorted) of its last touch at or before `when`; -1 when there is none
    or `when` is unknown (negative)."""
    if when < 0:
        return -1
    low, high = 0, n
    while low < high:
        mid = (low + high) // 2
        if t_epoch[a + mid] <= when:
            low = mid + 1
        else:
            high = mid
    return low - 1


@jit
def _position_loop(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, lead_at: np.ndarray,
                   opp_at: np.ndarray, codes: np.ndarray, t_epoch: np.ndarray, model: int, custom: np.ndarray,
                   n_codes: int, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value of journeys [j0, j1) shared under a position model, summed per code."""
    conv = np.zeros(n_codes)
    val = np.zeros(n_codes)
    pos = np.empty(4, dtype=np.int64)
    weight = np.empty(4)
    per_bucket = np.zeros(custom.shape[0] + 1, dtype=np.int64)
    longest = 0
    for j in range(j0, j1):
        longest = max(longest, hi[j] - lo[j])
    share = np.empty(longest)
    for j in range(j0, j1):
        a = lo[j]
        n = hi[j] - a
        if n <= 0:
            continue
        position_shares(share, 0, n, model, last_at_or_before(t_epoch, a, n, lead_at[j]),
                        last_at_or_before(t_epoch, a, n, opp_at[j]), custom, pos, weight, per_bucket)
        for i in range(n):
            conv[codes[a + i]] += share[i] * conversions[j]
            val[codes[a + i]] += share[i] * value[j]
    return conv, val


def position_credit(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray,
                    lead_at: np.ndarray, opp_at: np.ndarray, codes: np.ndarray, t_epoch: np.ndarray,
                    names: tuple[str, ...], model: AttributionModel | str,
                    custom: Sequence[float] | None = None) -> Credit:
    """Credit per code of the converting journeys among `[lo, hi)` under a position model (codes index `names`;
    `t_epoch` the touches' epoch seconds; per journey, `lead_at` the subject's first MQL epoch and `opp_at` the
    opportunity's opening epoch, -1 when unknown): the gathered path's figures (`rule_credit`), to the last bit."""
    m, w, shown = rule_settings(model, DEFAULT_HALF_LIFE_DAYS, custom)
    if m not in POSITION_MODELS:
        raise AttributionWeightsInvalid(f"{m} is not a position-based model", field="model")
    picked = np.flatnonzero(conversions > 0)
    lo_c, hi_c, conv_c, val_c, lead_c, opp_c = (np.ascontiguousarray(x[picked]) for x in
                                                (lo, hi, conversions, value, lead_at, opp_at))
    conv, val = in_journey_chunks(_position_loop, lo_c, hi_c, conv_c, val_c,
                                  lead_c.astype(np.int64, copy=False), opp_c.astype(np.int64, copy=False), codes,
                                  t_epoch, model_number(m), np.asarray(w, dtype=np.float64), len(names))
    return Credit(names=names, conversions=conv, value=val, weights={"model": str(m), **shown})
