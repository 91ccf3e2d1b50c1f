"""Pure rules of the insights inbox: which themes become insights and which status changes are allowed."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from smarketing.feedback.enums import InsightStatus

# new -> acknowledged -> acted_on -> closed; an insight may also be closed early with a reason (dismissed).
TRANSITIONS: dict[str, frozenset[str]] = {
    InsightStatus.NEW: frozenset({InsightStatus.ACKNOWLEDGED, InsightStatus.CLOSED}),
    InsightStatus.ACKNOWLEDGED: frozenset({InsightStatus.ACTED_ON, InsightStatus.CLOSED}),
    InsightStatus.ACTED_ON: frozenset({InsightStatus.CLOSED}),
    InsightStatus.CLOSED: frozenset(),
}


@dataclass(frozen=True)
class Threshold:
    """A theme becomes an insight when its volume, or its revenue at stake, reaches these (0 = not used)."""

    min_volume: int = 10
    min_revenue: Decimal = Decimal("0")
    require_both: bool = False

    def reasons(self, *, volume: int, revenue: Decimal) -> list[str]:
        """Why a theme with these figures crosses the threshold; empty when it does not."""
        checks = []
        if self.min_volume:
            checks.append((volume >= self.min_volume, f"{volume} items ≥ {self.min_volume}"))
        if self.min_revenue:
            checks.append((revenue >= self.min_revenue, f"revenue at stake {revenue:,.0f} ≥ {self.min_revenue:,.0f}"))
        if not checks:
            return []
        passed = [text for ok, text in checks if ok]
        if self.require_both:
            return passed if len(passed) == len(checks) else []
        return passed


def transition_error(*, current: str, target: str, note: str, has_response: bool) -> str | None:
    """None when current -> target is allowed with this note/response; otherwise the reason it is not."""
    if target not in TRANSITIONS:
        return f"status {target!r} is not one of {list(TRANSITIONS)}"
    allowed = TRANSITIONS.get(current, frozenset())
    if target not in allowed:
        options = ", ".join(sorted(allowed)) or "none (it is closed)"
        return f"an insight that is {current} cannot become {target}; next allowed: {options}"
    if target == InsightStatus.ACTED_ON and not has_response:
        return "acting on an insight needs the campaign or the message change made in response"
    if target == InsightStatus.CLOSED and current != InsightStatus.ACTED_ON and not note.strip():
        return "closing an insight nobody acted on needs a note saying why"
    return None
