"""The cell parsers of ingest.values: each vendor's way of writing dates, numbers, booleans, durations and lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from smarketing.ingest.values import (
    AmbiguousDateFormat,
    ValueProblem,
    detect_date_format,
    parse_bool,
    parse_datetime,
    parse_duration,
    parse_name_email,
    parse_number,
    split_multi,
)

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


@pytest.mark.parametrize(("text", "tz", "date_format", "expected"), [
    # HubSpot: no seconds, portal time zone (Paris is UTC+1 in February, UTC+2 in August)
    ("2026-02-07 11:17", PARIS, None, datetime(2026, 2, 7, 10, 17, tzinfo=UTC)),
    ("2026-08-07 11:17", PARIS, None, datetime(2026, 8, 7, 9, 17, tzinfo=UTC)),
    ("2026-02-07 11:17:05", NEW_YORK, None, datetime(2026, 2, 7, 16, 17, 5, tzinfo=UTC)),
    ("2026-02-07", PARIS, None, datetime(2026, 2, 6, 23, 0, tzinfo=UTC)),
    # ISO with an offset or Z: the zone given in the text wins over the portal's
    ("2026-02-07T11:17:00Z", PARIS, None, datetime(2026, 2, 7, 11, 17, tzinfo=UTC)),
    ("2026-02-07T11:17:00+02:00", PARIS, None, datetime(2026, 2, 7, 9, 17, tzinfo=UTC)),
    ("2026-02-07T11:17:00-0500", PARIS, None, datetime(2026, 2, 7, 16, 17, tzinfo=UTC)),
    # Data Loader: milliseconds and Z
    ("2026-02-07T11:17:00.000Z", NEW_YORK, None, datetime(2026, 2, 7, 11, 17, tzinfo=UTC)),
    ("2026-02-07T11:17:00.250Z", NEW_YORK, None, datetime(2026, 2, 7, 11, 17, 0, 250000, tzinfo=UTC)),
    # Salesforce locale dates
    ("08/12/2026", NEW_YORK, "mdy", datetime(2026, 8, 12, 4, 0, tzinfo=UTC)),
    ("08/12/2026", NEW_YORK, "dmy", datetime(2026, 12, 8, 5, 0, tzinfo=UTC)),
    ("8/12/2026 3:04 PM", NEW_YORK, "mdy", datetime(2026, 8, 12, 19, 4, tzinfo=UTC)),
    ("8/12/2026 12:04 AM", NEW_YORK, "mdy", datetime(2026, 8, 12, 4, 4, tzinfo=UTC)),
    ("8/12/2026 12:04 PM", NEW_YORK, "mdy", datetime(2026, 8, 12, 16, 4, tzinfo=UTC)),
    ("12/08/2026 15:04", PARIS, "dmy", datetime(2026, 8, 12, 13, 4, tzinfo=UTC)),
    ("12.08.2026 15:04:30", PARIS, "dmy", datetime(2026, 8, 12, 13, 4, 30, tzinfo=UTC)),
    # a part above 12 settles the order without a format
    ("13/08/2026", UTC, None, datetime(2026, 8, 13, tzinfo=UTC)),
    ("8/13/2026 9:30 am", UTC, None, datetime(2026, 8, 13, 9, 30, tzinfo=UTC)),
    ("5/5/2026", UTC, None, datetime(2026, 5, 5, tzinfo=UTC)),
    # ISO is ISO whatever the locale
    ("2026-02-07", UTC, "dmy", datetime(2026, 2, 7, tzinfo=UTC)),
])
def test_parse_datetime_reads_each_vendor_layout_as_utc(text, tz, date_format, expected):
    got = parse_datetime(text, tz=tz, date_format=date_format)

    assert got == expected
    assert got is not None and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["", "   "])
def test_parse_datetime_empty_is_none(text):
    assert parse_datetime(text, tz=UTC) is None


@pytest.mark.parametrize(("text", "words"), [
    ("08/12/2026", "month/day and as day/month"),
    ("2026-02-30", "not a calendar date"),
    ("13/13/2026", "not a calendar date"),
    ("2026-02-07 25:00", "not a time of day"),
    ("8/13/2026 13:04 PM", "AM/PM"),
    ("08/12/26", "four digits"),
    ("0001-01-01", "outside 1900"),
    ("yesterday", "not a date"),
    ("2026-02-07T11:17:00+25:00", "not a UTC offset"),
])
def test_parse_datetime_refuses_what_it_cannot_read_with_a_reason(text, words):
    with pytest.raises(ValueProblem) as caught:
        parse_datetime(text, tz=UTC)

    assert words in caught.value.message
    assert repr(text) in caught.value.message or text in caught.value.message


def test_parse_datetime_names_an_unknown_format():
    with pytest.raises(ValueProblem, match="unknown date format 'ydm'"):
        parse_datetime("08/12/2026", tz=UTC, date_format="ydm")


def test_ambiguous_value_is_a_value_problem_a_caller_can_catch_as_valueerror():
    with pytest.raises(ValueError):
        parse_datetime("08/12/2026", tz=UTC)


@pytest.mark.parametrize(("samples", "expected"), [
    (["08/12/2026", "08/13/2026", ""], "mdy"),
    (["08/12/2026 3:04 PM", "12/31/2026 9:00 AM"], "mdy"),
    (["08/12/2026", "13/08/2026"], "dmy"),
    (["13.08.2026 15:04", "01.02.2026"], "dmy"),
    (["2026-02-07 11:17", "2026-02-08"], "ymd"),
    (["", "  "], None),
    ([], None),
    (["5/5/2026", "7/7/2026"], None),  # equal day and month read the same both ways
    (["2026-02-07", "8/13/2026"], "mdy"),
    (["not a date", "8/13/2026"], "mdy"),
])
def test_detect_date_format_decides_from_a_day_above_12(samples, expected):
    assert detect_date_format(samples) == expected


def test_detect_date_format_refuses_a_column_that_reads_both_ways():
    with pytest.raises(AmbiguousDateFormat) as caught:
        detect_date_format(["08/12/2026", "03/04/2026", ""])

    assert "'08/12/2026'" in caught.value.message
    assert "mdy or dmy" in caught.value.message
    assert caught.value.examples == ["08/12/2026", "03/04/2026"]


def test_detect_date_format_refuses_a_column_that_mixes_orders():
    with pytest.raises(AmbiguousDateFormat) as caught:
        detect_date_format(["08/13/2026", "13/08/2026"])

    assert "'08/13/2026'" in caught.value.message and "'13/08/2026'" in caught.value.message


def test_detect_date_format_reads_a_generator_once():
    assert detect_date_format(f"{m}/20/2026" for m in range(1, 13)) == "mdy"


@pytest.mark.parametrize(("text", "expected"), [
    ("0.0", Decimal("0.0")),
    ("0", Decimal(0)),
    ("-12.5", Decimal("-12.5")),
    ("1234.56", Decimal("1234.56")),
    ("1,234.56", Decimal("1234.56")),
    ("1,234,567", Decimal(1234567)),
    (".5", Decimal("0.5")),
    ("1.5E+06", Decimal(1500000)),
    ("$1,200.00", Decimal("1200.00")),
    ("-$5", Decimal(-5)),
    ("€ 99.9", Decimal("99.9")),
    ("10%", Decimal(10)),
    (" 42 ", Decimal(42)),
    ("999999999999999", Decimal("999999999999999")),
])
def test_parse_number_accepts_point_decimals_and_thousands_commas(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("1.234,56", "decimal comma"),
    ("12,5", "decimal comma"),
    ("1,23", "decimal comma"),
    ("12,34,567", "not a number"),
    ("inf", "not a number"),
    ("-Infinity", "not a number"),
    ("nan", "not a number"),
    ("NaN", "not a number"),
    ("1e30", "out of range"),
    ("12345678901234567890123", "out of range"),
    ("1000000000000000", "out of range"),
    ("abc", "not a number"),
    ("1 234", "not a number"),
    ("--1", "not a number"),
    ("$", "not a number"),
    ("1e", "not a number"),
])
def test_parse_number_refuses_ambiguous_or_unbounded_values(text, words):
    with pytest.raises(ValueProblem, match=words):
        parse_number(text)


def test_parse_number_empty_is_none():
    assert parse_number("") is None
    assert parse_number("  ") is None


@pytest.mark.parametrize(("text", "expected"), [
    ("true", True), ("false", False), ("TRUE", True), ("Yes", True), ("No", False), ("1", True), ("0", False),
    ("y", True), ("N", False), (" false ", False), ("", None),
])
def test_parse_bool(text, expected):
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["maybe", "2", "1.0", "oui"])
def test_parse_bool_refuses_other_words(text):
    with pytest.raises(ValueProblem, match="not yes or no"):
        parse_bool(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("142:46:08", timedelta(hours=142, minutes=46, seconds=8)),
    ("00:00:59", timedelta(seconds=59)),
    ("0:05:00", timedelta(minutes=5)),
    ("1:00:00.5", timedelta(hours=1, microseconds=500000)),
    ("", None),
])
def test_parse_duration_reads_hours_minutes_seconds(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(("text", "words"), [
    ("142:60:08", "below 60"),
    ("1:00:61", "below 60"),
    ("46:08", "not a duration"),
    ("-1:00:00", "not a duration"),
    ("2 days", "not a duration"),
    ("99999999:00:00", "hours"),
])
def test_parse_duration_refuses(text, words):
    with pytest.raises(ValueProblem, match=words):
        parse_duration(text)


@pytest.mark.parametrize(("text", "sep", "expected"), [
    ("a;b;c", ";", ["a", "b", "c"]),
    (" a ; b ;; ", ";", ["a", "b"]),
    ("", ";", []),
    ("101;102", ";", ["101", "102"]),
    ("x|y", "|", ["x", "y"]),
    ("only", ";", ["only"]),
])
def test_split_multi(text, sep, expected):
    assert split_multi(text, sep) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Ann Lee (ann@x.com)", ("Ann Lee", "ann@x.com")),
    ("  Ann Lee  (ann@x.com) ", ("Ann Lee", "ann@x.com")),
    ("Ann (Sales) Lee (ann.lee+crm@x.co.uk)", ("Ann (Sales) Lee", "ann.lee+crm@x.co.uk")),
    ("(ann@x.com)", ("", "ann@x.com")),
    ("ann@x.com", ("", "ann@x.com")),
    ("Ann Lee", ("Ann Lee", "")),
])
def test_parse_name_email(text, expected):
    assert parse_name_email(text) == expected


@pytest.mark.parametrize("text", ["Ann Lee (not an email)", "Ann Lee (ann@x)", "", "Ann @ home"])
def test_parse_name_email_refuses(text):
    with pytest.raises(ValueProblem):
        parse_name_email(text)


def test_hubspot_associated_contacts_split_then_parse():
    cell = "Ann Lee (ann@x.com);Bob Stone (bob@y.org)"

    assert [parse_name_email(part) for part in split_multi(cell)] == [
        ("Ann Lee", "ann@x.com"), ("Bob Stone", "bob@y.org")]
