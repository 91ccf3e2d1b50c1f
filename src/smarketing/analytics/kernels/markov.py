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

from typing import Any

import numpy as np
import scipy.linalg
import scipy.sparse as sp
import scipy.sparse.linalg as spla

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


def _states(j: Journeys, order: int) -> tuple[np.ndarray, np.ndarray, int]:
    """State id per touch (0-based, transient states only), the channel digits of each state and the state count."""
    c = j.n_codes
    if order == 1:
        return j.codes, np.arange(c, dtype=np.int64)[:, None], c
    pos = j.position_of_touch()
    base = c + 1  # digit c means "before the journey started"
    key = np.zeros(j.n_touches, dtype=np.int64)
    for d in range(order):
        digit = np.full(j.n_touches, c, dtype=np.int64)
        if d == 0:
            digit[:] = j.codes
        else:
            ok = pos >= d
            digit[d:][ok[d:]] = j.codes[:-d][ok[d:]]
        key = key * base + digit
    space = base**order
    if space <= 16_000_000:
        # Small key space: compact by a presence table (linear time) instead of sorting the touches.
        present = np.bincount(key, minlength=space) > 0
        uniq = np.flatnonzero(present)
        remap = np.cumsum(present) - 1
        inverse = remap[key]
    else:
        uniq, inverse = unique_inverse(key)
    digits = np.empty((uniq.shape[0], order), dtype=np.int64)
    rest = uniq.copy()
    for d in range(order - 1, -1, -1):
        digits[:, d] = rest % base
        rest //= base
    return inverse.astype(np.int64), digits, int(uniq.shape[0])


def _chain(j: Journeys, order: int) -> tuple[sp.csr_matrix, np.ndarray, np.ndarray, np.ndarray, int]:
    """Transition matrix Q over transient states (0 = start, 1.. = states), conversion and value exit rates."""
    state, digits, m = _states(j, order)
    size = m + 1
    lengths = j.lengths
    has = lengths > 0
    every = bool(has.all())  # the usual case: no empty journeys, so no masked copies of per-journey arrays
    mult = j.conversions + j.nulls
    firsts = j.offsets[:-1] if every else j.offsets[:-1][has]
    lasts = (j.offsets[1:] if every else j.offsets[1:][has]) - 1
    conv_j, null_j, value_j = (j.conversions, j.nulls, j.value) if every else \
        (j.conversions[has], j.nulls[has], j.value[has])
    mult_j = mult if every else mult[has]
    # 1-based state ids (0 is start); int32 keeps the per-touch temporaries small at tens of millions of touches.
    s = (state + 1).astype(np.int32 if size < 2**31 else np.int64, copy=False)
    uniform = bool(np.all(mult_j == 1.0))
    # Consecutive pairs over the whole touch array, minus the pairs that cross from one journey into the next.
    src, dst = s[:-1], s[1:]
    s_first = s[firsts]
    # Pair i crosses journeys when touch i+1 starts a (non-empty) journey; non-empty starts are distinct.
    cross = firsts[firsts > 0] - 1
    pair_w = None if uniform else np.repeat(mult, lengths)[:-1]
    if size * size <= 4_000_000:
        # int32 codes halve the memory of the largest temporary (size² ≤ 4M fits easily).
        code = src.astype(np.int32, copy=False) * np.int32(size)
        np.add(code, dst, out=code, casting="same_kind")
        counts = np.bincount(code, weights=pair_w, minlength=size * size).astype(np.float64)
        if cross.size:
            counts -= np.bincount(code[cross], weights=None if pair_w is None else pair_w[cross],
                                  minlength=size * size)
        counts[: size] += np.bincount(s_first, weights=mult_j, minlength=size)  # start row
        dense = counts.reshape(size, size)
        q_counts = sp.csr_matrix(dense)
    else:
        keep = np.ones(src.shape[0], dtype=bool)
        keep[cross] = False
        w = np.ones(int(keep.sum())) if pair_w is None else pair_w[keep]
        rows = np.concatenate([src[keep], np.zeros(firsts.shape[0], dtype=np.int64)])
        cols = np.concatenate([dst[keep], s_first])
        vals = np.concatenate([w, mult_j])
        q_counts = sp.coo_matrix((vals, (rows, cols)), shape=(size, size)).tocsr()
    s_last = s[lasts]
    conv_out = np.bincount(s_last, weights=conv_j, minlength=size)
    null_out = np.bincount(s_last, weights=null_j, minlength=size)
    value_out = np.bincount(s_last, weights=value_j, minlength=size)
    out = np.asarray(q_counts.sum(axis=1)).ravel() + conv_out + null_out
    inv = np.divide(1.0, out, out=np.zeros(size), where=out > 0)
    q = sp.diags(inv) @ q_counts
    return q.tocsr(), conv_out * inv, value_out * inv, digits, m


def markov_credit(j: Journeys, *, order: int = 1) -> Credit:
    """Conversions and value per channel from exact removal effects of an order-k absorbing Markov chain."""
    if order not in range(1, MAX_ORDER + 1):
        raise AttributionWeightsInvalid(f"Markov order must be 1, 2 or 3, got {order}", field="order")
    c = j.n_codes
    # Journeys without touches never enter the chain, so no channel can be credited with them.
    has = j.lengths > 0
    total_conv, total_val = float(j.conversions[has].sum()), float(j.value[has].sum())
    total_j = float(j.conversions[has].sum() + j.nulls[has].sum())
    q, r_conv, r_val, digits, m = _chain(j, order)
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
