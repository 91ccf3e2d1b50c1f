"""Scores of a theme grouping against known labels: purity and adjusted Rand index (pure functions)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sklearn.metrics import adjusted_rand_score


@dataclass(frozen=True)
class Quality:
    items: int
    themes_true: int
    themes_found: int
    purity: float
    ari: float


def purity(found: Sequence[int], truth: Sequence[str]) -> float:
    """Share of items that carry the majority true label of their found group (unthemed items count as wrong)."""
    groups: dict[int, list[str]] = {}
    for label, true in zip(found, truth, strict=True):
        groups.setdefault(label, []).append(true)
    right = sum(Counter(v).most_common(1)[0][1] for k, v in groups.items() if k >= 0)
    return right / len(truth) if truth else 0.0


def score(found: Sequence[int], truth: Sequence[str]) -> Quality:
    return Quality(items=len(truth), themes_true=len(set(truth)), themes_found=len({f for f in found if f >= 0}),
                   purity=round(purity(found, truth), 3), ari=round(float(adjusted_rand_score(truth, found)), 3))
