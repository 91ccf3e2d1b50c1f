"""The plausible windows for dates entering the product, and the wider window analytics can represent.

Activity (touchpoints, stage changes, opportunities, feedback, campaigns) happens from 1970-01-01 to one year
after now: anything else is a typo or a unit mistake (an epoch in seconds read as a date) and is refused at the
edge — the API schemas and the CSV importers — with an error naming the field. Analytics never trusts stored
rows: a row dated outside `ANALYTICS_MIN`..`ANALYTICS_MAX` (or with a non-finite number) is skipped and counted.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BeforeValidator

from smarketing.core import clock

ACTIVITY_MIN = datetime(1970, 1, 1, tzinfo=UTC)
ACTIVITY_AHEAD = timedelta(days=365)
# Why: pandas and the engines hold timestamps in nanoseconds (1677–2262); a margin keeps date arithmetic safe.
ANALYTICS_MIN = datetime(1900, 1, 1, tzinfo=UTC)
ANALYTICS_MAX = datetime(2200, 1, 1, tzinfo=UTC)


def activity_max() -> datetime:
    return clock.now() + ACTIVITY_AHEAD


def activity_window_problem(value: datetime | date) -> str | None:
    """Why `value` is outside the activity window (1970-01-01 to one year after now), or None when inside."""
    at = value if isinstance(value, datetime) else datetime(value.year, value.month, value.day, tzinfo=UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    latest = activity_max()
    if at < ACTIVITY_MIN or at > latest:
        return (f"{value.isoformat()} is outside the plausible window "
                f"{ACTIVITY_MIN.date().isoformat()} to {latest.date().isoformat()} (one year after now)")
    return None


def check_activity_datetime(value: datetime) -> datetime:
    problem = activity_window_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_activity_date(value: date) -> date:
    problem = activity_window_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def _not_a_number(value: Any) -> Any:
    # Why: pydantic reads 1700000000 as seconds since 1970; a client sending a number meant something else.
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise ValueError("must be an ISO 8601 date-time string with a time zone, not a number")
    return value


def _not_a_number_date(value: Any) -> Any:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise ValueError("must be an ISO 8601 date string (YYYY-MM-DD), not a number")
    return value


ActivityDatetime = Annotated[AwareDatetime, BeforeValidator(_not_a_number), AfterValidator(check_activity_datetime)]
ActivityDate = Annotated[date, BeforeValidator(_not_a_number_date), AfterValidator(check_activity_date)]


def is_finite_number(value: Any) -> bool:
    """True for None-free finite ints, floats and decimals."""
    if isinstance(value, Decimal):
        return value.is_finite()
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, int)
