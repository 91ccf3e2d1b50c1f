"""What a draft playbook would have done to the history, next to what the active one did (pure; no ORM).

Both sides are read from the same trade-off table (`scoring.threshold.trade_off_table`): each contact scored as it
stood when its outcome was decided, once under the active terms and once under the draft's, and counted as an MQL
at or above that side's `scoring.mql_threshold`. Rates are shares of those MQLs; volumes are spread over the
months the recorded history spans, so "MQLs per month" reads against the marketing SLA's volume commitment.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from smarketing.scoring.threshold import Outcome, trade_off_table

DAYS_PER_MONTH = 365.25 / 12
DAYS_PER_PERIOD = {"week": 7.0, "month": DAYS_PER_MONTH, "quarter": 365.25 / 4}


@dataclass(frozen=True)
class ImpactSide:
    """One version's terms applied to the history."""

    version: int | None
    status: str
    threshold: float
    mqls: int
    mqls_per_month: float | None
    acceptance_rate: float | None
    opportunity_rate: float | None
    won_rate: float | None


@dataclass(frozen=True)
class Commitment:
    """The draft's marketing SLA against what its terms would have produced."""

    period: str
    mql_volume: int
    expected_volume: float | None
    meets_volume: bool | None
    min_acceptance_rate: float
    meets_acceptance: bool | None


@dataclass(frozen=True)
class Impact:
    active: ImpactSide
    draft: ImpactSide
    contacts: int
    months: float | None
    history_from: str | None
    history_to: str | None
    scoring_changed: bool
    commitment: Commitment
    basis: str

    def delta(self, field: str) -> float | None:
        """Draft minus active for one figure (None when either is unknown)."""
        a, d = getattr(self.active, field), getattr(self.draft, field)
        return None if a is None or d is None else d - a

    def as_dict(self) -> dict[str, Any]:
        def rounded(v: Any) -> Any:
            if isinstance(v, float):
                return round(v, 4)
            if isinstance(v, dict):
                return {k: rounded(x) for k, x in v.items()}
            return v

        out = rounded(asdict(self))
        out["delta"] = {f: rounded(self.delta(f)) for f in ("mqls", "mqls_per_month", "acceptance_rate",
                                                            "opportunity_rate", "won_rate")}
        return dict(out)


def history_months(days: float | None) -> float | None:
    """How many months a span of days is (None for no history); a span under a month counts as one month."""
    if days is None:
        return None
    return max(days / DAYS_PER_MONTH, 1.0)


def impact_side(outcomes: Sequence[Outcome], *, threshold: float, months: float | None, version: int | None,
                status: str) -> ImpactSide:
    """One side's figures from its outcomes at its threshold."""
    [row] = trade_off_table(outcomes, [threshold])
    return ImpactSide(version=version, status=status, threshold=threshold, mqls=row.mql_volume,
                      mqls_per_month=row.mql_volume / months if months else None,
                      acceptance_rate=row.acceptance_rate, opportunity_rate=row.opportunity_rate,
                      won_rate=row.won_rate)


def commitment_check(draft: ImpactSide, *, period: str, mql_volume: int, min_acceptance_rate: float) -> Commitment:
    """Whether the draft's MQLs would have met its own marketing SLA (volume per period and acceptance)."""
    expected = (draft.mqls_per_month * DAYS_PER_PERIOD[period] / DAYS_PER_MONTH
                if draft.mqls_per_month is not None else None)
    return Commitment(period=period, mql_volume=mql_volume, expected_volume=expected,
                      meets_volume=None if expected is None else expected >= mql_volume,
                      min_acceptance_rate=min_acceptance_rate,
                      meets_acceptance=None if draft.acceptance_rate is None
                      else draft.acceptance_rate >= min_acceptance_rate)
