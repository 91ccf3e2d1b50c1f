"""Markov chain attribution with removal effects solved exactly on the absorbing chain (orders 1 to 3).

States are the last k channels of a journey (shorter at its start), plus start, conversion and null. Transition
probabilities are maximum-likelihood counts over the journeys. The probability of conversion from start is the
absorption probability of the chain, obtained by a linear solve (no simulation), and it equals the observed
conversion rate because expected visits of the fitted chain equal the observed visits (flow conservation).

The removal effect of channel c is 1 − P(convert | c removed) / P(convert), where removing c sends every
transition into a state holding c to null. Order 1 uses the fundamental matrix N = (I − Q)⁻¹ and the first-passage
identity P(convert avoiding c) = P(convert) − (N[s,c] / N[c,c]) · h[c], so all channels cost one factorisation.
Higher orders solve the chain restricted to the states without c, one sparse solve per channel (see `_solve`).
Value is attributed with the same removal logic on the chain's expected conversion value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from smarketing.analytics.kernels import loops
from smarketing.analytics.kernels.journeys import Journeys, unique_inverse
from smarketing.analytics.kernels.rules import AttributionWeightsInvalid, Credit

MAX_ORDER = 3
DENSE_LIMIT = 2500  # states; beyond it the order-1 chain is solved sparsely per channel
DIRECT_LIMIT = 500  # states; up to here a sparse LU is cheap, beyond it LU fill-in makes Krylov much faster
RESIDUAL_TOL = 1e-12  # max |(I − Q) x − r| accepted from GMRES, relative to max(1, max |r|)


def _solve(a: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    """Solve (I − Q) x = r for each column of r, deterministically.

    Small chains use a sparse LU. Larger ones (higher-order chains have thousands of states whose LU fills in
    densely) use GMRES iterated to machine precision; the result is accepted only when its residual is below
    RESIDUAL_TOL, else the LU is used after all. I − Q is a non-singular M-matrix with a small condition number
    (about the expected path length), so a 1e-12 residual means the same digits as the direct solve.
    """
    n = a.shape[0]
    if n > DIRECT_LIMIT:
        out = np.empty_like(rhs)
        for k in range(rhs.shape[1]):
            b = rhs[:, k]
            x, info = spla.gmres(a, b, rtol=1e-15, atol=0.0, restart=min(200, n), maxiter=100)
            if not np.all(np.isfinite(x)) or np.abs(a @ x - b).max() > RESIDUAL_TOL * max(1.0, np.abs(b).max()):
                break
            out[:, k] = x
        else:
            return out
    return spla.splu(a.tocsc()).solve(rhs)


PRESENCE_LIMIT = 16_000_000  # state keys; up to here states are found with a presence table, beyond by sorting
DENSE_COUNTS_LIMIT = 8_000_000  # states × channels; up to here transitions are counted in a dense table per thread


@dataclass(frozen=True)
class Chain:
    """The fitted chain over transient states (0 = start): Q, exit rates to conversion and value, the channels each
    state holds, and the totals of the journeys that entered it."""

    q: sp.csr_matrix
    r_conv: np.ndarray
    r_val: np.ndarray
    digits: np.ndarray  # (m, order) channel digits of each non-start state; n_codes means "before the start"
    m: int
    total_conversions: float
    total_journeys: float
    total_value: float


def _chain(j: Journeys, order: int) -> Chain:
    """Fit the order-k chain with compiled loops: a touch's state key comes from the window of its last k touches
    (see `loops.state_key`), states are numbered by a presence table over the key space (or by sorting the keys
    when the space is huge) and transitions are counted per (state, next channel)."""
    c = j.n_codes
    base = c + 1
    space = base**order
    start_key = space - 1  # every digit is C, "before the start"
    offsets, codes = j.offsets, j.codes
    empty = np.zeros(0, dtype=np.int64)
    touch_state, remap = empty, empty
    if order == 1:
        keys = np.arange(c, dtype=np.int64)
    elif space <= PRESENCE_LIMIT:
        keys = np.flatnonzero(np.logical_or.reduce(
            loops.in_chunks(loops.mark_states, offsets, offsets, codes, order, base, space))).astype(np.int64)
        remap = np.zeros(space, dtype=np.int64)
        remap[keys] = np.arange(1, keys.shape[0] + 1)
    else:
        keys, inverse = unique_inverse(loops.touch_keys(offsets, codes, order, base))
        touch_state = inverse + 1
    m = int(keys.shape[0])
    size = m + 1
    dense = size * max(c, 1) <= DENSE_COUNTS_LIMIT
    prev_out = empty if dense else np.empty(j.n_touches, dtype=np.int64)
    parts = loops.in_chunks(loops.count_chain, offsets, offsets, codes, j.conversions, j.nulls, j.value, remap,
                            touch_state, order, base, size, c, dense, prev_out)
    nxt, exits, totals = loops.add_up(parts)
    if dense:
        src, ch = np.nonzero(nxt)
        weights = nxt[src, ch]
    else:
        mult = j.conversions + j.nulls
        pair, inv = unique_inverse(prev_out * c + codes)
        weights = np.bincount(inv, weights=np.repeat(mult, j.lengths), minlength=pair.shape[0])
        src, ch = pair // c, pair % c
    state_key = np.concatenate([[start_key], keys])
    dst_key = ch * base ** (order - 1) + state_key[src] // base
    if order == 1:
        dst = dst_key + 1
    elif remap.shape[0]:
        dst = remap[dst_key]
    else:
        dst = np.searchsorted(keys, dst_key) + 1  # every destination is a state some touch reached
    q_counts = sp.coo_matrix((weights, (src, dst)), shape=(size, size)).tocsr()
    out = np.asarray(q_counts.sum(axis=1)).ravel() + exits[:, 0] + exits[:, 1]
    inv_out = np.divide(1.0, out, out=np.zeros(size), where=out > 0)
    digits = np.empty((m, order), dtype=np.int64)
    rest = keys.copy()
    for d in range(order - 1, -1, -1):
        digits[:, d] = rest % base
        rest //= base
    return Chain(q=(sp.diags(inv_out) @ q_counts).tocsr(), r_conv=exits[:, 0] * inv_out, r_val=exits[:, 2] * inv_out,
                 digits=digits, m=m, total_conversions=float(totals[0]), total_journeys=float(totals[1]),
                 total_value=float(totals[2]))


def markov_credit(j: Journeys, *, order: int = 1) -> Credit:
    """Conversions and value per channel from exact removal effects of an order-k absorbing Markov chain."""
    if order not in range(1, MAX_ORDER + 1):
        raise AttributionWeightsInvalid(f"Markov order must be 1, 2 or 3, got {order}", field="order")
    c = j.n_codes
    chain = _chain(j, order)
    # Journeys without touches never enter the chain, so no channel can be credited with them.
    total_conv, total_val, total_j = chain.total_conversions, chain.total_value, chain.total_journeys
    q, r_conv, r_val, digits, m = chain.q, chain.r_conv, chain.r_val, chain.digits, chain.m
    size = m + 1
    rhs = np.column_stack([r_conv, r_val])
    a = sp.identity(size, format="csr") - q
    p_removed = np.zeros((c, 2))
    if order == 1 and size <= DENSE_LIMIT:
        lu = scipy.linalg.lu_factor(a.toarray())
        h = scipy.linalg.lu_solve(lu, rhs)
        row_start = scipy.linalg.lu_solve(lu, np.eye(size)[:, 0], trans=1)  # N[0, :]
        diag = np.einsum("ii->i", scipy.linalg.lu_solve(lu, np.eye(size)))  # N[c, c]
        hit = np.divide(row_start, diag, out=np.zeros(size), where=diag > 0)  # P(visit state from start)
        p = h[0]
        p_removed = p[None, :] - hit[1:, None] * h[1:]
    else:
        h = _solve(a, rhs)
        p = h[0]
        holds = np.zeros((m, c), dtype=bool)
        for d in range(digits.shape[1]):
            ok = digits[:, d] < c
            holds[np.flatnonzero(ok), digits[ok, d]] = True
        present = np.asarray(holds.any(axis=0), dtype=bool)
        for ch in range(c):
            if not present[ch]:
                p_removed[ch] = p
                continue
            keep = np.concatenate([[0], 1 + np.flatnonzero(~holds[:, ch])])
            p_removed[ch] = _solve(a[keep][:, keep], rhs[keep])[0]
    with np.errstate(invalid="ignore", divide="ignore"):
        removal = np.where(p > 0, 1.0 - p_removed / p, 0.0)
    removal = np.clip(removal, 0.0, None)  # rounding can leave -1e-17 on channels that never matter
    sums = removal.sum(axis=0)
    share = np.divide(removal, sums, out=np.zeros_like(removal), where=sums > 0)
    weights: dict[str, Any] = {
        "model": "markov", "order": order,
        "removal_effects": {n: float(x) for n, x in zip(j.names, removal[:, 0], strict=True)},
        "shares": {n: float(x) for n, x in zip(j.names, share[:, 0], strict=True)},
    }
    extra = {"conversion_probability": float(p[0]), "observed_conversion_rate": total_conv / total_j if total_j else 0.0,
             "expected_value": float(p[1]), "states": m, "removal_effects_value": removal[:, 1]}
    return Credit(names=j.names, conversions=share[:, 0] * total_conv, value=share[:, 1] * total_val,
                  weights=weights, extra=extra)


def touch_share_from_channel_weights(j: Journeys, channel_weight: np.ndarray) -> np.ndarray:
    """Split each journey's credit over its touches in proportion to their channel's weight (per-deal view of a
    data-driven model); a journey whose channels all weigh 0 is split evenly."""
    jt = j.journey_of_touch()
    w = np.asarray(channel_weight, dtype=np.float64)[j.codes]
    sums = np.bincount(jt, weights=w, minlength=j.n_journeys)
    even = 1.0 / j.lengths[jt]
    return np.where(sums[jt] > 0, np.divide(w, sums[jt], out=np.zeros_like(w), where=sums[jt] > 0), even)
