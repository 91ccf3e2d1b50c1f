"""Agreeing the MQL threshold from evidence (pure; no ORM).

From historical outcomes (each contact's score and whether sales accepted it, whether it became an
opportunity, whether it was won) build the trade-off table both teams negotiate from: for each candidate
threshold, how many MQLs it would have produced and what share of them sales accepted, turned into
opportunities and won.

The proposal rule, in order:
1. **Meet the acceptance commitment with the most volume.** The playbook's marketing SLA says what share
   of MQLs sales must accept (`min_acceptance_rate`). Propose the *lowest* threshold whose acceptance rate
   reaches it, among thresholds that still yield at least `min_volume` MQLs (tiny samples prove nothing).
   Lower thresholds mean more MQLs, so this is the most volume marketing can hand over while keeping the
   promise to sales.
2. **Otherwise balance volume and quality.** If no threshold reaches the target, propose the one with the
   best F1 for "accepted" (the harmonic mean of acceptance rate and the share of all accepted leads that
   the threshold captures), and say that the target is out of reach with today's scoring rules.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Outcome:
    """One historical contact: its score and what happened to it."""

    score: float
    accepted: bool
    opportunity: bool
    won: bool | None = None


@dataclass(frozen=True)
class ThresholdRow:
    threshold: float
    mql_volume: int
    mql_share: float
    accepted: int
    acceptance_rate: float | None
    opportunity_rate: float | None
    won_rate: float | None
    accepted_captured: float | None  # share of all accepted contacts at or above the threshold (recall)
    f1: float

    def as_dict(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


@dataclass(frozen=True)
class Proposal:
    threshold: float | None
    rule: str
    reason: str
    target_acceptance_rate: float
    current_threshold: float | None
    table: list[ThresholdRow]
    n: int
    base_acceptance_rate: float | None
    basis: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {"proposed_threshold": self.threshold, "rule": self.rule, "reason": self.reason,
                "target_acceptance_rate": self.target_acceptance_rate, "current_threshold": self.current_threshold,
                "n": self.n, "base_acceptance_rate": None if self.base_acceptance_rate is None
                else round(self.base_acceptance_rate, 4), "basis": self.basis, "table": [r.as_dict() for r in self.table]}


def _nice_step(span: float, max_rows: int) -> float:
    raw = span / max(max_rows - 1, 1)
    if raw <= 0:
        return 1.0
    magnitude = 10 ** math.floor(math.log10(raw))
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * magnitude:
            return float(mult * magnitude)
    return float(10 * magnitude)


def candidate_thresholds(scores: Sequence[float], *, max_rows: int = 30) -> list[float]:
    """Round-numbered thresholds from the lowest to the highest score (at most about max_rows of them)."""
    if not scores:
        return []
    lo, hi = float(min(scores)), float(max(scores))
    # A step below the numbers' resolution would never advance; keep it well above it.
    step = max(_nice_step(hi - lo, max_rows), 1e-9 * max(abs(lo), abs(hi), 1.0))
    start = math.floor(lo / step) * step
    count = min(int(math.floor((hi - start) / step + 1e-9)) + 1, max_rows + 2)
    out = sorted({round(start + i * step, 6) for i in range(max(count, 1))})
    out[0] = min(out[0], lo)  # rounding must not lift the lowest candidate above the lowest score
    return out


def _rate(num: int, den: int) -> float | None:
    return num / den if den else None


def trade_off_table(outcomes: Sequence[Outcome], thresholds: Sequence[float]) -> list[ThresholdRow]:
    """For each threshold, what the MQLs at or above it would have yielded."""
    import numpy as np  # here, not at module level: `smarketing --help` and app start-up must not load NumPy

    n = len(outcomes)
    scores = np.asarray([o.score for o in outcomes], dtype=float)
    accepted = np.asarray([o.accepted for o in outcomes], dtype=bool)
    opportunity = np.asarray([o.opportunity for o in outcomes], dtype=bool)
    won_known = all(o.won is not None for o in outcomes)
    won = np.asarray([bool(o.won) for o in outcomes], dtype=bool)
    total_accepted = int(accepted.sum())
    rows = []
    for t in sorted(thresholds):
        mask = scores >= t
        volume = int(mask.sum())
        acc = int((accepted & mask).sum())
        precision = _rate(acc, volume)
        recall = _rate(acc, total_accepted)
        f1 = 2 * precision * recall / (precision + recall) if precision and recall else 0.0
        rows.append(ThresholdRow(
            threshold=float(t), mql_volume=volume, mql_share=volume / n if n else 0.0, accepted=acc,
            acceptance_rate=precision, opportunity_rate=_rate(int((opportunity & mask).sum()), volume),
            won_rate=_rate(int((won & mask).sum()), volume) if won_known else None,
            accepted_captured=recall, f1=f1))
    return rows


def propose_threshold(outcomes: Sequence[Outcome], *, target_acceptance_rate: float,
                      current_threshold: float | None = None, thresholds: Sequence[float] | None = None,
                      min_volume: int | None = None) -> Proposal:
    """The trade-off table and a proposed threshold by the rule in this module's docstring."""
    n = len(outcomes)
    cands = list(thresholds) if thresholds is not None else candidate_thresholds([o.score for o in outcomes])
    if current_threshold is not None and current_threshold not in cands and cands:
        cands = sorted({*cands, float(current_threshold)})
    table = trade_off_table(outcomes, cands)
    base = _rate(sum(o.accepted for o in outcomes), n)
    floor = min_volume if min_volume is not None else max(20, math.ceil(0.01 * n))
    if not table or not n:
        return Proposal(None, "none", "no scored contacts with outcomes yet", target_acceptance_rate,
                        current_threshold, table, n, base)
    meeting = [r for r in table if r.mql_volume >= floor and (r.acceptance_rate or 0) >= target_acceptance_rate]
    if meeting:
        best = meeting[0]
        reason = (f"the lowest threshold whose MQLs sales accepted at {best.acceptance_rate:.0%} (target "
                  f"{target_acceptance_rate:.0%}), giving {best.mql_volume} MQLs of {n} contacts")
        return Proposal(best.threshold, "min_acceptance_rate", reason, target_acceptance_rate, current_threshold,
                        table, n, base)
    usable = [r for r in table if r.mql_volume >= floor] or table
    best = max(usable, key=lambda r: (r.f1, -r.threshold))
    reason = (f"no threshold reaches the {target_acceptance_rate:.0%} acceptance target with at least {floor} MQLs; "
              f"this one balances acceptance ({(best.acceptance_rate or 0):.0%}) against the share of accepted "
              f"leads it captures ({(best.accepted_captured or 0):.0%}), best F1 {best.f1:.2f}")
    return Proposal(best.threshold, "max_f1", reason, target_acceptance_rate, current_threshold, table, n, base)
