"""Shapley value attribution: the simplified Shapley value of Zhao, Mahboobi and Bagheri (2018).

The players are the channels (or campaigns). A *coalition* T is the set of distinct channels a journey touched,
and R(T) is what the journeys with exactly that set earned (their conversions, and their pipeline or revenue).
The worth of a set of channels S is everything earned by journeys whose channels all lie in S:

    v(S) = Σ_{T ⊆ S} R(T)

This is the value function Google's Ads Data Hub uses. It is a sum of unanimity games with non-negative weights
R(T), so its Shapley value has a closed form (Zhao et al., "Shapley Value Methods for Attribution Modeling in
Online Advertising", 2018):

    φ_i = Σ_{T ∋ i} R(T) / |T|

— every converting journey's conversions and value are split evenly over the distinct channels in it, however
many times each was touched. Three properties follow, and the tests pin them: no channel ever gets negative
credit; credit is additive over journeys (a deal's credit is the sum of its touches' credit); and the credits
sum exactly to what the journeys with touches earned. The closed form is exact for any number of channels or
campaigns — no coalition is enumerated and nothing is sampled — in one pass over the touches.

The *ordered* Shapley value of the same paper splits each channel's credit further by the position at which it
entered the journey (first distinct channel, second, …): `extra["by_order"]` holds that breakdown.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smarketing.analytics.kernels.journeys import Journeys, unique_inverse
from smarketing.analytics.kernels.rules import Credit

METHOD = "simplified Shapley value (Zhao et al. 2018), exact"
ORDER_BUCKETS = 4  # first, second, third, fourth-or-later distinct channel of a journey


def _pairs(j: Journeys) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Distinct (journey, code) pairs: their journey, code and touch count, and each touch's pair index."""
    c = max(j.n_codes, 1)
    jt = j.journey_of_touch()
    keys, inverse = unique_inverse(jt * c + j.codes.astype(np.int64))
    return keys // c, keys % c, np.bincount(inverse, minlength=keys.shape[0]), inverse


def _entry_order(j: Journeys, pair_journey: np.ndarray, inverse: np.ndarray) -> np.ndarray:
    """For every distinct (journey, code) pair, the rank (0 = first) at which the code entered its journey."""
    n_pairs = pair_journey.shape[0]
    first_touch = np.full(n_pairs, np.iinfo(np.int64).max, dtype=np.int64)
    np.minimum.at(first_touch, inverse, np.arange(inverse.shape[0], dtype=np.int64))
    # Pairs sorted by journey then by their first touch; the rank restarts at every journey.
    order = np.lexsort((first_touch, pair_journey))
    sorted_j = pair_journey[order]
    starts = np.r_[0, np.flatnonzero(sorted_j[1:] != sorted_j[:-1]) + 1] if n_pairs else np.zeros(0, np.int64)
    run_start = np.zeros(n_pairs, dtype=np.int64)
    run_start[starts] = starts
    np.maximum.accumulate(run_start, out=run_start)
    rank = np.empty(n_pairs, dtype=np.int64)
    rank[order] = np.arange(n_pairs) - run_start
    return rank


def shapley_credit(j: Journeys, *, seed: int = 0) -> Credit:
    """Conversions and value per channel as the exact simplified Shapley value (each converting journey split
    evenly over its distinct channels). `seed` is accepted for a uniform kernel signature; nothing is sampled."""
    del seed  # the closed form is exact: there is nothing to sample
    c = j.n_codes
    pair_journey, pair_code, pair_touches, inverse = _pairs(j)
    distinct = np.bincount(pair_journey, minlength=j.n_journeys)  # |T| of every journey
    per_pair = np.divide(1.0, distinct[pair_journey], out=np.zeros(pair_journey.shape[0]),
                         where=distinct[pair_journey] > 0)
    conv = np.bincount(pair_code, weights=per_pair * j.conversions[pair_journey], minlength=c)
    val = np.bincount(pair_code, weights=per_pair * j.value[pair_journey], minlength=c)
    # Per touch: its channel's 1/|T| of the journey, shared by that channel's touches in the journey.
    touch_share = per_pair[inverse] / pair_touches[inverse] if j.n_touches else np.zeros(0)
    rank = np.minimum(_entry_order(j, pair_journey, inverse), ORDER_BUCKETS - 1)
    by_order = np.zeros((c, ORDER_BUCKETS))
    np.add.at(by_order, (pair_code, rank), per_pair * j.conversions[pair_journey])
    converting = j.conversions > 0
    coalitions = _count_coalitions(j, pair_journey, pair_code, converting)
    total = float(conv.sum())
    shares = conv / total if total else np.zeros(c)
    weights: dict[str, Any] = {"model": "shapley", "method": METHOD, "exact": True, "sampled": False,
                               "coalitions": coalitions,
                               "shares": {n: float(x) for n, x in zip(j.names, shares, strict=True)}}
    extra: dict[str, Any] = {"exact": True, "sampled": False, "coalitions": coalitions, "by_order": by_order,
                             "total_conversions_with_touches": float(j.conversions[j.lengths > 0].sum()),
                             "total_conversions": j.total_conversions(), "total_value": j.total_value()}
    return Credit(names=j.names, conversions=conv, value=val, weights=weights, touch_share=touch_share,
                  extra=extra)


def _count_coalitions(j: Journeys, pair_journey: np.ndarray, pair_code: np.ndarray, converting: np.ndarray) -> int:
    """How many distinct channel sets the converting journeys show (the coalitions whose R(T) is not 0)."""
    keep = converting[pair_journey]
    if not keep.any():
        return 0
    pj, pc = pair_journey[keep], pair_code[keep]
    # Each set is fingerprinted by two sums of fixed random 64-bit keys (wrapping), so a collision is practically
    # impossible and no set is ever spelt out.
    keys = np.random.default_rng(0).integers(1, 2**63 - 1, size=(max(j.n_codes, 1), 2)).astype(np.uint64)
    h = np.zeros((j.n_journeys, 2), dtype=np.uint64)
    np.add.at(h, pj, keys[pc])
    return int(np.unique(h[np.unique(pj)], axis=0).shape[0])
