"""Markov chain credit of journeys held as runs `[lo, hi)` of one sorted touch array, never gathered.

The gathered path codes the journeys' touches in order of first appearance (so the chain's states are numbered in
that order) and counts the order-1 chain per (state, next code) with `loops.count_chain`. Here one pass over the
runs, chunked as the gathered journeys are, counts the moves in the touches' own codes and finds the order of first
appearance; renumbering the counts' rows and columns in that order gives the gathered path's counts, and every sum
of value is added in the same order: the same floats, so the solve (`markov.chain_credit`, the one the gathered path
runs) gives the same figures. Higher orders gather only the renumbered touches and fit the chain as the gathered
path does.
"""

from __future__ import annotations

import numpy as np

from smarketing.analytics.kernels import loops
from smarketing.analytics.kernels.journeys import Journeys
from smarketing.analytics.kernels.loops import jit
from smarketing.analytics.kernels.markov import (
    DENSE_COUNTS_LIMIT,
    MAX_ORDER,
    chain_credit,
    fitted_chain,
    markov_credit,
)
from smarketing.analytics.kernels.ranges import seen_codes
from smarketing.analytics.kernels.rules import AttributionWeightsInvalid, Credit


@jit
def _count_first_order(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray,
                       codes: np.ndarray, n_codes: int, j0: int, j1: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`loops.count_chain` at order 1 over the runs of journeys [j0, j1), each one journey (conversions + nulls = 1),
    in the touches' own codes (state = code + 1): the journeys moving from each state by each code, counted as
    integers (the float counts the gathered path adds are these integers); `exits[s]` = (conversions, nulls, value)
    ending in s and the totals (conversions, journeys, value), added in journey order; and the codes in order of
    first appearance (-1 after the last)."""
    moves = np.zeros((n_codes + 1, n_codes), dtype=np.int64)
    exits = np.zeros((n_codes + 1, 3), dtype=np.float64)
    totals = np.zeros(3, dtype=np.float64)
    found = np.zeros(n_codes, dtype=np.bool_)
    first = np.full(n_codes, -1, dtype=np.int64)
    n_found = 0
    for j in range(j0, j1):
        a, b = lo[j], hi[j]
        if a >= b:
            continue
        prev = 0
        for i in range(a, b):
            c = codes[i]
            moves[prev, c] += 1
            if not found[c]:
                found[c] = True
                first[n_found] = c
                n_found += 1
            prev = c + 1
        exits[prev, 0] += conversions[j]
        exits[prev, 1] += 1.0 - conversions[j]
        exits[prev, 2] += value[j]
        totals[0] += conversions[j]
        totals[1] += 1.0
        totals[2] += value[j]
    return moves, exits, totals, first


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
                         codes: np.ndarray, names: tuple[str, ...], *, order: int = 1) -> Credit:
    """Markov credit of every journey among `[lo, hi)` (converting or not) for the codes that appear in some
    journey, in order of first appearance (codes index `names`): the gathered path's figures (`markov_credit` of
    the gathered journeys), to the last bit."""
    if order not in range(1, MAX_ORDER + 1):
        raise AttributionWeightsInvalid(f"Markov order must be 1, 2 or 3, got {order}", field="order")
    conversions = np.ascontiguousarray(conversions, dtype=np.float64)
    value = np.ascontiguousarray(value, dtype=np.float64)
    n = len(names)
    if order == 1 and (n + 1) * max(n, 1) <= DENSE_COUNTS_LIMIT and np.all((conversions == 0.0)
                                                                          | (conversions == 1.0)):
        return _first_order(lo, hi, conversions, value, codes, names)
    seen = seen_codes(lo, hi, codes, n)
    c = int(seen.shape[0])
    rank = np.zeros(max(n, 1), dtype=np.int32)
    rank[seen] = np.arange(c, dtype=np.int32)
    offsets, coded = _gather_coded(lo, hi, codes, rank)
    return markov_credit(Journeys(offsets=offsets, codes=coded, names=tuple(names[i] for i in seen),
                                  conversions=conversions, value=value, nulls=1.0 - conversions), order=order)


def _first_order(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                 names: tuple[str, ...]) -> Credit:
    """The order-1 chain counted off the runs in one pass, in the touches' codes, then renumbered in order of first
    appearance: each state's row and each code's column hold the very sums the gathered path's do."""
    n = len(names)
    offsets = np.zeros(lo.shape[0] + 1, dtype=np.int64)
    np.cumsum(hi - lo, out=offsets[1:])
    parts = loops.in_chunks(_count_first_order, offsets, lo, hi, conversions, value, codes, n)
    # The codes in order of first appearance: each chunk's own, in chunk order.
    firsts = np.concatenate([p[3][p[3] >= 0] for p in parts])
    seen = firsts[np.sort(np.unique(firsts, return_index=True)[1])] if firsts.shape[0] else firsts
    moves, exits, totals = loops.add_up([p[:3] for p in parts])
    c = int(seen.shape[0])
    states = np.concatenate([[0], seen + 1])
    nxt = moves[np.ix_(states, seen)].astype(np.float64)
    src, ch = np.nonzero(nxt)
    chain = fitted_chain(src, ch, nxt[src, ch], exits[states], totals, np.arange(c, dtype=np.int64),
                         np.zeros(0, dtype=np.int64), 1, c)
    return chain_credit(chain, tuple(names[i] for i in seen), 1)
