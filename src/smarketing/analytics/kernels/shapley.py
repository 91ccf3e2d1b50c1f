"""Shapley value attribution over channel coalitions.

The worth of a coalition S is the conversion rate (and value per journey) of the journeys whose channels all lie in
S — the business as it would look if only the channels of S existed. Shapley values split the overall rate
v(all channels) fairly between channels, so credits times the number of journeys sum exactly to the total
conversions and value. A channel whose presence lowers conversion gets negative credit.

Up to `EXACT_MAX_CHANNELS` channels the values are exact: a subset-sum (zeta) transform over all 2^C coalitions.
Beyond it they are estimated from random channel orderings (with their reversals, which halves the variance);
each ordering's marginal contributions still sum exactly to v(all), so totals stay exact, and the standard error
of every channel's credit is reported in `extra["stderr_conversions"]`.
"""

from __future__ import annotations

from math import factorial
from typing import Any

import numpy as np

from smarketing.analytics.kernels.journeys import Journeys, unique_ints
from smarketing.analytics.kernels.rules import Credit

EXACT_MAX_CHANNELS = 15
DEFAULT_PERMUTATIONS = 400


def _rates(conv: np.ndarray, val: np.ndarray, n: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return (np.divide(conv, n, out=np.zeros_like(conv), where=n > 0),
            np.divide(val, n, out=np.zeros_like(val), where=n > 0))


def _exact(j: Journeys, jmask: np.ndarray, mult: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = j.n_codes
    size = 1 << c
    arrays = [np.bincount(jmask, weights=w, minlength=size) for w in (j.conversions, j.value, mult)]
    for arr in arrays:  # subset sums: arr[S] = Σ_{T ⊆ S} arr[T]
        for i in range(c):
            view = arr.reshape(-1, 2, 1 << i)
            view[:, 1, :] += view[:, 0, :]
    v_conv, v_val = _rates(*arrays)
    sizes = np.array([bin(s).count("1") for s in range(size)]) if c <= 10 else _popcount(np.arange(size))
    # Weight of a coalition S (not holding c) in c's Shapley sum: |S|! (C-|S|-1)! / C!
    coef = np.array([factorial(k) * factorial(c - k - 1) / factorial(c) for k in range(c)])
    phi = np.zeros((c, 2))
    idx = np.arange(size)
    for ch in range(c):
        without = idx[(idx >> ch) & 1 == 0]
        w = coef[sizes[without]]
        phi[ch, 0] = np.dot(w, v_conv[without | (1 << ch)] - v_conv[without])
        phi[ch, 1] = np.dot(w, v_val[without | (1 << ch)] - v_val[without])
    return phi, np.zeros((c, 2))


def _popcount(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.int64)
    out = np.zeros_like(x)
    while np.any(x):
        out += x & 1
        x >>= 1
    return out


def _sampled(j: Journeys, mult: np.ndarray, permutations: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    c = j.n_codes
    jt = j.journey_of_touch()
    # Each journey's distinct channels, as CSR (journey-major, sorted).
    key = unique_ints(jt * c + j.codes.astype(np.int64))
    set_j, set_code = key // c, key % c
    has = np.bincount(set_j, minlength=j.n_journeys) > 0
    starts = np.searchsorted(set_j, np.flatnonzero(has))
    conv, val, n = j.conversions[has], j.value[has], mult[has]
    rng = np.random.default_rng(seed)
    pairs = max(1, permutations // 2)
    sums = np.zeros((c, 2))
    sq = np.zeros((c, 2))
    for _ in range(pairs):
        perm = rng.permutation(c)
        pair_phi = np.zeros((c, 2))
        for order in (perm, perm[::-1]):
            rank = np.empty(c, dtype=np.int64)
            rank[order] = np.arange(c)
            enters = np.maximum.reduceat(rank[set_code], starts)  # prefix length at which a journey is covered
            cum = [np.cumsum(np.bincount(enters, weights=w, minlength=c)) for w in (conv, val, n)]
            v_conv, v_val = _rates(*cum)
            marg = np.diff(np.column_stack([v_conv, v_val]), axis=0, prepend=0.0)
            pair_phi[order] += marg / 2
        sums += pair_phi
        sq += pair_phi**2
    mean = sums / pairs
    var = np.maximum(sq / pairs - mean**2, 0.0)
    stderr = np.sqrt(var / pairs) if pairs > 1 else np.full_like(mean, np.nan)
    return mean, stderr


def shapley_credit(j: Journeys, *, exact_max_channels: int = EXACT_MAX_CHANNELS,
                   permutations: int = DEFAULT_PERMUTATIONS, seed: int = 0) -> Credit:
    """Conversions and value per channel as Shapley values of the conversion-rate game over channel coalitions."""
    c = j.n_codes
    mult = j.conversions + j.nulls
    nonempty = j.lengths > 0
    total_j = float(mult[nonempty].sum())
    sub = j if nonempty.all() else j.subset(np.flatnonzero(nonempty))
    mult = mult[nonempty]
    exact = c <= exact_max_channels
    if c == 0:
        phi, err = np.zeros((0, 2)), np.zeros((0, 2))
    elif exact:
        bits = np.left_shift(np.int64(1), sub.codes.astype(np.int64))
        jmask = np.bitwise_or.reduceat(bits, sub.offsets[:-1]) if sub.n_touches else np.zeros(0, np.int64)
        phi, err = _exact(sub, jmask, mult)
    else:
        phi, err = _sampled(sub, mult, permutations, seed)
    total_conv, total_val = j.total_conversions(), j.total_value()
    # Journeys without touches convert too but no channel can claim them; they stay out of the game and out of
    # the totals that the channels share.
    conv, val = phi[:, 0] * total_j, phi[:, 1] * total_j
    shares = phi[:, 0] / phi[:, 0].sum() if c and phi[:, 0].sum() else np.zeros(c)
    weights: dict[str, Any] = {"model": "shapley", "exact": exact,
                               "shares": {n: float(x) for n, x in zip(j.names, shares, strict=True)}}
    extra: dict[str, Any] = {"exact": exact, "permutations": 0 if exact else max(2, 2 * (permutations // 2)),
                             "stderr_conversions": err[:, 0] * total_j, "stderr_value": err[:, 1] * total_j,
                             "total_conversions_with_touches": float(sub.conversions.sum()),
                             "total_conversions": total_conv, "total_value": total_val}
    return Credit(names=j.names, conversions=conv, value=val, weights=weights, extra=extra)
