"""Reverse waterfall (pure): from a revenue goal back to the volume each stage must produce.

Used by the Goals page and the scoreboard targets until the analytics `goals` query kind serves them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class PlanRow:
    stage: str
    required: float
    rate_to_next: float | None


def reverse_waterfall(*, revenue: float, avg_deal: float, stages: Sequence[str],
                      rates: Mapping[str, float]) -> list[PlanRow]:
    """Required volume per stage: customers = revenue / deal size, each earlier stage = next / its rate.

    `rates[s]` is the conversion from stage s to the stage after it; a missing or zero rate leaves the
    earlier stages unknown (None is not used: the planner shows 0 and the page says which rate is missing).
    """
    if avg_deal <= 0:
        raise ValueError("average deal size must be positive")
    required: dict[str, float] = {stages[-1]: revenue / avg_deal}
    for i in range(len(stages) - 2, -1, -1):
        s = stages[i]
        rate = rates.get(s) or 0.0
        required[s] = required[stages[i + 1]] / rate if rate > 0 else 0.0
    return [PlanRow(stage=s, required=required[s], rate_to_next=rates.get(s) if i < len(stages) - 1 else None)
            for i, s in enumerate(stages)]
