"""When each simulated contact first qualifies as an MQL under the playbook in force at that moment.

Pure and vectorised. Fit comes from `smarketing.scoring.rules.score_many` (the product's own scoring); engagement is
the same rule (points per touch, newest `max_count` per rule, halved every half-life) evaluated as a *timeline*: the
score only rises at a touch and decays between touches, so the first touch at which the score and the mql stage's
entry criteria hold is the moment of qualification. Criteria are tested with `smarketing.playbook.criteria`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from smarketing.lifecycle.enums import Stage
from smarketing.playbook.criteria import MISSING, holds
from smarketing.playbook.schema import Criterion, Playbook, Scoring
from smarketing.scoring.rules import TouchArrays, line_dict, score_many

_AS_OF = datetime(2000, 1, 1, tzinfo=UTC)  # fit does not depend on time


@dataclass(frozen=True)
class Qualification:
    """Per contact: the index of the qualifying touch (-1 if none), and the scores at that moment."""

    touch_index: np.ndarray
    fit: np.ndarray
    engagement: np.ndarray
    total: np.ndarray


def fit_points(scoring: Scoring, facts: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Raw fit points of every contact, by the product's scoring rules."""
    empty = TouchArrays(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), np.zeros(0, dtype="datetime64[us]"))
    return score_many(scoring, facts, empty, _AS_OF).fit


def static_mask(criteria: Sequence[Criterion], facts: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """Whether the non-score criteria hold for each contact (each distinct value is tested once)."""
    out = np.ones(len(facts), dtype=bool)
    for c in criteria:
        if c.field.startswith("score."):
            continue
        verdict: dict[Any, bool] = {}
        col = np.empty(len(facts), dtype=bool)
        for i, f in enumerate(facts):
            value = f.get(c.field, MISSING)
            key = (type(value), value) if value is not MISSING else MISSING
            if key not in verdict:
                verdict[key] = holds(c, {} if value is MISSING else {c.field: value})
            col[i] = verdict[key]
        out &= col
    return out


_OPS = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less, "==": np.equal,
        "!=": np.not_equal}


def score_mask(criteria: Sequence[Criterion], scores: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """Whether the `score.*` criteria hold at each touch (scores are always present numbers)."""
    out = np.ones(n, dtype=bool)
    for c in criteria:
        if not c.field.startswith("score."):
            continue
        values = scores[c.field]
        if c.op in _OPS:
            out &= _OPS[c.op](values, float(c.value))
        else:  # rare ops on scores: fall back to the scalar evaluator
            out &= np.fromiter((holds(c, {c.field: float(v)}) for v in values), dtype=bool, count=n)
    return out


def engagement_timeline(scoring: Scoring, contact: np.ndarray, t_days: np.ndarray, kind: np.ndarray) -> np.ndarray:
    """Engagement of each touch's contact right after that touch (touches sorted by contact, then time)."""
    n = contact.size
    total = np.zeros(n)
    if n == 0:
        return total
    new_contact = np.r_[True, contact[1:] != contact[:-1]]
    starts = np.flatnonzero(new_contact)
    row_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    hl = scoring.engagement_half_life_days
    positions = np.arange(n)
    codes, kinds = pd.factorize(kind)  # compare small ints, not strings, once per rule
    code_of = {str(k): i for i, k in enumerate(kinds)}
    for rule in scoring.engagement_rules:
        code = code_of.get(str(rule.kind))
        if code is None:
            continue
        sel = np.flatnonzero(codes == code)
        if sel.size == 0:
            continue
        c, t = contact[sel], t_days[sel]
        sub_new = np.r_[True, c[1:] != c[:-1]]
        sub_starts = np.flatnonzero(sub_new)
        sub_start = np.repeat(sub_starts, np.diff(np.r_[sub_starts, sel.size]))
        rank = np.arange(sel.size) - sub_start
        # Sum over the newest max_count touches of the rule, relative to the newest (weights <= 1, no overflow).
        window = np.zeros(sel.size)
        for s in range(min(rule.max_count, int(rank.max()) + 1)):
            ok = rank >= s
            j = np.flatnonzero(ok)
            window[j] += np.power(0.5, (t[j] - t[j - s]) / hl)
        # Carry the newest rule touch at or before each row forward, within the contact.
        last = np.full(n, -1)
        last[sel] = positions[sel]
        last = np.maximum.accumulate(last)
        valid = last >= row_start
        where_in_sel = np.searchsorted(sel, last[valid])
        age = t_days[valid] - t_days[last[valid]]
        total[valid] += rule.points * window[where_in_sel] * np.power(0.5, age / hl)
    # Touches at the same moment all count at that moment: give each tie the value after its last member.
    end = np.r_[(contact[1:] != contact[:-1]) | (t_days[1:] != t_days[:-1]), True]
    group = np.cumsum(np.r_[True, end[:-1]]) - 1
    return total[np.flatnonzero(end)[group]]


def first_mql(terms: Playbook, facts: Sequence[Mapping[str, Any]], contact: np.ndarray, t_days: np.ndarray,
              kind: np.ndarray, eligible: np.ndarray | None = None, fit: np.ndarray | None = None) -> Qualification:
    """The first touch at which each contact meets the MQL threshold and the mql entry criteria under `terms`.

    `eligible` (per touch) restricts which touches may qualify, e.g. those while this playbook version was active;
    `fit` may pass raw fit points already computed with the same fit rules.
    """
    scoring = terms.scoring
    n = contact.size
    fit_c = fit_points(scoring, facts) if fit is None else fit
    fit_t = fit_c[contact] if n else np.zeros(0)
    eng = engagement_timeline(scoring, contact, t_days, kind)
    total = scoring.fit_weight * fit_t + scoring.engagement_weight * eng
    # The MQL stage's whole entry test, the threshold (scoring.mql_threshold) included, as qualification reads it.
    criteria = terms.entry_criteria(Stage.MQL)
    ok = np.ones(n, dtype=bool)
    ok &= static_mask(criteria, facts)[contact] if n else ok
    ok &= score_mask(criteria, {"score.fit": fit_t, "score.engagement": eng, "score.total": total}, n)
    if eligible is not None:
        ok &= eligible
    first = np.full(len(facts), -1, dtype=np.int64)
    hits = np.flatnonzero(ok)
    if hits.size:
        # Touches are sorted by contact, so the first hit per contact is the earliest.
        contacts_hit, first_pos = np.unique(contact[hits], return_index=True)
        first[contacts_hit] = hits[first_pos]
    pick = np.maximum(first, 0)
    has = first >= 0

    def at(values: np.ndarray) -> np.ndarray:
        return np.where(has, values[pick] if n else 0.0, 0.0)

    return Qualification(touch_index=first, fit=fit_c, engagement=at(eng), total=at(total))


def _micros(origin: np.datetime64, days: np.ndarray) -> np.ndarray:
    return origin + np.round(np.asarray(days, dtype=np.float64) * 86_400e6).astype(np.int64).astype("timedelta64[us]")


def mql_details(terms: Playbook, facts: Sequence[Mapping[str, Any]], contacts: np.ndarray, at: np.ndarray,
                c_idx: np.ndarray, t_days: np.ndarray, kind: np.ndarray, origin: datetime) -> list[dict[str, Any]]:
    """What the product records on an MQL stage change: the score at that moment with its explanation.

    `contacts` (distinct) qualified at `at` (days); the touches are all touches (c_idx, t_days, kind).
    Scored by `smarketing.scoring.rules.score_many`, the product's own scoring.
    """
    if contacts.size == 0:
        return []
    base = np.datetime64(origin.replace(tzinfo=None), "us")
    row = np.full(len(facts), -1, dtype=np.int64)
    row[contacts] = np.arange(contacts.size)
    sel = row[c_idx] >= 0
    touches = TouchArrays(row[c_idx[sel]], np.asarray(kind[sel], dtype=object), _micros(base, t_days[sel]))
    scores = score_many(terms.scoring, [facts[c] for c in contacts], touches, _micros(base, at))
    threshold = terms.scoring.mql_threshold
    # Why not scores.result(i).as_dict(): the same dicts (ScoreResult.as_dict's keys, order and rounding) without a
    # dataclass per rule line, which dominated the seeding of the larger companies.
    lines: list[list[dict[str, Any]]] = [[] for _ in range(contacts.size)]
    rows, cols = np.nonzero(scores.counts > 0)
    points, counts = scores.points[rows, cols].tolist(), scores.counts[rows, cols].tolist()
    decay = scores.decay[rows, cols].tolist()
    for i, j, p, n, d in zip(rows.tolist(), cols.tolist(), points, counts, decay, strict=True):
        lines[i].append(line_dict(scores.rule_ids[j], scores.descriptions[j], p, n, scores.sources[j],
                                  scores.playbook_points[j], d, scores.weights[j]))
    fit, eng, total = scores.fit.tolist(), scores.engagement.tolist(), scores.total.tolist()
    return [{"score": {"fit": round(fit[i], 2), "engagement": round(eng[i], 2), "total": round(total[i], 2),
                       "explanation": lines[i]}, "threshold": threshold} for i in range(contacts.size)]
