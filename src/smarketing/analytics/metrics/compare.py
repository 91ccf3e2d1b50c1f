"""Comparison with the previous period: one definition of "previous" and of a change, for the API, CLI and pages.

The previous period is `ReportingPeriod.previous()` (the previous quarter of a quarter, month of a month, year of
a year; for a custom range or a rolling window the same length immediately before). A change is the same measure
computed for both periods: the difference, the relative difference, its direction in words and whether it is good
news by the measure's `better` (a fall in lost deals is good, a fall in revenue bad, a change in spend neither).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from smarketing.analytics.metrics.definitions import Better
from smarketing.analytics.metrics.periods import ReportingPeriod
from smarketing.analytics.registry import QueryResult
from smarketing.core.errors import ValidationFailed

COMPARE_CHOICES = ("prev",)
COMPARE_HELP = "prev: also compute every measure for the previous period (same length, just before) and the change"
Direction = Literal["up", "down", "same"]


class Change(QueryResult):
    """A measure's value in the previous period and how the current value differs from it."""

    previous: float | None = Field(description="The same measure for the previous period (None: nothing to measure)")
    delta: float | None = Field(description="value − previous, in the measure's unit (None when either is None)")
    delta_percent: float | None = Field(description="100 × delta / |previous| (None when previous is 0 or None)")
    direction: Direction | None = Field(description="up, down or same (None when either value is None)")
    good: bool | None = Field(default=None, description="true: good news by the measure's direction (up where "
                              "higher is better, down where lower is); false: bad news; null: no change, no "
                              "comparison or a neutral measure")


def is_good(direction: Direction | None, better: Better) -> bool | None:
    """Whether a change in `direction` is good news for a measure where `better` is good (pure)."""
    if direction in (None, "same") or better == "neutral":
        return None
    return (direction == "up") == (better == "higher")


def change(value: float | None, previous: float | None, better: Better = "higher") -> Change:
    """How `value` differs from `previous`, judged by which way is `better` (pure)."""
    if value is None or previous is None:
        return Change(previous=previous, delta=None, delta_percent=None, direction=None)
    delta = value - previous
    pct = 100 * delta / abs(previous) if previous else None
    direction: Direction = "same" if abs(delta) < 1e-12 else ("up" if delta > 0 else "down")
    return Change(previous=previous, delta=delta, delta_percent=pct, direction=direction,
                  good=is_good(direction, better))


def check_compare(value: str | None) -> str | None:
    """The comparison asked for (None: none); anything but `prev` names the `compare` field."""
    if value in (None, ""):
        return None
    if value not in COMPARE_CHOICES:
        raise ValidationFailed(f"compare {value!r} is not understood; use {' or '.join(COMPARE_CHOICES)}",
                               field="compare")
    return value


def previous_period(period: ReportingPeriod) -> ReportingPeriod:
    """The period a comparison reads: the one just before, which must have a key so its figures link to records."""
    before = period.previous()
    if not before.key:
        raise ValidationFailed(f"period {period.key!r} has no previous period with a name to compare with; pick a "
                               "calendar period, a range or last-Nd", field="compare")
    return before
