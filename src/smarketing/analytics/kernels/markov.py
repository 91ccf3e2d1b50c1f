"""Markov chain attribution with removal effects solved exactly on the absorbing chain (orders 1 to 3).

States are the last k channels of a journey (shorter at its start), plus start, conversion and null. Transition
probabilities are maximum-likelihood counts over the journeys. The probability of conversion from start is the
absorption probability of the chain, obtained by a linear solve (no simulation), and it equals the observed
conversion rate because expected visits of the fitted chain equal the observed visits (flow conservation).

The removal effect of channel c is 1 − P(convert | c removed) / P(convert), where removing c sends every
transition into a state holding c to null. Order 1 uses the fundamental matrix N = (I − Q)⁻¹ and the first-passage
identity P(convert avoiding c) = P(convert) − (N[s,c] / N[c,c]) · h[c], so all channels cost one factorisation.
Higher orders (and order 1 beyond DENSE_LIMIT channels) generalise it to the block S of states entered by a touch
of c: one sparse LU of I − Q serves every removal (see `_removed_direct`). Chains too large to factorise fall back
to GMRES on the chain restricted to the states without c, one solve per channel (`_removed_iterative`).
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
DIRECT_LIMIT = 50_000  # states; up to here I − Q gets a sparse LU, beyond it the LU's fill-in may not fit in memory
RESIDUAL_TOL = 1e-12  # max residual accepted from an iterative solve, relative to max(1, max |rhs|)
EXACT_BLOCK = 32  # entry states; up to here a removal's first-passage block is formed exactly (one solve each)
KRYLOV_STEPS = 100  # GMRES steps on a first-passage system before that block is formed exactly after all
SOLVE_COLUMNS = 256  # right-hand sides per batch of triangular solves (bounds the memory of a batch)


@loops.jit
def _lu_apply(l_ptr: np.ndarray, l_idx: np.ndarray, l_val: np.ndarray, u_ptr: np.ndarray, u_idx: np.ndarray,
              u_val: np.ndarray, x: np.ndarray) -> None:
    """x ← U⁻¹ L⁻¹ x in place for a block of columns (L unit lower, U upper, both CSC): every factor entry is
    read once per block, where a solve per column reads the whole factor again each time."""
    n, b = x.shape
    for j in range(n):
        for p in range(l_ptr[j], l_ptr[j + 1]):
            i = l_idx[p]
            if i > j:
                v = l_val[p]
                for k in range(b):
                    x[i, k] -= v * x[j, k]
    for j in range(n - 1, -1, -1):
        d = 1.0
        for p in range(u_ptr[j], u_ptr[j + 1]):
            if u_idx[p] == j:
                d = u_val[p]
        for k in range(b):
            x[j, k] /= d
        for p in range(u_ptr[j], u_ptr[j + 1]):
            i = u_idx[p]
            if i < j:
                v = u_val[p]
                for k in range(b):
                    x[i, k] -= v * x[j, k]


class _Factorisation:
    """One sparse LU of (I − Q)ᵀ (Prᵀ (I − Q)ᵀ Pc = L U): h = N r through SuperLU, and Nᵀ applied to blocks of
    columns by compiled triangular solves (N = (I − Q)⁻¹). (I − Q)ᵀ is column diagonally dominant, so the
    elimination needs no pivoting, and a minimum-degree order on its symmetric pattern keeps the fill lowest."""

    def __init__(self, a: sp.csr_matrix) -> None:
        self.lu = spla.splu(a.T.tocsc(), permc_spec="MMD_AT_PLUS_A", diag_pivot_thresh=0.0,
                            options={"SymmetricMode": True})
        low, up = self.lu.L.tocsc(), self.lu.U.tocsc()
        self.low = (low.indptr.astype(np.int64), low.indices.astype(np.int64), low.data)
        self.up = (up.indptr.astype(np.int64), up.indices.astype(np.int64), up.data)

    def solve(self, rhs: np.ndarray) -> np.ndarray:
        """N r."""
        return self.lu.solve(rhs, trans="T")

    def solve_t(self, b: np.ndarray) -> np.ndarray:
        """Nᵀ b for each column of b."""
        out = np.empty_like(b)
        for k in range(0, b.shape[1], SOLVE_COLUMNS):
            y = np.empty((b.shape[0], min(SOLVE_COLUMNS, b.shape[1] - k)))
            y[self.lu.perm_r] = b[:, k:k + SOLVE_COLUMNS]
            _lu_apply(*self.low, *self.up, y)
            out[:, k:k + SOLVE_COLUMNS] = y[self.lu.perm_c]
        return out


def _factor(a: sp.csr_matrix) -> _Factorisation | None:
    """The sparse LU of I − Q, or None when the chain is too large for its fill-in or the matrix is singular."""
    if a.shape[0] > DIRECT_LIMIT:
        return None
    try:
        f = _Factorisation(a)
    except RuntimeError:  # "Factor is exactly singular"
        return None
    return f


def _first_passage_exact(f: _Factorisation, visits: np.ndarray, entries: list[np.ndarray]) -> list[np.ndarray]:
    """w with N_SSᵀ w = N[0, S] for each entry set S, N_SS formed column by column from the factorisation."""
    size = visits.shape[0]
    cols = np.cumsum([0] + [s.shape[0] for s in entries])
    e = np.zeros((size, int(cols[-1])))
    for i, s in enumerate(entries):
        e[s, np.arange(cols[i], cols[i + 1])] = 1.0
    x = f.solve_t(e)
    return [np.linalg.solve(x[s, cols[i]:cols[i + 1]], visits[s]) for i, s in enumerate(entries)]


def _first_passage_krylov(f: _Factorisation, visits: np.ndarray, entries: list[np.ndarray]) -> list[np.ndarray]:
    """w with N_SSᵀ w = N[0, S] for several entry sets at once, by GMRES in lockstep: each step applies Nᵀ to one
    vector per set in a single block of triangular solves. N_SS is the fundamental matrix of the chain watched on
    S, whose spectrum lies between 1 and the expected visits to S, so a few dozen steps reach rounding level; a set
    whose true residual is not below RESIDUAL_TOL by then is formed exactly instead."""
    size = visits.shape[0]

    def apply(sets: list[int], vectors: list[np.ndarray]) -> list[np.ndarray]:
        b = np.zeros((size, len(sets)))
        for col, (g, v) in enumerate(zip(sets, vectors, strict=True)):
            b[entries[g], col] = v
        x = f.solve_t(b)
        return [x[entries[g], col] for col, g in enumerate(sets)]

    rhs = [visits[s] for s in entries]
    beta = [float(np.linalg.norm(b)) for b in rhs]
    out = [np.zeros(s.shape[0]) for s in entries]
    basis = [[b / n] if n > 0 else [] for b, n in zip(rhs, beta, strict=True)]
    hess = [np.zeros((KRYLOV_STEPS + 1, KRYLOV_STEPS)) for _ in entries]
    active = [g for g in range(len(entries)) if beta[g] > 0]
    for step in range(KRYLOV_STEPS):
        if not active:
            break
        done = set()
        for g, u in zip(active, apply(active, [basis[g][step] for g in active]), strict=True):
            hg = hess[g]
            for _ in range(2):  # Gram–Schmidt twice keeps the basis orthogonal to rounding
                for i, v in enumerate(basis[g]):
                    d = float(v @ u)
                    hg[i, step] += d
                    u = u - d * v
            norm = float(np.linalg.norm(u))
            hg[step + 1, step] = norm
            e1 = np.zeros(step + 2)
            e1[0] = beta[g]
            y = np.linalg.lstsq(hg[:step + 2, :step + 1], e1, rcond=None)[0]
            small = np.linalg.norm(hg[:step + 2, :step + 1] @ y - e1) <= 1e-2 * RESIDUAL_TOL * beta[g]
            if small or norm == 0.0 or step == KRYLOV_STEPS - 1:
                out[g] = np.column_stack(basis[g]) @ y
                done.add(g)
            else:
                basis[g].append(u / norm)
        active = [g for g in active if g not in done]
    # Accept each answer on its true residual only.
    sets = [g for g in range(len(entries)) if beta[g] > 0]
    redo = [g for g, image in zip(sets, apply(sets, [out[g] for g in sets]), strict=True)
            if not np.all(np.isfinite(image))
            or np.abs(image - rhs[g]).max() > RESIDUAL_TOL * max(1.0, float(np.abs(rhs[g]).max()))]
    for g, w in zip(redo, _first_passage_exact(f, visits, [entries[g] for g in redo]), strict=True):
        out[g] = w
    return out


def _removed_direct(f: _Factorisation, rhs: np.ndarray, entries: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """P(convert) from the start, and with each channel removed, from the one factorisation of I − Q.

    Removing channel c sends every transition into S, the states whose newest touch is c, to null (the other
    states holding c are reached only through S). With N = (I − Q)⁻¹ and h = N r, the chain restricted to the
    states outside S has, by the Schur complement (Sherman–Morrison–Woodbury on the k columns of S),
    P(convert avoiding S) = h[0] − w · h[S], where w = N_SS⁻ᵀ N[0, S] is the distribution of the first state of S
    visited. A small S has N_SS formed exactly (k solves); a large one has w from GMRES on that k-dimensional
    system, every step one solve with the same factorisation. A factorisation per removal costs a full LU each
    (most of a second for the 9,800-state campaign chain of order 3 on the medium demo, times 39 campaigns).
    """
    size = rhs.shape[0]
    h = f.solve(rhs)
    start = np.zeros((size, 1))
    start[0] = 1.0
    visits = f.solve_t(start)[:, 0]  # N[0, :], the expected visits from the start
    p = h[0]
    out = np.tile(p, (len(entries), 1))
    small = [g for g, s in enumerate(entries) if 0 < s.shape[0] <= EXACT_BLOCK]
    large = [g for g, s in enumerate(entries) if s.shape[0] > EXACT_BLOCK]
    weights = dict(zip(small, _first_passage_exact(f, visits, [entries[g] for g in small]), strict=True))
    weights.update(zip(large, _first_passage_krylov(f, visits, [entries[g] for g in large]), strict=True))
    for g, w in weights.items():
        out[g] = p - w @ h[entries[g]]
    return p, out


def _solve_iterative(a: sp.csr_matrix, rhs: np.ndarray) -> np.ndarray:
    """Solve (I − Q) x = r for each column of r by GMRES iterated to machine precision: the fallback for chains
    beyond DIRECT_LIMIT or whose LU is exactly singular. I − Q is a non-singular M-matrix with a small condition
    number (about the expected path length), so a residual below RESIDUAL_TOL means the digits of a direct solve;
    a column that does not get there is solved by a sparse LU after all."""
    n = a.shape[0]
    out = np.empty_like(rhs)
    for k in range(rhs.shape[1]):
        b = rhs[:, k]
        x, _ = spla.gmres(a, b, rtol=1e-15, atol=0.0, restart=min(200, n), maxiter=100)
        if not np.all(np.isfinite(x)) or np.abs(a @ x - b).max() > RESIDUAL_TOL * max(1.0, np.abs(b).max()):
            return spla.splu(a.tocsc()).solve(rhs)
        out[:, k] = x
    return out


def _removed_iterative(a: sp.csr_matrix, rhs: np.ndarray, holds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """P(convert) from the start, and with each channel removed, solving the chain restricted to the states
    without it, one iterative solve per channel (the fallback when there is no factorisation)."""
    p = _solve_iterative(a, rhs)[0]
    out = np.tile(p, (holds.shape[1], 1))
    for ch in np.flatnonzero(holds.any(axis=0)):
        keep = np.concatenate([[0], 1 + np.flatnonzero(~holds[:, ch])])
        out[ch] = _solve_iterative(a[keep][:, keep], rhs[keep])[0]
    return p, out


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
    space = base**order  # a key's digits are codes, or C for "before the start"
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
    return fitted_chain(src, ch, weights, exits, totals, keys, remap, order, c)


def fitted_chain(src: np.ndarray, ch: np.ndarray, weights: np.ndarray, exits: np.ndarray, totals: np.ndarray,
                 keys: np.ndarray, remap: np.ndarray, order: int, c: int) -> Chain:
    """The chain of counted journeys: `weights[i]` journeys moved from state `src[i]` (0 = start) by code `ch[i]`
    (pairs in (state, code) order); `exits[s]` = (conversions, nulls, value) ending in s; `totals` (conversions,
    journeys, value); `keys` the states' keys (sorted), `remap` key -> state when a presence table numbered them."""
    base = c + 1
    start_key = base**order - 1  # every digit is C, "before the start"
    m = int(keys.shape[0])
    size = m + 1
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
    return chain_credit(_chain(j, order), j.names, order)


def chain_credit(chain: Chain, names: tuple[str, ...], order: int) -> Credit:
    """Conversions and value per code (`names`) from the exact removal effects of a fitted order-k chain."""
    c = len(names)
    # Journeys without touches never enter the chain, so no channel can be credited with them.
    total_conv, total_val, total_j = chain.total_conversions, chain.total_value, chain.total_journeys
    q, r_conv, r_val, digits, m = chain.q, chain.r_conv, chain.r_val, chain.digits, chain.m
    size = m + 1
    rhs = np.column_stack([r_conv, r_val])
    a = sp.identity(size, format="csr") - q
    if order == 1 and size <= DENSE_LIMIT:
        lu = scipy.linalg.lu_factor(a.toarray())
        h = scipy.linalg.lu_solve(lu, rhs)
        row_start = scipy.linalg.lu_solve(lu, np.eye(size)[:, 0], trans=1)  # N[0, :]
        diag = np.einsum("ii->i", scipy.linalg.lu_solve(lu, np.eye(size)))  # N[c, c]
        hit = np.divide(row_start, diag, out=np.zeros(size), where=diag > 0)  # P(visit state from start)
        p = h[0]
        p_removed = p[None, :] - hit[1:, None] * h[1:]
    else:
        f = _factor(a)
        if f is not None:
            newest = digits[:, 0]  # the newest touch is the most significant digit of a state key
            p, p_removed = _removed_direct(f, rhs, [1 + np.flatnonzero(newest == ch) for ch in range(c)])
        else:
            holds = np.zeros((m, c), dtype=bool)
            for d in range(digits.shape[1]):
                ok = digits[:, d] < c
                holds[np.flatnonzero(ok), digits[ok, d]] = True
            p, p_removed = _removed_iterative(a, rhs, holds)
    with np.errstate(invalid="ignore", divide="ignore"):
        removal = np.where(p > 0, 1.0 - p_removed / p, 0.0)
    removal = np.clip(removal, 0.0, None)  # rounding can leave -1e-17 on channels that never matter
    sums = removal.sum(axis=0)
    share = np.divide(removal, sums, out=np.zeros_like(removal), where=sums > 0)
    weights: dict[str, Any] = {
        "model": "markov", "order": order,
        "removal_effects": {n: float(x) for n, x in zip(names, removal[:, 0], strict=True)},
        "shares": {n: float(x) for n, x in zip(names, share[:, 0], strict=True)},
    }
    extra = {"conversion_probability": float(p[0]), "observed_conversion_rate": total_conv / total_j if total_j else 0.0,
             "expected_value": float(p[1]), "states": m, "removal_effects_value": removal[:, 1]}
    return Credit(names=names, conversions=share[:, 0] * total_conv, value=share[:, 1] * total_val,
                  weights=weights, extra=extra)


def touch_share_from_channel_weights(j: Journeys, channel_weight: np.ndarray) -> np.ndarray:
    """Split each journey's credit over its touches in proportion to their channel's weight (per-deal view of a
    data-driven model); a journey whose channels all weigh 0 is split evenly."""
    jt = j.journey_of_touch()
    w = np.asarray(channel_weight, dtype=np.float64)[j.codes]
    sums = np.bincount(jt, weights=w, minlength=j.n_journeys)
    even = 1.0 / j.lengths[jt]
    return np.where(sums[jt] > 0, np.divide(w, sums[jt], out=np.zeros_like(w), where=sums[jt] > 0), even)
