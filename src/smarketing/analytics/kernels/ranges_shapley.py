"""The simplified Shapley value of journeys held as runs `[lo, hi)` of one sorted touch array, never gathered.

Each journey's conversions and value are split evenly over the distinct codes it touched (`kernels.shapley`).
The gathered path adds each (journey, code) pair's share in journey order; so does the one pass here, with the codes
numbered in order of first appearance as the gathered path numbers them (`rank`): the same floats, the same
coalitions.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smarketing.analytics.kernels.loops import jit
from smarketing.analytics.kernels.rules import Credit
from smarketing.analytics.kernels.shapley import METHOD, ORDER_BUCKETS


@jit
def _shapley_loop(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                  rank: np.ndarray, n_codes: int, keys: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per code its share of the conversions and value, and of the conversions by the order it entered each
    journey; per converting journey with touches, the two sums of its codes' keys that fingerprint its set."""
    conv = np.zeros(n_codes)
    val = np.zeros(n_codes)
    by_order = np.zeros((n_codes, ORDER_BUCKETS))
    prints = np.zeros((lo.shape[0], 2), dtype=np.uint64)
    n_prints = 0
    last = np.full(n_codes, -1, dtype=np.int64)
    entered = np.zeros(n_codes, dtype=np.int64)
    for j in range(lo.shape[0]):
        if conversions[j] == 0.0 and value[j] == 0.0:
            continue  # its terms are all zero, and adding a zero changes no sum
        distinct = 0
        for t in range(lo[j], hi[j]):
            c = rank[codes[t]]
            if last[c] != j:
                last[c] = j
                entered[c] = distinct
                distinct += 1
        if distinct == 0:
            continue
        per_pair = 1.0 / distinct
        converting = conversions[j] > 0
        # Each distinct code once, at its first touch: a code's sums take one term per journey, in journey order.
        for t in range(lo[j], hi[j]):
            c = rank[codes[t]]
            if last[c] == j:
                last[c] = -2 - j  # counted for this journey
                conv[c] += per_pair * conversions[j]
                val[c] += per_pair * value[j]
                by_order[c, min(entered[c], ORDER_BUCKETS - 1)] += per_pair * conversions[j]
                if converting:
                    prints[n_prints, 0] += keys[c, 0]
                    prints[n_prints, 1] += keys[c, 1]
        if converting:
            n_prints += 1
    return conv, val, by_order, prints[:n_prints]


def shapley_ranges_credit(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray,
                          codes: np.ndarray, names: tuple[str, ...], seen: np.ndarray) -> Credit:
    """The simplified Shapley value of every journey among `[lo, hi)` for the codes `seen` in some journey, in order
    of first appearance (codes index `names`): the gathered path's figures (`shapley_credit`), to the last bit."""
    c = int(seen.shape[0])
    shown = tuple(names[i] for i in seen)
    rank = np.zeros(max(len(names), 1), dtype=np.int32)
    rank[seen] = np.arange(c, dtype=np.int32)
    # The very keys `shapley._count_coalitions` draws for the same number of codes.
    keys = np.random.default_rng(0).integers(1, 2**63 - 1, size=(max(c, 1), 2)).astype(np.uint64)
    conv, val, by_order, prints = _shapley_loop(lo, hi, np.ascontiguousarray(conversions, dtype=np.float64),
                                                np.ascontiguousarray(value, dtype=np.float64), codes, rank, c, keys)
    coalitions = int(np.unique(prints, axis=0).shape[0]) if prints.shape[0] else 0
    total = float(conv.sum())
    shares = conv / total if total else np.zeros(c)
    weights: dict[str, Any] = {"model": "shapley", "method": METHOD, "exact": True, "sampled": False,
                               "coalitions": coalitions,
                               "shares": {n: float(x) for n, x in zip(shown, shares, strict=True)}}
    lengths = hi - lo
    extra: dict[str, Any] = {"exact": True, "sampled": False, "coalitions": coalitions, "by_order": by_order,
                             "total_conversions_with_touches": float(conversions[lengths > 0].sum()),
                             "total_conversions": float(conversions.sum()), "total_value": float(value.sum())}
    return Credit(names=shown, conversions=conv, value=val, weights=weights, extra=extra)
