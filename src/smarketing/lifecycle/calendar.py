"""Pure business-calendar arithmetic over the playbook's calendar (no ORM).

A business calendar has working weekdays, a working window per day (local wall-clock time in the
calendar's time zone) and holidays. Every instant is timezone-aware; the arithmetic walks local days,
turns each day's window into UTC instants (so a DST change shortens or lengthens nothing but the night)
and adds or measures real elapsed time inside those windows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from smarketing.playbook.schema import BusinessCalendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Why a bound: a misconfigured calendar must fail loudly instead of looping for ever.
MAX_SCAN_DAYS = 3 * 366


class CalendarError(ValueError):
    """The calendar cannot produce a deadline (e.g. every day in range is a holiday)."""


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _aware(instant: datetime, name: str) -> datetime:
    if instant.tzinfo is None:
        raise CalendarError(f"{name} must be timezone-aware")
    return instant


def is_working_day(cal: BusinessCalendar, day: date) -> bool:
    """Whether `day` (a local date) is a working weekday and not a holiday."""
    return WEEKDAYS[day.weekday()] in cal.working_days and day not in cal.holidays


def _local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    # Round-trip through UTC so a wall time skipped by a DST jump lands on a real instant.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def window(cal: BusinessCalendar, day: date) -> tuple[datetime, datetime] | None:
    """The working window of a local date as UTC instants, or None on non-working days."""
    if not is_working_day(cal, day):
        return None
    zone = _zone(cal.timezone)
    return _local_instant(day, cal.day_start, zone), _local_instant(day, cal.day_end, zone)


def _windows_from(cal: BusinessCalendar, start: datetime) -> Iterator[tuple[datetime, datetime]]:
    """Working windows that end after `start`, in order."""
    day = start.astimezone(_zone(cal.timezone)).date()
    for _ in range(MAX_SCAN_DAYS):
        w = window(cal, day)
        if w is not None and w[1] > start:
            yield w
        day += timedelta(days=1)
    raise CalendarError(f"no working time within {MAX_SCAN_DAYS} days of {start.isoformat()}")


def working_day_length(cal: BusinessCalendar) -> timedelta:
    """The nominal length of one working day (day_end - day_start on the wall clock)."""
    start = datetime.combine(date(2000, 1, 1), cal.day_start)
    end = datetime.combine(date(2000, 1, 1), cal.day_end)
    return end - start


def add_business_time(cal: BusinessCalendar, start: datetime, amount: timedelta) -> datetime:
    """The instant when `amount` of working time has passed after `start` (UTC result)."""
    start = _aware(start, "start").astimezone(UTC)
    if amount < timedelta(0):
        raise CalendarError("business time to add must not be negative")
    if amount == timedelta(0):
        return start
    remaining = amount
    for w_start, w_end in _windows_from(cal, start):
        begin = max(start, w_start)
        available = w_end - begin
        if remaining <= available:
            return begin + remaining
        remaining -= available
    raise CalendarError("unreachable")  # pragma: no cover - _windows_from raises first


def add_business_hours(cal: BusinessCalendar, start: datetime, hours: float) -> datetime:
    """`start` plus `hours` working hours, e.g. a first-touch deadline."""
    return add_business_time(cal, start, timedelta(hours=hours))


def add_business_days(cal: BusinessCalendar, start: datetime, days: float) -> datetime:
    """`start` plus `days` working days, where a working day is one full working window.

    From Friday 15:00 two business days is Tuesday 15:00; from Saturday it is Tuesday at day end.
    """
    return add_business_time(cal, start, working_day_length(cal) * days)


def business_time_between(cal: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Working time elapsed from `start` to `end` (negative if end is before start)."""
    start = _aware(start, "start").astimezone(UTC)
    end = _aware(end, "end").astimezone(UTC)
    if end < start:
        return -business_time_between(cal, end, start)
    total = timedelta(0)
    day = start.astimezone(_zone(cal.timezone)).date()
    last = end.astimezone(_zone(cal.timezone)).date()
    while day <= last:
        w = window(cal, day)
        if w is not None:
            lo, hi = max(start, w[0]), min(end, w[1])
            if hi > lo:
                total += hi - lo
        day += timedelta(days=1)
    return total


def business_hours_between(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Working hours elapsed from `start` to `end`."""
    return business_time_between(cal, start, end).total_seconds() / 3600.0
