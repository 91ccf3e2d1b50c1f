"""In-process kernels over integer-coded event arrays (NumPy), for the embedded engine.

Events arrive sorted by (subject, time, tie-break) as three arrays: subject ids, whole-second timestamps and
activity codes. No path strings are built except for the few top paths returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class EventArrays:
    subject: np.ndarray  # int64, sorted, contiguous per subject
    ts: np.ndarray  # int64 seconds
    code: np.ndarray  # int32 activity codes into `labels`
    labels: list[str]

    @cached_property
    def starts(self) -> np.ndarray:
        """Index of each subject's first event."""
        if len(self.subject) == 0:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(np.r_[True, self.subject[1:] != self.subject[:-1]])


@dataclass(frozen=True)
class Dfg:
    edges: dict[tuple[int, int], tuple[int, float]]  # (a, b) → (count, mean seconds)
    start: dict[int, int]
    end: dict[int, int]


def dfg(ev: EventArrays) -> Dfg:
    """Directly-follows counts and mean gap per edge, and start/end activity counts."""
    k = len(ev.labels)
    n = len(ev.code)
    if n == 0:
        return Dfg({}, {}, {})
    # Pairs that cross a subject boundary go to a sentinel bin instead of being filtered out (no compaction).
    cross = ev.subject[1:] != ev.subject[:-1]
    pair = ev.code[:-1].astype(np.int64) * k + ev.code[1:]
    pair[cross] = k * k
    gap = (ev.ts[1:] - ev.ts[:-1]).astype(np.float64)
    counts = np.bincount(pair, minlength=k * k + 1)[: k * k]
    sums = np.bincount(pair, weights=gap, minlength=k * k + 1)[: k * k]
    nz = np.flatnonzero(counts)
    edges = {(int(p // k), int(p % k)): (int(counts[p]), float(sums[p] / counts[p])) for p in nz}
    starts = ev.starts
    ends = np.r_[starts[1:] - 1, n - 1]
    sc = np.bincount(ev.code[starts], minlength=k)
    ec = np.bincount(ev.code[ends], minlength=k)
    return Dfg(edges, {int(i): int(sc[i]) for i in np.flatnonzero(sc)},
               {int(i): int(ec[i]) for i in np.flatnonzero(ec)})


def path_ids(ev: EventArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group subjects by identical activity sequence: (path id per subject, representative subject index, counts).

    Sequences are hashed (64-bit polynomial hash with the length mixed in); every subject is then checked element by element
    against its group's representative, so a hash collision can never merge two different paths.
    """
    n = len(ev.code)
    starts = ev.starts
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    lengths = np.diff(np.r_[starts, n])
    subj_of = np.repeat(np.arange(len(starts)), lengths)
    offset = np.arange(n) - starts[subj_of]
    max_len = int(lengths.max())
    with np.errstate(over="ignore"):
        pow1 = np.cumprod(np.full(max_len, _P1, dtype=np.uint64))
        codes = ev.code.astype(np.uint64) + np.uint64(1)
        h = np.add.reduceat(codes * pow1[offset], starts)
        key = h ^ (lengths.astype(np.uint64) * _P2)
    uniq, rep_idx, inverse, counts = np.unique(key, return_index=True, return_inverse=True, return_counts=True)
    rep_subject = rep_idx[inverse]
    same_len = lengths == lengths[rep_subject]
    rep_pos = starts[rep_subject][subj_of] + offset
    ok = same_len.all() and bool(np.all(ev.code[np.minimum(rep_pos, n - 1)] == ev.code))
    if not ok:
        # A collision: fall back to exact grouping by the sequences themselves (never expected in practice).
        seqs = [tuple(ev.code[s:s + ln].tolist()) for s, ln in zip(starts, lengths, strict=True)]
        mapping: dict[tuple[int, ...], int] = {}
        inverse = np.array([mapping.setdefault(s, len(mapping)) for s in seqs], dtype=np.int64)
        counts = np.bincount(inverse)
        rep_idx = np.array([seqs.index(s) for s in mapping], dtype=np.int64)
    return inverse.astype(np.int64), rep_idx.astype(np.int64), counts.astype(np.int64)


def sequence(ev: EventArrays, subject_index: int) -> list[str]:
    starts = ev.starts
    end = starts[subject_index + 1] if subject_index + 1 < len(starts) else len(ev.code)
    return [ev.labels[c] for c in ev.code[starts[subject_index]:end]]


def has_code(ev: EventArrays, code: int) -> np.ndarray:
    """Per subject: does any event carry `code`?"""
    starts = ev.starts
    if len(starts) == 0:
        return np.zeros(0, dtype=bool)
    hit = (ev.code == code).astype(np.int64)
    return np.add.reduceat(hit, starts) > 0


@dataclass(frozen=True)
class Conformance:
    conforming: np.ndarray  # bool per subject
    first_deviation: np.ndarray  # int per subject: index into the required steps, -1 when conforming
    skipped: np.ndarray  # bool per subject: a later required step still happened after the deviation


def conformance(ev: EventArrays, required: list[int]) -> Conformance:
    """Do the required step codes occur in order (other events may come between)? Greedy, exact."""
    starts = ev.starts
    n_subj = len(starts)
    n = len(ev.code)
    subj_of = np.repeat(np.arange(n_subj), np.diff(np.r_[starts, n])) if n else np.zeros(0, dtype=np.int64)
    pos = np.full(n_subj, -1, dtype=np.int64)  # index of the last matched event
    alive = np.ones(n_subj, dtype=bool)
    first_dev = np.full(n_subj, -1, dtype=np.int64)
    dev_pos = np.full(n_subj, -1, dtype=np.int64)
    for j, code in enumerate(required):
        idx = np.flatnonzero(ev.code == code)
        subj = subj_of[idx]
        valid = idx > pos[subj]
        idx, subj = idx[valid], subj[valid]
        found_subj, first = np.unique(subj, return_index=True)
        new_pos = np.full(n_subj, -1, dtype=np.int64)
        new_pos[found_subj] = idx[first]
        failed = alive & (new_pos < 0)
        first_dev[failed] = j
        dev_pos[failed] = pos[failed]
        alive &= ~failed
        pos = np.where(alive, new_pos, pos)
    skipped = np.zeros(n_subj, dtype=bool)
    deviated = np.flatnonzero(first_dev >= 0)
    if len(deviated):
        later = {j: set(required[j + 1:]) for j in range(len(required))}
        for j in np.unique(first_dev[deviated]):
            codes = np.array(sorted(later[int(j)]), dtype=ev.code.dtype)
            if len(codes) == 0:
                continue
            who = deviated[first_dev[deviated] == j]
            mask_who = np.zeros(n_subj, dtype=bool)
            mask_who[who] = True
            idx = np.flatnonzero(np.isin(ev.code, codes))
            subj = subj_of[idx]
            keep = mask_who[subj] & (idx > dev_pos[subj])
            skipped[np.unique(subj[keep])] = True
    return Conformance(alive, first_dev, skipped)
