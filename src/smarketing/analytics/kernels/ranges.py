"""Compiled loops over journeys held as runs `[lo, hi)` of one sorted touch array, never gathered into arrays of
their own: a journey is a prefix (or window) of its subject's touches, so a model that does not look at positions
(linear) and the per-code counts need only which touches each journey holds.

Each loop visits journeys and their touches in the order the gathered `Journeys` would hold them and does the same
arithmetic as `rules._rule_loop` and `loops.touches_and_reach`, in the same chunks, so the figures are the very same
floats (the tests compare them with the gathered path's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.kernels import loops
from smarketing.analytics.kernels.loops import jit
from smarketing.analytics.kernels.rules import LINEAR_SHOWN, AttributionWeightsInvalid, Credit


@jit
def _linear_loop(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                 n_codes: int, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value of journeys [j0, j1) shared equally over their touches, summed per code."""
    conv = np.zeros(n_codes)
    val = np.zeros(n_codes)
    for j in range(j0, j1):
        a = lo[j]
        n = hi[j] - a
        if n <= 0:
            continue
        share = 1.0 / n
        for i in range(n):
            c = codes[a + i]
            conv[c] += share * conversions[j]
            val[c] += share * value[j]
    return conv, val


def linear_credit(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                  names: tuple[str, ...]) -> Credit:
    """Linear credit per code of the converting journeys among `[lo, hi)` (codes index `names`)."""
    conv, val = _converting_in_chunks(_linear_loop, lo, hi, conversions, value, codes, len(names))
    return Credit(names=names, conversions=conv, value=val,
                  weights={"model": str(AttributionModel.LINEAR), **LINEAR_SHOWN})


@jit
def _decay_loop(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                t_epoch: np.ndarray, half_life: float, n_codes: int, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value of journeys [j0, j1) shared by time decay over their touches, summed per code: each
    touch weighs 2^(-age / half_life), its age in days counted back from the journey's newest touch, as
    `rules._rule_loop` weighs the gathered journey's touch times (epoch seconds / 86400)."""
    conv = np.zeros(n_codes)
    val = np.zeros(n_codes)
    for j in range(j0, j1):
        a = lo[j]
        n = hi[j] - a
        if n <= 0:
            continue
        newest = t_epoch[a] / 86400.0
        for i in range(n):
            newest = max(newest, t_epoch[a + i] / 86400.0)
        total = 0.0
        for i in range(n):
            total += 2.0 ** (-(newest - t_epoch[a + i] / 86400.0) / half_life)
        for i in range(n):
            share = 2.0 ** (-(newest - t_epoch[a + i] / 86400.0) / half_life)
            share /= total
            c = codes[a + i]
            conv[c] += share * conversions[j]
            val[c] += share * value[j]
    return conv, val


@jit
def _end_touch_loop(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                    last: bool, n_codes: int, j0: int, j1: int) -> tuple[np.ndarray, np.ndarray]:
    """Conversions and value of journeys [j0, j1) given whole to their first (or last) touch, summed per code (the
    gathered path adds the other touches' 0.0 shares too, which changes no sum)."""
    conv = np.zeros(n_codes)
    val = np.zeros(n_codes)
    for j in range(j0, j1):
        a = lo[j]
        n = hi[j] - a
        if n <= 0:
            continue
        c = codes[a + n - 1] if last else codes[a]
        conv[c] += 1.0 * conversions[j]
        val[c] += 1.0 * value[j]
    return conv, val


def end_touch_credit(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                     names: tuple[str, ...], *, last: bool) -> Credit:
    """First-touch (or last-touch) credit per code of the converting journeys among `[lo, hi)`: the gathered path's
    figures (`rule_credit` under first_touch or last_touch), to the last bit."""
    conv, val = _converting_in_chunks(_end_touch_loop, lo, hi, conversions, value, codes, last, len(names))
    model, shown = (AttributionModel.LAST_TOUCH, "last") if last else (AttributionModel.FIRST_TOUCH, "first")
    return Credit(names=names, conversions=conv, value=val, weights={"model": str(model), shown: 1.0})


def _converting_in_chunks(loop: Any, lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray,
                          *args: Any) -> tuple[np.ndarray, ...]:
    """`loop` over the converting journeys among `[lo, hi)`, chunked by their touches as the gathered path chunks
    `Journeys.converting()`, and its per-code sums added up in the same order."""
    picked = np.flatnonzero(conversions > 0)
    return in_journey_chunks(loop, *(np.ascontiguousarray(a[picked]) for a in (lo, hi, conversions, value)), *args)


def in_journey_chunks(loop: Any, lo: np.ndarray, hi: np.ndarray, *args: Any) -> tuple[np.ndarray, ...]:
    """`loop(lo, hi, *args, j0, j1)` over the journeys `[lo, hi)`, chunked by their touches as `loops.in_chunks`
    chunks the same journeys gathered, and its partial results added up in the same order."""
    offsets = np.zeros(lo.shape[0] + 1, dtype=np.int64)
    np.cumsum(hi - lo, out=offsets[1:])
    return loops.add_up(loops.in_chunks(loop, offsets, lo, hi, *args))


def time_decay_credit(lo: np.ndarray, hi: np.ndarray, conversions: np.ndarray, value: np.ndarray, codes: np.ndarray,
                      t_epoch: np.ndarray, names: tuple[str, ...], half_life_days: float) -> Credit:
    """Time-decay credit per code of the converting journeys among `[lo, hi)` (codes index `names`; `t_epoch` the
    touches' epoch seconds): the gathered path's figures (`rule_credit` under time decay), to the last bit."""
    if not half_life_days > 0:
        raise AttributionWeightsInvalid(f"half-life must be a positive number of days, got {half_life_days}",
                                        field="half_life_days")
    conv, val = _converting_in_chunks(_decay_loop, lo, hi, conversions, value, codes, t_epoch,
                                      float(half_life_days), len(names))
    return Credit(names=names, conversions=conv, value=val,
                  weights={"model": str(AttributionModel.TIME_DECAY), "half_life_days": half_life_days,
                           "weight": "2^(-age_days/half_life)"})


@jit
def touches_and_reach(lo: np.ndarray, hi: np.ndarray, codes: np.ndarray, converting: np.ndarray, n_codes: int
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per code: its touches in converting journeys and the journeys (converting or not) it appears in; and the
    codes that appear, in order of first appearance (the order the gathered path codes them in)."""
    touches = np.zeros(n_codes, dtype=np.int64)
    reach = np.zeros(n_codes, dtype=np.int64)
    last = np.full(n_codes, -1, dtype=np.int64)
    seen = np.empty(n_codes, dtype=np.int64)
    n_seen = 0
    for j in range(lo.shape[0]):
        counted = converting[j]
        for t in range(lo[j], hi[j]):
            c = codes[t]
            if counted:
                touches[c] += 1
            if last[c] != j:
                if reach[c] == 0:
                    seen[n_seen] = c
                    n_seen += 1
                last[c] = j
                reach[c] += 1
    return touches, reach, seen[:n_seen]


@jit
def seen_codes(lo: np.ndarray, hi: np.ndarray, codes: np.ndarray, n_codes: int) -> np.ndarray:
    """The codes that appear in the journeys `[lo, hi)`, in order of first appearance (the order the gathered path
    codes them in); the pass stops once every code has appeared, which on real data is within the first journeys."""
    found = np.zeros(n_codes, dtype=np.bool_)
    seen = np.empty(n_codes, dtype=np.int64)
    n_seen = 0
    for j in range(lo.shape[0]):
        for t in range(lo[j], hi[j]):
            c = codes[t]
            if not found[c]:
                found[c] = True
                seen[n_seen] = c
                n_seen += 1
        if n_seen == n_codes:
            break
    return seen[:n_seen]


@jit
def cut_runs(firsts: np.ndarray, n_touches: int, t_epoch: np.ndarray, run: np.ndarray, has: np.ndarray,
             end: np.ndarray, start: np.ndarray, windowed: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per unit, the run [lo, hi) of its subject's sorted touches (the subject's run `run[u]`, starting at
    `firsts[run[u]]`) at or before `end[u]`, and, when `windowed`, at or after `start[u]`: two binary searches inside
    the run. A unit whose subject has no touch (`has` false) gets [0, 0)."""
    n = run.shape[0]
    lo = np.zeros(n, dtype=np.int64)
    hi = np.zeros(n, dtype=np.int64)
    last_run = firsts.shape[0] - 1
    for u in range(n):
        if not has[u]:
            continue
        k = run[u]
        a = firsts[k]
        b = firsts[k + 1] if k < last_run else n_touches
        low, high = a, b  # the first touch after `end`
        while low < high:
            mid = (low + high) // 2
            if t_epoch[mid] <= end[u]:
                low = mid + 1
            else:
                high = mid
        h = low
        first = a
        if windowed:
            low, high = a, b  # the first touch at or after `start`
            while low < high:
                mid = (low + high) // 2
                if t_epoch[mid] < start[u]:
                    low = mid + 1
                else:
                    high = mid
            first = low
        lo[u] = first
        hi[u] = max(h, first)
    return lo, hi


@jit
def influenced(lo: np.ndarray, hi: np.ndarray, codes: np.ndarray, value: np.ndarray, converting: np.ndarray,
               n_codes: int) -> np.ndarray:
    """Per code, the full value of every converting journey that touched it, each journey counted once."""
    amounts = np.zeros(n_codes)
    last = np.full(n_codes, -1, dtype=np.int64)
    for j in range(lo.shape[0]):
        if not converting[j]:
            continue
        for t in range(lo[j], hi[j]):
            c = codes[t]
            if last[c] != j:
                last[c] = j
                amounts[c] += value[j]
    return amounts


@jit
def dense_codes(ids: np.ndarray, missing: np.ndarray, lowest: int, span: int, order: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray]:
    """Per row, taken in `order`, the index of its id among the distinct ids present (sorted), and `len(known)`
    where the id is missing; and the known ids. Ids lie in [lowest, lowest + span): one pass over a table indexed
    by id, and the codes come out already in the rows' order (no gather after)."""
    used = np.zeros(span, dtype=np.bool_)
    for i in range(ids.shape[0]):
        if not missing[i]:
            used[ids[i] - lowest] = True
    rank = np.empty(span, dtype=np.int32)
    known = np.empty(span, dtype=np.int64)
    k = 0
    for v in range(span):
        if used[v]:
            rank[v] = k
            known[k] = v + lowest
            k += 1
    codes = np.empty(order.shape[0], dtype=np.int32)
    for i in range(order.shape[0]):
        r = order[i]
        codes[i] = k if missing[r] else rank[ids[r] - lowest]
    return codes, known[:k]


@jit
def run_keys(subject: np.ndarray, time: np.ndarray, tmin: int, span: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows sorted by subject, then time: where each subject's run starts, and each row's key
    `run * span + (time - tmin)`, sorted too (one pass)."""
    n = subject.shape[0]
    key = np.empty(n, dtype=np.int64)
    starts = np.empty(n, dtype=np.int64)
    run = -1
    for i in range(n):
        if i == 0 or subject[i] != subject[i - 1]:
            run += 1
            starts[run] = i
        key[i] = run * span + (time[i] - tmin)
    return starts[:run + 1], key
