"""In-process kernels over integer-coded event arrays (NumPy and compiled loops), for the embedded engine.

Events arrive sorted by (subject, time, tie-break) as three arrays: subject ids, whole-second timestamps and
activity codes. No path strings are built except for the few top paths returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from smarketing.analytics.kernels.loops import add_up, in_chunks, jit, same_run

_P1 = np.uint64(0x9E3779B97F4A7C15)
_P2 = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class EventArrays:
    subject: np.ndarray  # int64, sorted, contiguous per subject
    ts: np.ndarray  # int64 seconds
    code: np.ndarray  # int32 activity codes into `labels`
    labels: list[str]

    @cached_property
    def offsets(self) -> np.ndarray:
        """CSR offsets: subject k's events are `[offsets[k], offsets[k + 1])`."""
        return np.append(self.starts, len(self.code)).astype(np.int64)

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


@jit
def _dfg_loop(offsets: np.ndarray, code: np.ndarray, ts: np.ndarray, k: int, j0: int, j1: int
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Directly-follows counts and summed gaps (k × k), and start/end activity counts, of subjects [j0, j1)."""
    counts = np.zeros(k * k, dtype=np.int64)
    gaps = np.zeros(k * k, dtype=np.float64)
    start = np.zeros(k, dtype=np.int64)
    end = np.zeros(k, dtype=np.int64)
    for j in range(j0, j1):
        a, b = offsets[j], offsets[j + 1]
        start[code[a]] += 1
        end[code[b - 1]] += 1
        for i in range(a + 1, b):
            edge = code[i - 1] * k + code[i]
            counts[edge] += 1
            gaps[edge] += ts[i] - ts[i - 1]
    return counts, gaps, start, end


def dfg(ev: EventArrays) -> Dfg:
    """Directly-follows counts and mean gap per edge, and start/end activity counts."""
    k = len(ev.labels)
    if len(ev.code) == 0:
        return Dfg({}, {}, {})
    offsets = ev.offsets
    parts = in_chunks(_dfg_loop, offsets, offsets, ev.code, ev.ts, k)
    counts, sums, sc, ec = add_up(parts)
    nz = np.flatnonzero(counts)
    edges = {(int(p // k), int(p % k)): (int(counts[p]), float(sums[p] / counts[p])) for p in nz}
    return Dfg(edges, {int(i): int(sc[i]) for i in np.flatnonzero(sc)},
               {int(i): int(ec[i]) for i in np.flatnonzero(ec)})


@jit
def _mix(h: np.uint64) -> np.uint64:
    """splitmix64's finaliser: spreads every input bit over the low bits used to index the table."""
    h = (h ^ (h >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


@jit
def _sequence_hashes(offsets: np.ndarray, code: np.ndarray, j0: int, j1: int) -> np.ndarray:
    out = np.empty(j1 - j0, dtype=np.uint64)
    for j in range(j0, j1):
        h = np.uint64(offsets[j + 1] - offsets[j]) * _P2
        for i in range(offsets[j], offsets[j + 1]):
            h = (h ^ np.uint64(code[i] + 1)) * _P1
        out[j - j0] = _mix(h)
    return out


@jit
def _same_sequence(offsets: np.ndarray, code: np.ndarray, x: int, y: int) -> bool:
    n = offsets[x + 1] - offsets[x]
    return offsets[y + 1] - offsets[y] == n and same_run(code, offsets[x], offsets[y], n)


@jit
def _group_paths(offsets: np.ndarray, code: np.ndarray, hashes: np.ndarray
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Path id of every subject (numbered by first appearance), each path's first subject and its count.

    Subjects are grouped through an open-addressing table keyed by the hash of their sequence; a hash match is
    confirmed element by element, so a collision can never merge two different paths."""
    n = hashes.shape[0]
    capacity = 16
    while capacity < 2 * n:
        capacity *= 2
    mask = np.uint64(capacity - 1)
    slot_hash = np.zeros(capacity, dtype=np.uint64)
    slot_path = np.full(capacity, -1, dtype=np.int64)
    inverse = np.empty(n, dtype=np.int64)
    rep = np.empty(n, dtype=np.int64)
    counts = np.zeros(n, dtype=np.int64)
    n_paths = 0
    for s in range(n):
        h = hashes[s]
        slot = np.int64(h & mask)
        while True:
            p = slot_path[slot]
            if p < 0:
                slot_hash[slot], slot_path[slot] = h, n_paths
                rep[n_paths] = s
                p = n_paths
                n_paths += 1
                break
            if slot_hash[slot] == h and _same_sequence(offsets, code, rep[p], s):
                break
            slot = (slot + 1) & (capacity - 1)
        inverse[s] = p
        counts[p] += 1
    return inverse, rep[:n_paths].copy(), counts[:n_paths].copy()


def path_ids(ev: EventArrays) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group subjects by identical activity sequence: (path id per subject, representative subject index, counts)."""
    if len(ev.code) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    offsets = ev.offsets
    hashes = np.concatenate(in_chunks(_sequence_hashes, offsets, offsets, ev.code))
    return _group_paths(offsets, ev.code, hashes)


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
