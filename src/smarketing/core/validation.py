"""The plausible windows for dates entering the product, and the wider window analytics can represent.

Activity (touchpoints, stage changes, opportunities, feedback, campaigns) happens from 1970-01-01 to one year
after now: anything else is a typo or a unit mistake (an epoch in seconds read as a date) and is refused at the
edge — the API schemas and the CSV importers — with an error naming the field. Analytics never trusts stored
rows: a row dated outside `ANALYTICS_MIN`..`ANALYTICS_MAX` (or with a non-finite number) is skipped and counted.
"""

from __future__ import annotations

import math
import re
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


# ------------------------------------------------------------------------------------------------ text at the edge

# Why a bound: no field of the product holds more (a feedback note, a brief); a 2 MB string is an attack or a bug.
TEXT_MAX_CHARS = 100_000
# C0 controls but tab, line feed and carriage return; DEL; and lone UTF-16 surrogates (valid JSON escapes that
# no database can store): PostgreSQL refuses a NUL in text and jsonb, and the rest only hide what a value says.
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def text_problem(value: str) -> str | None:
    """Why a text value entering the product is refused (too long, or a control character), or None."""
    if len(value) > TEXT_MAX_CHARS:
        return f"is {len(value):,} characters long; text is at most {TEXT_MAX_CHARS:,}"
    bad = _BAD_CHAR.search(value)
    if bad is not None:
        char = bad.group()
        name = "a NUL byte" if char == "\x00" else (
            f"a lone surrogate (U+{ord(char):04X})" if "\ud800" <= char <= "\udfff" else
            f"the control character U+{ord(char):04X}")
        return (f"contains {name} at character {bad.start() + 1}; text may hold tabs and line breaks but no other "
                "control characters")
    return None


def hostile_value(data: Any, path: str = "") -> tuple[str, str] | None:
    """The first text (a value or a key, at any depth) that `text_problem` refuses, as (field path, problem)."""
    if isinstance(data, str):
        problem = text_problem(data)
        return (path or "(body)", problem) if problem else None
    if isinstance(data, dict):
        for key, value in data.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (problem := text_problem(key)):
                return (path or "(body)", f"a key {problem}")
            if (found := hostile_value(value, where)) is not None:
                return found
    elif isinstance(data, (list, tuple)):
        for index, value in enumerate(data):
            if (found := hostile_value(value, f"{path}.{index}" if path else str(index))) is not None:
                return found
    return None


def hostile_value_refuse(data: Any, *, source: str) -> None:
    """Raise a ValidationFailed naming the field when any text in request data (`source`: body or query) is refused."""
    from smarketing.core.errors import ValidationFailed

    found = hostile_value(data)
    if found is not None:
        field, problem = found
        message = f"{field}: {problem}"
        raise ValidationFailed(message, field=field, record=f"request {source}",
                               details=[{"field": field, "message": problem}])


def _known_time_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"unknown time zone {value!r}; use an IANA name like America/New_York") from exc
    return value


# An IANA time zone name in a schema (the playbook's calendar, an import mapping), refused by field when unknown.
TimeZoneName = Annotated[str, AfterValidator(_known_time_zone)]
