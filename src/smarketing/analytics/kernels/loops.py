"""Compiled loops (Numba) over integer-coded journeys: the hot paths of the attribution and journey kernels.

Each loop makes one pass over the CSR arrays (`offsets`, `codes`) and builds no per-touch temporaries, so a
chain over ten million journeys costs little more memory than its input. Loops release the GIL and work on a
range of journeys `[j0, j1)`; `in_chunks` runs one per core on Python threads and the caller adds the partial
results. No Numba threading layer is involved, which keeps the loops safe to call from a threaded web server.
Compiled code is cached on disk, so only the first call after an install pays for compilation.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numba
import numpy as np

T = TypeVar("T")

jit = numba.njit(cache=True, nogil=True)

PARALLEL_MIN_TOUCHES = 1_000_000  # below this, one thread is faster than handing out work
MAX_WORKERS = 8

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _forget_pool() -> None:
    """A forked child inherits the pool object but not its threads: start afresh there."""
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_pool)


def workers() -> int:
    """Threads used for one kernel call: the cores this process may run on, at most MAX_WORKERS."""
    try:
        n = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        n = os.cpu_count() or 1
    return max(1, min(n, MAX_WORKERS))


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=MAX_WORKERS, thread_name_prefix="smarketing-kernel")
        return _pool


def chunk_bounds(offsets: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """Split journeys into `parts` contiguous ranges holding about the same number of touches."""
    n_journeys = offsets.shape[0] - 1
    if parts <= 1 or n_journeys <= 1:
        return [(0, n_journeys)]
    cuts = np.searchsorted(offsets, np.linspace(0, offsets[-1], parts + 1), side="left")
    cuts[0], cuts[-1] = 0, n_journeys
    cuts = np.unique(np.clip(cuts, 0, n_journeys))
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a] or [(0, n_journeys)]


def in_chunks(fn: Callable[..., T], offsets: np.ndarray, *args: Any) -> list[T]:
    """Run `fn(*args, j0, j1)` over journey ranges, one per core when the input is large enough."""
    parts = workers() if offsets[-1] >= PARALLEL_MIN_TOUCHES else 1
    return _on_threads([(fn, (*args, a, b)) for a, b in chunk_bounds(offsets, parts)])


def _on_threads(calls: Sequence[tuple[Callable[..., T], tuple[Any, ...]]]) -> list[T]:
    """Make each call on the kernel threads (in this thread when there is one), and return their results in order."""
    if len(calls) == 1:
        fn, args = calls[0]
        return [fn(*args)]
    futures = [_executor().submit(fn, *args) for fn, args in calls]
    return [f.result() for f in futures]


def add_up(parts: Sequence[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """Element-wise sums of the partial results `in_chunks` returns (one tuple of arrays per journey range)."""
    return tuple(np.sum([p[k] for p in parts], axis=0) for k in range(len(parts[0])))


@jit
def same_run(values: np.ndarray, x: int, y: int, n: int) -> bool:
    """Are values[x:x+n] and values[y:y+n] equal, element by element?"""
    for i in range(n):  # noqa: SIM110 - a plain loop: Numba compiles no generator into all()
        if values[x + i] != values[y + i]:
            return False
    return True


# ---------------------------------------------------------------------------------------------- event tables

SCAN_OK, SCAN_UNSORTED, SCAN_BAD_JOURNEY, SCAN_BAD_CODE = 0, 1, 2, 3


@jit
def scan_events(journey_ids: np.ndarray, codes: np.ndarray, n_journeys: int, n_codes: int
                ) -> tuple[np.ndarray, int, int]:
    """CSR offsets of an event table sorted by journey, checking every row on the way.

    Returns (offsets, status, row): status is SCAN_OK, or the first problem found and the row holding it.
    """
    offsets = np.zeros(n_journeys + 1, dtype=np.int64)
    prev = -1
    for i in range(journey_ids.shape[0]):
        jid = journey_ids[i]
        if jid < 0 or jid >= n_journeys:
            return offsets, SCAN_BAD_JOURNEY, i
        if jid < prev:
            return offsets, SCAN_UNSORTED, i
        c = codes[i]
        if c < 0 or c >= n_codes:
            return offsets, SCAN_BAD_CODE, i
        offsets[jid + 1] += 1
        prev = jid
    for j in range(n_journeys):
        offsets[j + 1] += offsets[j]
    return offsets, SCAN_OK, -1


@jit
def touches_and_reach(offsets: np.ndarray, codes: np.ndarray, converting: np.ndarray, n_codes: int
                      ) -> tuple[np.ndarray, np.ndarray]:
    """Per code: its touches in converting journeys, and the journeys it appears in (each journey once)."""
    touches = np.zeros(n_codes, dtype=np.int64)
    reach = np.zeros(n_codes, dtype=np.int64)
    last = np.full(n_codes, -1, dtype=np.int64)
    for j in range(offsets.shape[0] - 1):
        counted = converting[j]
        for t in range(offsets[j], offsets[j + 1]):
            c = codes[t]
            if counted:
                touches[c] += 1
            if last[c] != j:
                last[c] = j
                reach[c] += 1
    return touches, reach


@jit
def gather(offsets: np.ndarray, codes: np.ndarray, times: np.ndarray, picked: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets, codes and times (empty when `times` is) of the journeys at `picked`, in that order."""
    out_offsets = np.zeros(picked.shape[0] + 1, dtype=np.int64)
    for k in range(picked.shape[0]):
        j = picked[k]
        out_offsets[k + 1] = out_offsets[k] + offsets[j + 1] - offsets[j]
    total = out_offsets[-1]
    out_codes = np.empty(total, dtype=codes.dtype)
    with_times = times.shape[0] > 0
    out_times = np.empty(total if with_times else 0, dtype=np.float64)
    for k in range(picked.shape[0]):
        j = picked[k]
        a, o = offsets[j], out_offsets[k]
        for i in range(offsets[j + 1] - a):
            out_codes[o + i] = codes[a + i]
            if with_times:
                out_times[o + i] = times[a + i]
    return out_offsets, out_codes, out_times


# ---------------------------------------------------------------------------------------------- Markov chains
# A state of an order-k chain is the last k channels, encoded as a key in base B = C + 1 with the newest channel
# as the most significant digit and digit C meaning "before the journey started". Keys are computed from the
# window of the last k touches (no division, and no dependency from one touch to the next).


@jit
def state_key(codes: np.ndarray, i: int, first: int, order: int, base: int) -> int:
    """Key of the state after touch i of a journey whose first touch is at `first`."""
    key = 0
    for d in range(order):
        key = key * base + (codes[i - d] if i - d >= first else base - 1)
    return key


@jit
def mark_states(offsets: np.ndarray, codes: np.ndarray, order: int, base: int, space: int,
                j0: int, j1: int) -> np.ndarray:
    """Which state keys occur in journeys [j0, j1)."""
    present = np.zeros(space, dtype=np.bool_)
    for j in range(j0, j1):
        a = offsets[j]
        for i in range(a, offsets[j + 1]):
            present[state_key(codes, i, a, order, base)] = True
    return present


@jit
def touch_keys(offsets: np.ndarray, codes: np.ndarray, order: int, base: int) -> np.ndarray:
    """State key of every touch (for key spaces too large for a presence table)."""
    out = np.empty(codes.shape[0], dtype=np.int64)
    for j in range(offsets.shape[0] - 1):
        a = offsets[j]
        for i in range(a, offsets[j + 1]):
            out[i] = state_key(codes, i, a, order, base)
    return out


@jit
def count_chain(offsets: np.ndarray, codes: np.ndarray, conversions: np.ndarray, nulls: np.ndarray,
                value: np.ndarray, remap: np.ndarray, touch_state: np.ndarray, order: int, base: int,
                n_states: int, n_codes: int, dense: bool, prev_out: np.ndarray,
                j0: int, j1: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Transition counts of journeys [j0, j1): `nxt[s, c]` journeys moving from state s (0 = start) by channel c,
    `exits[s]` = (conversions, nulls, value) ending in s, and totals (conversions, journeys, value) of the
    journeys with touches. A touch's state is its code + 1 (order 1), `touch_state[i]` when that array is given,
    else `remap[key]`. When `dense` is false the counting is left to the caller: `prev_out[i]` gets the state
    before touch i."""
    nxt = np.zeros((n_states if dense else 0, n_codes), dtype=np.float64)
    exits = np.zeros((n_states, 3), dtype=np.float64)
    totals = np.zeros(3, dtype=np.float64)
    by_touch = touch_state.shape[0] > 0
    for j in range(j0, j1):
        a, b = offsets[j], offsets[j + 1]
        if a == b:
            continue
        m = conversions[j] + nulls[j]
        prev = 0
        for i in range(a, b):
            c = codes[i]
            if dense:
                nxt[prev, c] += m
            else:
                prev_out[i] = prev
            if order == 1:
                prev = c + 1
            elif by_touch:
                prev = touch_state[i]
            else:
                prev = remap[state_key(codes, i, a, order, base)]
        exits[prev, 0] += conversions[j]
        exits[prev, 1] += nulls[j]
        exits[prev, 2] += value[j]
        totals[0] += conversions[j]
        totals[1] += m
        totals[2] += value[j]
    return nxt, exits, totals


def row_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """Split rows [0, n) into `parts` contiguous ranges of about the same size (one when the input is small)."""
    if n < PARALLEL_MIN_TOUCHES or parts <= 1:
        return [(0, n)]
    cuts = np.linspace(0, n, parts + 1).astype(np.int64)
    return [(int(a), int(b)) for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a]


@jit
def _count_subjects(subject: np.ndarray, s_lo: int, s_span: int, i0: int, i1: int) -> np.ndarray:
    counts = np.zeros(s_span, dtype=np.int64)
    for i in range(i0, i1):
        counts[subject[i] - s_lo] += 1
    return counts


@jit
def _place_rows(subject: np.ndarray, time: np.ndarray, s_lo: int, at: np.ndarray, i0: int, i1: int,
                order: np.ndarray, t: np.ndarray, s_out: np.ndarray) -> None:
    for i in range(i0, i1):
        s = subject[i] - s_lo
        p = at[s]
        order[p] = i
        t[p] = time[i]
        s_out[p] = subject[i]
        at[s] = p + 1


@jit
def _order_runs(starts: np.ndarray, s0: int, s1: int, order: np.ndarray, t: np.ndarray) -> None:
    for s in range(s0, s1):
        a, b = starts[s], starts[s + 1]
        if b - a <= 32:
            for i in range(a + 1, b):
                ti, oi, j = t[i], order[i], i - 1
                while j >= a and t[j] > ti:
                    t[j + 1], order[j + 1] = t[j], order[j]
                    j -= 1
                t[j + 1], order[j + 1] = ti, oi
            continue
        ordered = True
        for i in range(a + 1, b):
            if t[i] < t[i - 1]:
                ordered = False
                break
        if not ordered:
            run = np.argsort(t[a:b], kind="mergesort")
            order[a:b] = order[a:b][run]
            t[a:b] = t[a:b][run]


def subject_time_order(subject: np.ndarray, time: np.ndarray, s_lo: int, s_span: int
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The permutation that sorts rows by subject, then time (rows equal on both keep their input order), with the
    subjects and times in that order, for subjects dense in [s_lo, s_lo + s_span). A counting pass places every
    row in its subject's run, then each run is put in time order: insertion for short runs, nothing for runs
    already in order (a history read month by month mostly is), a stable sort of the run for the rest. Linear
    where a sort of the whole table is not (the runs are short beside it), and on every core: each thread counts
    and places a range of rows (ranges in input order, so the placing stays stable), then orders a range of runs."""
    n = subject.shape[0]
    bounds = row_bounds(n, workers())
    counts = _on_threads([(_count_subjects, (subject, s_lo, s_span, a, b)) for a, b in bounds])
    starts = np.zeros(s_span + 1, dtype=np.int64)
    np.cumsum(np.sum(counts, axis=0), out=starts[1:])
    order, t, s_sorted = np.empty(n, dtype=np.int64), np.empty(n, dtype=time.dtype), np.empty(n, dtype=subject.dtype)
    at, placing = starts[:-1].copy(), []
    for (a, b), c in zip(bounds, counts, strict=True):
        placing.append((_place_rows, (subject, time, s_lo, at.copy(), a, b, order, t, s_sorted)))
        at += c
    _on_threads(placing)
    cuts = np.searchsorted(starts, [n * k // len(bounds) for k in range(len(bounds) + 1)], side="left")
    cuts[0], cuts[-1] = 0, s_span
    _on_threads([(_order_runs, (starts, int(a), int(b), order, t))
                 for a, b in zip(cuts[:-1], cuts[1:], strict=True) if b > a])
    return order, s_sorted, t


@jit
def _tied(subject: np.ndarray, time: np.ndarray, i: int, j: int) -> bool:
    """Whether rows i and j (both in range) share subject and time."""
    return subject[i] == subject[j] and time[i] == time[j]


@jit
def tied_rows(subject: np.ndarray, time: np.ndarray) -> np.ndarray:
    """The rows (sorted by subject, then time) that share both with a neighbour, in order: one pass to count, one
    to list (no row-length temporaries)."""
    n = subject.shape[0]
    count = 0
    for i in range(n):
        if (i > 0 and _tied(subject, time, i, i - 1)) or (i + 1 < n and _tied(subject, time, i, i + 1)):
            count += 1
    rows = np.empty(count, dtype=np.int64)
    k = 0
    for i in range(n):
        if (i > 0 and _tied(subject, time, i, i - 1)) or (i + 1 < n and _tied(subject, time, i, i + 1)):
            rows[k] = i
            k += 1
    return rows
