"""Markov chain credit of journeys held as runs `[lo, hi)` of one sorted touch array, never gathered.

The gathered path codes the journeys' touches in order of first appearance (so the chain's states are numbered in
that order) and counts the order-1 chain per (state, next code) with `loops.count_chain`. Here the same codes are a
table lookup per touch (`rank`), and the same counts come from one pass over the runs, chunked as the gathered
journeys are: every count and every sum of value is the same float, so the solve (`markov.chain_credit`, the one
the gathered path runs) gives the same figures. Higher orders gather only the coded touches and fit the chain as
the gathered path does.
"""

from __future__ import annotations

import numpy as np

from smarketing.analytics.kernels.journeys import Journeys
from smarketing.analytics.kernels.loops import jit
from smarketing.analytics.kernels.markov import (
    DENSE_COUNTS_LIMIT,
    MAX_ORDER,
    chain_credit,
    fitted_chain,
    markov_credit,
)
from smarketing.analytics.kernels.ranges import in_journey_chunks
from smarketing.analytics.kernels.rules import AttributionWeightsInvalid, Credit


@jit
def _count_first_order(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, nulls: np.ndarray,
                       value: np.ndarray, codes: np.ndarray, rank: np.ndarray, n_states: int, n_codes: int,
                       j0: int, j1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`loops.count_chain` at order 1, dense, over the runs of journeys [j0, j1), each touch coded `rank[code]`."""
    nxt = np.zeros((n_states, n_codes), dtype=np.float64)
    exits = np.zeros((n_states, 3), dtype=np.float64)
    totals = np.zeros(3, dtype=np.float64)
    for j in range(j0, j1):
        a, b = lo[j], hi[j]
        if a >= b:
            continue
        m = conversions[j] + nulls[j]
        prev = 0
        for i in range(a, b):
            c = rank[codes[i]]
            nxt[prev, c] += m
            prev = c + 1
        exits[prev, 0] += conversions[j]
        exits[prev, 1] += nulls[j]
        exits[prev, 2] += value[j]
        totals[0] += conversions[j]
        totals[1] += m
        totals[2] += value[j]
    return nxt, exits, totals


@jit
def _gather_coded(lo: np.ndarray, hi: np.ndarray, codes: np.ndarray, rank: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The runs' touches one after another, each coded `rank[code]`, and the journeys' offsets into them."""
    offsets = np.zeros(lo.shape[0] + 1, dtype=np.int64)
    for j in range(lo.shape[0]):
        offsets[j + 1] = offsets[j] + max(hi[j] - lo[j], 0)
    out = np.empty(offsets[-1], dtype=np.int32)
    for j in range(lo.shape[0]):
        o = offsets[j]
        for i in range(lo[j], hi[j]):
            out[o] = rank[codes[i]]
            o += 1
    return offsets, out


def markov_ranges_credit(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray,
                         codes: np.ndarray, names: tuple[str, ...], seen: np.ndarray, *, order: int = 1) -> Credit:
    """Markov credit of every journey among `[lo, hi)` (converting or not) for the codes `seen` in some journey,
    in order of first appearance (codes index `names`): the gathered path's figures (`markov_credit` of the gathered
    journeys), to the last bit."""
    if order not in range(1, MAX_ORDER + 1):
        raise AttributionWeightsInvalid(f"Markov order must be 1, 2 or 3, got {order}", field="order")
    c = int(seen.shape[0])
    shown = tuple(names[i] for i in seen)
    rank = np.zeros(max(len(names), 1), dtype=np.int32)
    rank[seen] = np.arange(c, dtype=np.int32)
    conversions = np.ascontiguousarray(conversions, dtype=np.float64)
    nulls = 1.0 - conversions
    if order == 1 and (c + 1) * max(c, 1) <= DENSE_COUNTS_LIMIT:
        nxt, exits, totals = in_journey_chunks(_count_first_order, lo, hi, conversions, nulls, value, codes, rank,
                                               c + 1, c)
        src, ch = np.nonzero(nxt)
        empty = np.zeros(0, dtype=np.int64)
        chain = fitted_chain(src, ch, nxt[src, ch], exits, totals, np.arange(c, dtype=np.int64), empty, 1, c)
        return chain_credit(chain, shown, 1)
    offsets, coded = _gather_coded(lo, hi, codes, rank)
    return markov_credit(Journeys(offsets=offsets, codes=coded, names=shown, conversions=conversions, value=value,
                                  nulls=nulls), order=order)
