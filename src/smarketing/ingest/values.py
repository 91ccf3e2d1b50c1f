"""Pure parsers for the cell values of CRM exports; each returns None for an empty cell and raises ValueProblem
(a ValueError whose message speaks to the user) for a value it cannot read. The caller adds file, line and column.

Dates and times (`parse_datetime`, `detect_date_format`)
- ISO 8601 as HubSpot and Data Loader write it: `2026-02-07`, `2026-02-07 11:17` (no seconds), `2026-02-07 11:17:05`,
  `2026-02-07T11:17:00.000Z`, `2026-02-07T11:17:00+02:00`; also `2026/02/07`.
- Locale dates as Salesforce reports write them, month-day-year or day-month-year by the exporting user's locale:
  `08/12/2026`, `8/12/2026 3:04 PM`, `8/12/2026 15:04`, `08.12.2026 15:04:05` (separators `/`, `.` or `-`;
  four-digit years only, since `08/12/26` adds a third ambiguity). Which of mdy / dmy is given by `date_format`;
  without one, a value that can only be read one way (a part above 12) is read that way and any other is refused.
  `detect_date_format` decides for a whole column: a day above 12 in either place settles it; a column whose every
  date reads both ways raises AmbiguousDateFormat (the user gives --date-format), one that reads both ways in
  different rows raises it too.
- A value without a UTC offset is local time in `tz` (HubSpot's portal time zone, the Salesforce user's time zone);
  every result is UTC-aware. Years outside 1900–2199 are refused (a `0001-01-01` placeholder is not a date).

Numbers (`parse_number`)
- `0`, `0.0`, `-12.5`, `1234.56`, `1,234.56` (`,` only as a thousands separator in groups of three), `1.5E+06`;
  a leading currency sign (`$`, `€`, `£`) and a trailing `%` are dropped (`10%` reads 10, the unit of a
  `Probability (%)` column).
- Refused: a decimal comma (`1.234,56`, `12,5`: with `1,234` meaning 1234 in the same files, a guess would be wrong
  one time in two; export with a `.` decimal), `inf`, `nan`, and any magnitude of MAX_NUMBER or more (`1e30`, a
  23-digit number): no amount, count or score in a CRM export is that large, and such a value is a corrupt cell.

Others: `parse_bool` (true/false, yes/no, y/n, 1/0, any case), `parse_duration` (HubSpot's `142:46:08` hours:
minutes:seconds, optional fractions of a second), `split_multi` (`a;b; c` → ["a", "b", "c"]), `parse_name_email`
(`Ann Lee (ann@x.com)` → ("Ann Lee", "ann@x.com"), as HubSpot's `Associated Contact` writes each contact).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

DATE_FORMATS = ("ymd", "mdy", "dmy")
MIN_YEAR, MAX_YEAR = 1900, 2199
MAX_NUMBER = Decimal(10) ** 15
MAX_DURATION_HOURS = 1_000_000


class ValueProblem(ValueError):
    """A cell value that cannot be read; the message says why and what is accepted."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AmbiguousDateFormat(ValueProblem):
    """A column of dates that read both as month-day-year and as day-month-year."""

    def __init__(self, message: str, *, examples: list[str] | None = None) -> None:
        super().__init__(message)
        self.examples = examples or []


# --- dates and times --------------------------------------------------------------------------------------------

_ISO = re.compile(
    r"^(?P<y>\d{4})[-/](?P<m>\d{1,2})[-/](?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$", re.IGNORECASE)
_LOCAL = re.compile(
    r"^(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{2,4})"
    r"(?:,?\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,9}))?)?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
    r"\s*(?P<tz>Z|[+-]\d{2}(?::?\d{2})?)?$")


def parse_datetime(text: str, *, tz: ZoneInfo, date_format: str | None = None) -> datetime | None:
    """A date or date-time cell as an aware UTC datetime ("" → None); naive values are local time in `tz`."""
    value = text.strip()
    if not value:
        return None
    if date_format is not None and date_format not in DATE_FORMATS:
        raise ValueProblem(f"unknown date format {date_format!r}: use one of {', '.join(DATE_FORMATS)}")
    if len(value) >= 10 and value[4] == "-" and value[:4].isdigit():
        # The common case (HubSpot, Data Loader, ISO) through the C parser; anything it refuses gets the
        # regular expressions below and their explanations.
        try:
            fast = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            if not MIN_YEAR <= fast.year <= MAX_YEAR:
                raise ValueProblem(f"{value!r}: the year {fast.year} is outside {MIN_YEAR}–{MAX_YEAR}")
            return (fast if fast.tzinfo is not None else fast.replace(tzinfo=tz)).astimezone(UTC)
    iso = _ISO.match(value)
    if iso:
        year, month, day = int(iso["y"]), int(iso["m"]), int(iso["d"])
        return _build(value, year, month, day, iso, tz)
    local = _LOCAL.match(value)
    if not local:
        raise ValueProblem(f"{value!r} is not a date: expected 2026-02-07, 2026-02-07 11:17, "
                           "2026-02-07T11:17:00Z or a locale date like 08/12/2026 3:04 PM")
    if len(local["y"]) != 4:
        raise ValueProblem(f"{value!r}: the year must have four digits (export dates with a four-digit year)")
    a, b = int(local["a"]), int(local["b"])
    fmt = date_format if date_format in ("mdy", "dmy") else _own_format(value, a, b)
    month, day = (a, b) if fmt == "mdy" else (b, a)
    return _build(value, int(local["y"]), month, day, local, tz)


def _own_format(value: str, a: int, b: int) -> str:
    if a > 12 >= b:
        return "dmy"
    if b > 12 >= a:
        return "mdy"
    if a == b:
        return "mdy"
    raise AmbiguousDateFormat(
        f"{value!r} reads as month/day and as day/month: give the date format (mdy or dmy)", examples=[value])


def _build(value: str, year: int, month: int, day: int, m: re.Match[str], tz: ZoneInfo) -> datetime:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueProblem(f"{value!r}: the year {year} is outside {MIN_YEAR}–{MAX_YEAR}")
    try:
        d = date(year, month, day)
    except ValueError:
        raise ValueProblem(f"{value!r} is not a calendar date (month {month}, day {day})") from None
    hour = minute = second = micro = 0
    if m["H"] is not None:
        hour, minute = int(m["H"]), int(m["M"])
        second = int(m["S"] or 0)
        micro = int((m["f"] or "0")[:6].ljust(6, "0"))
        ampm = m.groupdict().get("ampm")
        if ampm:
            if not 1 <= hour <= 12:
                raise ValueProblem(f"{value!r}: the hour {hour} does not go with AM/PM")
            pm = ampm[0] in "Pp"
            hour = hour % 12 + (12 if pm else 0)
        if hour > 23 or minute > 59 or second > 59:
            raise ValueProblem(f"{value!r} is not a time of day")
    zone = m["tz"]
    where = tz if zone is None else _offset(value, zone)
    return datetime.combine(d, time(hour, minute, second, micro), tzinfo=where).astimezone(UTC)


def _offset(value: str, zone: str) -> tzinfo:
    if zone.upper() == "Z":
        return UTC
    sign = -1 if zone[0] == "-" else 1
    digits = zone[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 18 or minutes > 59:
        raise ValueProblem(f"{value!r}: {zone} is not a UTC offset")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def detect_date_format(samples: Iterable[str]) -> str | None:
    """Whether a column's dates are ymd, mdy or dmy (None when it has none); raises AmbiguousDateFormat when
    they read both ways."""
    iso = mdy = dmy = 0
    ambiguous: list[str] = []
    mdy_example = dmy_example = ""
    for raw in samples:
        value = raw.strip()
        if not value:
            continue
        if _ISO.match(value):
            iso += 1
            continue
        local = _LOCAL.match(value)
        if not local:
            continue
        a, b = int(local["a"]), int(local["b"])
        if a > 12 >= b:
            dmy += 1
            dmy_example = dmy_example or value
        elif b > 12 >= a:
            mdy += 1
            mdy_example = mdy_example or value
        elif a != b and len(ambiguous) < 3:
            ambiguous.append(value)
    if mdy and dmy:
        raise AmbiguousDateFormat(
            f"the dates mix month/day ({mdy_example!r}) and day/month ({dmy_example!r}) orders",
            examples=[mdy_example, dmy_example])
    if mdy:
        return "mdy"
    if dmy:
        return "dmy"
    if ambiguous:
        raise AmbiguousDateFormat(
            f"dates like {ambiguous[0]!r} read as month/day and as day/month, and no date settles it "
            "(none has a day above 12): give the date format, mdy or dmy", examples=ambiguous)
    if iso:
        return "ymd"
    return None


# --- numbers, booleans, durations, lists ------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?$")


def parse_number(text: str) -> Decimal | None:
    """A numeric cell as a Decimal ("" → None); `1,234.56` and `0.0` read, a decimal comma is refused."""
    value = text.strip()
    if not value:
        return None
    body = value
    if body[:1] in "$€£":
        body = body[1:].strip()
    elif body[:2] in ("-$", "-€", "-£"):
        body = "-" + body[2:].strip()
    if body.endswith("%"):
        body = body[:-1].strip()
    if body.lower().lstrip("+-") in ("inf", "infinity", "nan", "snan"):
        raise ValueProblem(f"{value!r} is not a number")
    if not body or not any(ch.isdigit() for ch in body) or not _NUMBER.match(body):
        if re.match(r"^[+-]?\d{1,3}(?:\.\d{3})*,\d+$", body) or re.match(r"^[+-]?\d+,\d{1,2}$", body):
            raise ValueProblem(f"{value!r} has a decimal comma: numbers are read with '.' for decimals "
                               "(1234.56 or 1,234.56); export them that way")
        raise ValueProblem(f"{value!r} is not a number (expected 1234.56, 1,234.56 or 0.0)")
    try:
        number = Decimal(body.replace(",", ""))
    except InvalidOperation:
        raise ValueProblem(f"{value!r} is not a number (expected 1234.56, 1,234.56 or 0.0)") from None
    if not number.is_finite() or abs(number) >= MAX_NUMBER:
        raise ValueProblem(f"{value!r} is out of range (numbers must stay below {MAX_NUMBER:,.0f} in magnitude)")
    return number


_TRUE = {"true", "yes", "y", "1", "t"}
_FALSE = {"false", "no", "n", "0", "f"}


def parse_bool(text: str) -> bool | None:
    """A yes/no cell ("" → None): true/false, yes/no, y/n, 1/0 in any case."""
    value = text.strip().lower()
    if not value:
        return None
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueProblem(f"{text.strip()!r} is not yes or no (expected true/false, yes/no or 1/0)")


_DURATION = re.compile(r"^(?P<h>\d+):(?P<m>\d{2}):(?P<s>\d{2})(?:\.(?P<f>\d{1,6}))?$")


def parse_duration(text: str) -> timedelta | None:
    """A HH:mm:ss duration such as HubSpot's `142:46:08` ("" → None); hours may exceed 24."""
    value = text.strip()
    if not value:
        return None
    m = _DURATION.match(value)
    if not m:
        raise ValueProblem(f"{value!r} is not a duration (expected hours:minutes:seconds, like 142:46:08)")
    hours, minutes, seconds = int(m["h"]), int(m["m"]), int(m["s"])
    if minutes > 59 or seconds > 59:
        raise ValueProblem(f"{value!r}: minutes and seconds must be below 60")
    if hours > MAX_DURATION_HOURS:
        raise ValueProblem(f"{value!r}: more than {MAX_DURATION_HOURS:,} hours")
    micro = int((m["f"] or "0").ljust(6, "0"))
    return timedelta(hours=hours, minutes=minutes, seconds=seconds, microseconds=micro)


def split_multi(text: str, sep: str = ";") -> list[str]:
    """Several values in one cell, joined by `sep`; each trimmed, empty ones dropped, order kept."""
    if sep not in text:  # most cells hold one value
        value = text.strip()
        return [value] if value else []
    return [part for part in (p.strip() for p in text.split(sep)) if part]


_NAME_EMAIL = re.compile(r"^(?P<name>.*?)\s*\((?P<email>[^()\s]+@[^()\s]+)\)$")
_EMAIL = re.compile(r"^[^()\s@]+@[^()\s@]+\.[^()\s@]+$")


def parse_name_email(text: str) -> tuple[str, str]:
    """`Ann Lee (ann@x.com)` → ("Ann Lee", "ann@x.com"); a bare email gives ("", email), a bare name (name, "")."""
    value = text.strip()
    if not value:
        raise ValueProblem("an empty contact: expected Name (email)")
    m = _NAME_EMAIL.match(value)
    if m:
        email = m["email"]
        if not _EMAIL.match(email):
            raise ValueProblem(f"{value!r}: {email!r} is not an email address")
        return m["name"].strip(), email
    if _EMAIL.match(value):
        return "", value
    if "(" in value or ")" in value or "@" in value:
        raise ValueProblem(f"{value!r} is not a contact written as Name (email), like Ann Lee (ann@x.com)")
    return value, ""
