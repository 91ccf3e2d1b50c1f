"""Plain-text formats shared by the CLI and the admin: numbers, percentages, money, days, business hours, moments.

Rates (0–1) and figures already in percent (ROI) both print with a `%`; a missing value prints as a dash.
"""

from __future__ import annotations

from datetime import UTC, datetime

NONE = "—"


def number(value: float | int | None, digits: int = 1) -> str:
    """A count with thousands separators, or a float with `digits` decimals; a dash for none."""
    if value is None:
        return NONE
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{digits}f}"


def percent(rate: float | None, digits: int = 0) -> str:
    """A 0–1 rate as a percentage with a `%`, or a dash when there is none."""
    return NONE if rate is None else f"{rate * 100:,.{digits}f}%"


def percent_value(value: float | None, digits: int = 1) -> str:
    """A figure already in percent (ROI) with a `%`."""
    return NONE if value is None else f"{value:,.{digits}f}%"


def money(value: float | None, digits: int = 0) -> str:
    """An amount in the account currency with thousands separators."""
    return NONE if value is None else f"{value:,.{digits}f}"


def days(value: float | None) -> str:
    """A duration in days, one decimal."""
    return NONE if value is None else f"{value:,.1f}"


def business_hours(hours: float) -> str:
    """A span of business hours, always positive: callers say whether it is left or overdue."""
    return f"{abs(hours):,.1f} bh"


def when(value: datetime | str | None) -> str:
    """A moment as `YYYY-MM-DD HH:MM UTC` (from a datetime or its ISO text), or a dash."""
    if value is None or value == "":
        return NONE
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%d %H:%M} UTC"
