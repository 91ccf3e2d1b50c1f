"""Business-hour deadlines on the playbook's calendar: weekends, holidays, time zones and DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarketing.lifecycle import calendar
from smarketing.playbook.schema import BusinessCalendar

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
US = BusinessCalendar(timezone="America/New_York", day_start=time(9), day_end=time(17),
                      holidays=[date(2026, 11, 26), date(2026, 12, 25)])


def ny(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=NY)


@pytest.mark.parametrize(("start", "hours", "expected"), [
    (ny(2026, 11, 24, 10), 4, ny(2026, 11, 24, 14)),  # inside one day
    (ny(2026, 11, 24, 15), 4, ny(2026, 11, 25, 11)),  # spills into the next morning
    (ny(2026, 11, 25, 15), 4, ny(2026, 11, 27, 11)),  # Thanksgiving (a holiday) is skipped
    (ny(2026, 11, 20, 16), 4, ny(2026, 11, 23, 12)),  # Friday afternoon → Monday
    (ny(2026, 11, 21, 10), 4, ny(2026, 11, 23, 13)),  # Saturday: the clock starts Monday 9:00
    (ny(2026, 11, 23, 7), 1, ny(2026, 11, 23, 10)),  # before opening
    (ny(2026, 11, 23, 18), 1, ny(2026, 11, 24, 10)),  # after closing
    (ny(2026, 11, 24, 13), 4, ny(2026, 11, 24, 17)),  # lands exactly on closing time
    (ny(2026, 12, 24, 16), 2, ny(2026, 12, 28, 10)),  # Christmas Friday and the weekend
])
def test_add_business_hours_skips_nights_weekends_and_holidays(start, hours, expected):
    # given the US calendar, when adding business hours, then the deadline skips non-working time
    assert calendar.add_business_hours(US, start, hours) == expected


def test_deadline_across_the_autumn_dst_change_counts_real_working_hours():
    # given Friday 16:00 EDT before DST ends on Sunday 1 Nov 2026
    start = ny(2026, 10, 30, 16)
    # when adding 4 business hours
    deadline = calendar.add_business_hours(US, start, 4)
    # then it is Monday 12:00 EST, 3 working hours after Monday's 9:00 opening (UTC offsets differ)
    assert deadline == ny(2026, 11, 2, 12)
    assert start.utcoffset() == timedelta(hours=-4)
    assert deadline.astimezone(NY).utcoffset() == timedelta(hours=-5)
    assert deadline.astimezone(UTC) == datetime(2026, 11, 2, 17, tzinfo=UTC)


def test_deadline_across_the_spring_dst_change():
    # given Friday 16:00 EST before DST starts on Sunday 8 March 2026
    deadline = calendar.add_business_hours(US, ny(2026, 3, 6, 16), 2)
    # then Monday 10:00 local (EDT), which is 14:00 UTC
    assert deadline.astimezone(UTC) == datetime(2026, 3, 9, 14, tzinfo=UTC)


def test_the_same_instant_in_any_input_time_zone_gives_the_same_deadline():
    cal = BusinessCalendar(timezone="Europe/Berlin")
    in_utc = datetime(2026, 6, 1, 8, tzinfo=UTC)  # Monday 10:00 CEST
    in_ny = in_utc.astimezone(NY)  # Monday 04:00 in New York
    assert calendar.add_business_hours(cal, in_utc, 8) == calendar.add_business_hours(cal, in_ny, 8)
    assert calendar.add_business_hours(cal, in_utc, 8) == datetime(2026, 6, 2, 10, tzinfo=BERLIN)


def test_the_calendar_time_zone_decides_what_business_hours_are():
    # given the same UTC instant, Monday 20:00 UTC
    start = datetime(2026, 6, 1, 20, tzinfo=UTC)
    # then for New York (16:00 local) an hour is left today; for Berlin (22:00) the clock waits for Tuesday
    assert calendar.add_business_hours(US, start, 2) == ny(2026, 6, 2, 10)
    berlin = BusinessCalendar(timezone="Europe/Berlin")
    assert calendar.add_business_hours(berlin, start, 2) == datetime(2026, 6, 2, 11, tzinfo=BERLIN)


@pytest.mark.parametrize(("start", "days", "expected"), [
    (ny(2026, 11, 20, 15), 2, ny(2026, 11, 24, 15)),  # Friday → Tuesday, same time of day
    (ny(2026, 11, 25, 10), 2, ny(2026, 11, 30, 10)),  # over Thanksgiving and the weekend
    (ny(2026, 11, 21, 12), 2, ny(2026, 11, 24, 17)),  # from Saturday: two full days from Monday 9:00
    (ny(2026, 11, 23, 9), 0.5, ny(2026, 11, 23, 13)),  # half a day
])
def test_add_business_days(start, days, expected):
    assert calendar.add_business_days(US, start, days) == expected


def test_business_time_between_counts_only_working_windows():
    # Friday 16:00 → Monday 10:00 is 1 h Friday + 1 h Monday
    assert calendar.business_hours_between(US, ny(2026, 11, 20, 16), ny(2026, 11, 23, 10)) == 2
    # and reversed it is negative
    assert calendar.business_hours_between(US, ny(2026, 11, 23, 10), ny(2026, 11, 20, 16)) == -2
    # a whole holiday week-end counts nothing
    assert calendar.business_hours_between(US, ny(2026, 11, 26, 0), ny(2026, 11, 27, 0)) == 0


@settings(max_examples=150, deadline=None)
@given(start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)),
       minutes=st.integers(min_value=1, max_value=60 * 80))
def test_adding_then_measuring_gives_back_the_same_business_time(start, minutes):
    deadline = calendar.add_business_time(US, start, timedelta(minutes=minutes))
    assert calendar.business_time_between(US, start, deadline) == timedelta(minutes=minutes)
    local = deadline.astimezone(NY)
    assert calendar.is_working_day(US, local.date()) and time(9) < local.time() <= time(17)


def test_naive_times_are_refused():
    with pytest.raises(calendar.CalendarError):
        calendar.add_business_hours(US, datetime(2026, 11, 24, 10), 4)


def test_a_calendar_without_working_time_fails_instead_of_looping():
    every_day = [date(2026, 1, 1) + timedelta(days=i) for i in range(4 * 366)]
    cal = BusinessCalendar(timezone="UTC", holidays=every_day)
    with pytest.raises(calendar.CalendarError):
        calendar.add_business_hours(cal, datetime(2026, 1, 1, tzinfo=UTC), 1)
