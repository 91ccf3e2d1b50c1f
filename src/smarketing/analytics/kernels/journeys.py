"""Integer-coded journeys: the one input every attribution kernel takes.

A journey is an ordered run of touches (channel or campaign codes) ending in conversion or not. Journeys are
stored as CSR-style arrays (`offsets`, `codes`) so kernels work with NumPy vector operations, never with path
strings. One row may stand for many identical journeys (the aggregated path format): `conversions` and
`nulls` count how many of them converted and how many did not.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from smarketing.analytics.kernels import loops
from smarketing.core.errors import ValidationFailed


class AttributionInputInvalid(ValidationFailed):
    code = "attribution_input_invalid"


@dataclass(frozen=True)
class Journeys:
    """Journeys as CSR arrays. Touches of journey j are `codes[offsets[j]:offsets[j+1]]`, oldest first."""

    offsets: np.ndarray  # int64, len J+1, offsets[0] == 0
    codes: np.ndarray  # int32 (or int64), len N, values in [0, n_codes)
    names: tuple[str, ...]  # name of each code
    conversions: np.ndarray  # float64, len J: conversions of this path (0/1 for one journey)
    value: np.ndarray  # float64, len J: conversion value of this path
    nulls: np.ndarray  # float64, len J: journeys on this path that did not convert
    times: np.ndarray | None = None  # float64 days, len N: when each touch happened (for time decay)
    end_times: np.ndarray | None = None  # float64 days, len J: when the journey converted / was cut off
    # Position (within the journey) of the touch that created the lead / MQL and the opportunity; -1 unknown.
    lead_pos: np.ndarray | None = None
    opp_pos: np.ndarray | None = None

    @property
    def n_journeys(self) -> int:
        return int(self.offsets.shape[0] - 1)

    @property
    def n_touches(self) -> int:
        return int(self.codes.shape[0])

    @property
    def n_codes(self) -> int:
        return len(self.names)

    # Derived arrays are cached: every model run needs them and the arrays never change.
    @cached_property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    @cached_property
    def _journey_of_touch(self) -> np.ndarray:
        return np.repeat(np.arange(self.n_journeys, dtype=np.int64), self.lengths)

    @cached_property
    def _position_of_touch(self) -> np.ndarray:
        return np.arange(self.n_touches, dtype=np.int64) - np.repeat(self.offsets[:-1], self.lengths)

    def journey_of_touch(self) -> np.ndarray:
        """Journey index of every touch (int64, len N)."""
        return self._journey_of_touch

    def position_of_touch(self) -> np.ndarray:
        """Position of every touch within its journey (0 = first)."""
        return self._position_of_touch

    def total_conversions(self) -> float:
        return float(self.conversions.sum())

    def total_value(self) -> float:
        return float(self.value.sum())

    def total_journeys(self) -> float:
        return float(self.conversions.sum() + self.nulls.sum())

    def subset(self, journey_index: np.ndarray) -> Journeys:
        """The journeys at `journey_index` (in that order), with their touches."""
        journey_index = np.asarray(journey_index, dtype=np.int64)
        times = self.times if self.times is not None else np.zeros(0)
        offsets, codes, picked_times = loops.gather(self.offsets, self.codes, times, journey_index)

        def pick(a: np.ndarray | None, idx: np.ndarray) -> np.ndarray | None:
            return None if a is None else a[idx]

        return Journeys(offsets=offsets, codes=codes, names=self.names,
                        conversions=self.conversions[journey_index], value=self.value[journey_index],
                        nulls=self.nulls[journey_index], times=None if self.times is None else picked_times,
                        end_times=pick(self.end_times, journey_index), lead_pos=pick(self.lead_pos, journey_index),
                        opp_pos=pick(self.opp_pos, journey_index))

    def converting(self) -> Journeys:
        """Only the journeys with conversions: rule-based credit never reaches the others."""
        return self.subset(np.flatnonzero(self.conversions > 0))


def journeys_from_events(journey_ids: np.ndarray, codes: np.ndarray, names: Sequence[str], *,
                         converted: np.ndarray, value: np.ndarray | None = None,
                         times: np.ndarray | None = None, end_times: np.ndarray | None = None,
                         presorted: bool = False) -> Journeys:
    """Journeys from an event table: one row per touch (journey id, code, time), plus per-journey outcomes.

    `journey_ids` are integers in [0, J); `converted`, `value` and `end_times` are indexed by journey id.
    Events are ordered by (journey, time) unless `presorted` says the table already is.
    Journeys without touches are kept with length 0 (they get no credit and do not enter the chain).
    """
    # Contiguous arrays of fixed types: the compiled loops are built (and cached) for exactly these.
    journey_ids = np.ascontiguousarray(journey_ids, dtype=np.int64)
    codes = np.asarray(codes)
    if not np.issubdtype(codes.dtype, np.integer):
        raise AttributionInputInvalid("channel codes must be integers", field="codes")
    codes = np.ascontiguousarray(codes, dtype=np.int32)
    converted = np.ascontiguousarray(converted, dtype=np.float64)
    n_journeys = converted.shape[0]
    if journey_ids.shape != codes.shape:
        raise AttributionInputInvalid("journey ids and channel codes differ in length", field="codes")
    t = None if times is None else np.ascontiguousarray(times, dtype=np.float64)
    if not presorted:
        order = np.lexsort((t, journey_ids)) if t is not None else np.argsort(journey_ids, kind="stable")
        journey_ids, codes = journey_ids[order], codes[order]
        t = None if t is None else t[order]
    # One compiled pass finds the journey boundaries and checks every row.
    offsets, status, row = loops.scan_events(journey_ids, codes, n_journeys, len(names))
    if status == loops.SCAN_BAD_JOURNEY:
        raise AttributionInputInvalid(f"event row {row}: journey id {journey_ids[row]} has no outcome row "
                                      f"(outcomes cover ids 0 to {n_journeys - 1})", field="journey_ids",
                                      record=f"row {row}")
    if status == loops.SCAN_BAD_CODE:
        raise AttributionInputInvalid(f"event row {row}: channel code {codes[row]} is outside the list of "
                                      f"{len(names)} channel names", field="codes", record=f"row {row}")
    if status == loops.SCAN_UNSORTED:
        raise AttributionInputInvalid(f"event row {row}: events said to be sorted by journey are not "
                                      f"(journey {journey_ids[row]} after {journey_ids[row - 1]})",
                                      field="journey_ids", record=f"row {row}")
    nulls = np.minimum(converted, 1.0)
    np.subtract(1.0, nulls, out=nulls)
    return Journeys(offsets=offsets, codes=codes, names=tuple(names), conversions=converted,
                    value=np.zeros(n_journeys) if value is None else np.ascontiguousarray(value, np.float64),
                    nulls=nulls, times=t,
                    end_times=None if end_times is None else np.asarray(end_times, dtype=np.float64))


def journeys_from_lists(paths: Sequence[Sequence[str]], converted: Sequence[float], *,
                        value: Sequence[float] | None = None, nulls: Sequence[float] | None = None,
                        times: Sequence[Sequence[float]] | None = None,
                        lead_pos: Sequence[int] | None = None, opp_pos: Sequence[int] | None = None,
                        names: Sequence[str] | None = None) -> Journeys:
    """Journeys from Python lists of channel names (small inputs, tests, the paths file)."""
    if names is None:
        seen: dict[str, int] = {}
        for path in paths:
            for ch in path:
                seen.setdefault(ch, len(seen))
        names = list(seen)
    index = {n: i for i, n in enumerate(names)}
    lengths = np.array([len(p) for p in paths], dtype=np.int64)
    offsets = np.zeros(len(paths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    codes = np.array([index[ch] for p in paths for ch in p], dtype=np.int32)
    conv = np.asarray(converted, dtype=np.float64)
    return Journeys(
        offsets=offsets, codes=codes, names=tuple(names), conversions=conv,
        value=np.zeros(len(paths)) if value is None else np.asarray(value, dtype=np.float64),
        nulls=1.0 - np.minimum(conv, 1.0) if nulls is None else np.asarray(nulls, dtype=np.float64),
        times=None if times is None else np.array([x for t in times for x in t], dtype=np.float64),
        lead_pos=None if lead_pos is None else np.asarray(lead_pos, dtype=np.int64),
        opp_pos=None if opp_pos is None else np.asarray(opp_pos, dtype=np.int64))


def unique_ints(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values of an integer array (sort-based: NumPy's hash-based unique is far slower here)."""
    if x.size == 0:
        return x.copy()
    s = np.sort(x)
    keep = np.empty(s.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def unique_inverse(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, for every element, the index of its value among them."""
    if x.size == 0:
        return x.copy(), np.zeros(0, dtype=np.int64)
    order = np.argsort(x, kind="stable")
    s = x[order]
    new = np.empty(s.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    inverse = np.empty(x.shape[0], dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return s[new], inverse


def sort_order(subject: np.ndarray, time: np.ndarray, *ties: np.ndarray) -> np.ndarray:
    """The permutation that sorts rows by subject, then time, then each of `ties` in turn (the rows' full order,
    as an engine's ORDER BY subject, time, … gives it when the keys make every row distinct)."""
    return sorted_rows(subject, time, *ties)[0]


def sorted_rows(subject: np.ndarray, time: np.ndarray, *ties: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`sort_order`'s permutation, with the subjects and times in that order (no second gather of either).

    Subjects are record ids, dense enough for a compiled counting pass that places each row in its subject's run
    and orders the short runs by time (`loops.subject_time_order`, linear); otherwise one unstable argsort of a
    packed (subject, time) key. Then a lexsort of only the rows whose (subject, time) tie: a fraction of the cost
    of sorting all rows by several keys, in NumPy or in the engine (which drags every selected column, strings
    included, through its sort)."""
    n = subject.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64), subject[:0], time[:0]
    s_lo, t_lo = int(subject.min()), int(time.min())
    s_span, t_span = int(subject.max()) - s_lo + 1, int(time.max()) - t_lo + 1
    if s_span <= 2 * n + 4096:
        order, s_sorted, t_sorted = loops.subject_time_order(subject, time, s_lo, s_span)
    elif s_span * t_span >= 2**62:  # the packed key would overflow: sort by every key
        order = np.lexsort((*reversed(ties), time, subject)).astype(np.int64)
        return order, subject[order], time[order]
    else:
        order = np.argsort((subject - s_lo) * t_span + (time - t_lo))
        s_sorted, t_sorted = subject[order], time[order]
    tied = loops.tied_rows(s_sorted, t_sorted) if ties else np.zeros(0, dtype=np.int64)
    if tied.size:
        # Tied rows sit in runs of one (subject, time), already in order: reorder the runs by the remaining keys
        # (their subjects and times are equal within a run, so the sorted copies stay right).
        rows = order[tied]
        order[tied] = rows[np.lexsort((*(t[rows] for t in reversed(ties)), t_sorted[tied], s_sorted[tied]))]
    return order, s_sorted, t_sorted


@loops.jit
def merge_positions(subject: np.ndarray, time: np.ndarray, ids: np.ndarray, new_subject: np.ndarray,
                    new_time: np.ndarray, new_ids: np.ndarray) -> np.ndarray:
    """Rows sorted by (subject, time, id), and new rows sorted the same way (no id in both): where each new row
    lands when the two are merged. One binary search per new row: a few new rows cost nothing per old row."""
    n, m = subject.shape[0], new_subject.shape[0]
    at = np.empty(m, dtype=np.int64)
    for k in range(m):
        s, t, i = new_subject[k], new_time[k], new_ids[k]
        lo, hi = 0, n
        while lo < hi:
            mid = (lo + hi) >> 1
            if subject[mid] < s or (subject[mid] == s and (time[mid] < t or (time[mid] == t and ids[mid] < i))):
                lo = mid + 1
            else:
                hi = mid
        at[k] = lo + k
    return at


def interleave_columns(columns: Sequence[tuple[np.ndarray, np.ndarray]], at: np.ndarray,
                       beside: Callable[[], Any] | None = None) -> list[Any]:
    """`interleave` of several columns (rows, new rows) at the same positions, and `beside()` last when given: on the
    kernel threads when the rows are many (each column's copy is bound by memory, not by one core's work)."""
    calls: list[tuple[Callable[..., Any], tuple[Any, ...]]] = [(interleave, (rows, new_rows, at))
                                                               for rows, new_rows in columns]
    if beside is not None:
        calls.append((beside, ()))
    if len(calls) < 2 or not columns or columns[0][0].shape[0] < loops.PARALLEL_MIN_TOUCHES:
        return [fn(*args) for fn, args in calls]
    return loops._on_threads(calls)


def interleave(rows: np.ndarray, new_rows: np.ndarray, at: np.ndarray) -> np.ndarray:
    """`rows` with `new_rows` placed at positions `at` (increasing, as `merge_positions` gives them)."""
    # Allocated by NumPy, which asks the kernel for huge pages for large arrays: a compiled allocation is faulted in
    # a small page at a time, which doubled the merge of a large history's columns (memory-bound copies).
    out = np.empty(rows.shape[0] + new_rows.shape[0], dtype=rows.dtype)
    _interleave_into(out, rows, new_rows, at)
    return out


@loops.jit
def _interleave_into(out: np.ndarray, rows: np.ndarray, new_rows: np.ndarray, at: np.ndarray) -> None:
    """Fill `out` with `rows` and `new_rows` at positions `at`: the stretches between new rows are copied whole."""
    done = taken = 0
    for k in range(new_rows.shape[0]):
        p = at[k]
        count = p - done
        out[done:p] = rows[taken:taken + count]
        taken += count
        out[p] = new_rows[k]
        done = p + 1
    out[done:] = rows[taken:]
