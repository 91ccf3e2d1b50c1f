"""The one reporting period of the product: `2026`, `2026-Q4`, `2026-11`, `last-30d`, `2026-10-01..2026-12-31`.

Calendar periods start and end at midnight in the company's reporting time zone (the active playbook's
`sla.calendar.timezone`), so an MQL at 03:00 UTC on 1 October belongs to September in New York. Bounds are
timezone-aware UTC datetimes, the end exclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from smarketing.core import clock
from smarketing.core.errors import ValidationFailed

_CALENDAR = re.compile(r"^(?P<y>\d{4})(?:-Q(?P<q>[1-4])|-(?P<m>\d{2}))?$")
_LAST = re.compile(r"^last-(?P<n>\d{1,4})d(?P<previous>-previous)?$")
_RANGE = re.compile(r"^(?P<a>\d{4}-\d{2}-\d{2})\.\.(?P<b>\d{4}-\d{2}-\d{2})$")
KEY_HELP = "use 2026, 2026-Q4, 2026-11, last-30d (last-30d-previous: the 30 days before) or 2026-10-01..2026-12-31"


@dataclass(frozen=True)
class ReportingPeriod:
    """A named span of time: [start, end) in UTC, laid out in the reporting time zone `timezone`."""

    key: str
    label: str
    start: datetime
    end: datetime  # exclusive
    timezone: str

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    @property
    def first_day(self) -> date:
        """The local date of the first instant."""
        return self.start.astimezone(ZoneInfo(self.timezone)).date()

    @property
    def last_day(self) -> date:
        """The local date of the last instant (inclusive)."""
        return (self.end - timedelta(microseconds=1)).astimezone(ZoneInfo(self.timezone)).date()

    @property
    def months(self) -> list[str]:
        """The local months ('YYYY-MM') the period touches, in order."""
        out, y, m = [], self.first_day.year, self.first_day.month
        while (y, m) <= (self.last_day.year, self.last_day.month):
            out.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out

    def elapsed_fraction(self, now: datetime) -> float:
        """How much of the period has passed at `now` (0 before it starts, 1 once it has ended)."""
        if now <= self.start:
            return 0.0
        if now >= self.end:
            return 1.0
        return (now - self.start).total_seconds() / (self.end - self.start).total_seconds()

    def previous(self) -> ReportingPeriod:
        """The period of the same kind just before (the previous quarter, month, year, or the same span)."""
        m = _CALENDAR.match(self.key)
        if m:
            y = int(m["y"])
            if m["q"]:
                q = int(m["q"]) - 1
                return reporting_period(f"{y - (q == 0)}-Q{q or 4}", tz=self.timezone)
            if m["m"]:
                mo = int(m["m"]) - 1
                return reporting_period(f"{y - (mo == 0)}-{mo or 12:02d}", tz=self.timezone)
            return reporting_period(str(y - 1), tz=self.timezone)
        span = self.end - self.start
        if _RANGE.match(self.key):
            first = self.first_day - (self.last_day - self.first_day) - timedelta(days=1)
            return reporting_period(f"{first}..{self.first_day - timedelta(days=1)}", tz=self.timezone)
        # last-Nd → last-Nd-previous (the N days before it); further back there is no key, only the bounds
        key = f"{self.key}-previous" if _LAST.match(self.key) and not self.key.endswith("-previous") else ""
        return ReportingPeriod(key=key, label=f"the {self.label} before", start=self.start - span, end=self.start,
                               timezone=self.timezone)

    def as_dict(self) -> dict[str, str]:
        return {"key": self.key, "label": self.label, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "timezone": self.timezone}


def reporting_timezone() -> str:
    """The company's reporting time zone: the active playbook's business calendar zone."""
    from smarketing.playbook.selectors import playbook_active_terms

    _, terms = playbook_active_terms()
    return terms.sla.calendar.timezone


def _midnight(d: date, zone: ZoneInfo) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=zone).astimezone(UTC)


def _month(y: int, m: int) -> date:
    return date(y + (m - 1) // 12, (m - 1) % 12 + 1, 1)


# Reports cover the years the product's activity window can hold (from 1970) and a long plan ahead; beyond them a
# period's end would overflow the calendar (the month after 9999-12), so they are refused by name.
YEARS = (1970, 2199)


def _year_checked(year: int, key: str) -> int:
    if not YEARS[0] <= year <= YEARS[1]:
        raise ValidationFailed(f"period {key!r}: year {year} is outside {YEARS[0]}–{YEARS[1]}; {KEY_HELP}",
                               field="period")
    return year


def reporting_period(key: str, tz: str | None = None, *, now: datetime | None = None) -> ReportingPeriod:
    """The period named by `key`, in `tz` (default: the reporting time zone); a bad key names the `period` field."""
    key = (key or "").strip()
    tz = tz or reporting_timezone()
    try:
        zone = ZoneInfo(tz)
    except (KeyError, ValueError):
        raise ValidationFailed(f"time zone {tz!r} is unknown; use an IANA name like America/New_York",
                               field="timezone") from None
    m = _CALENDAR.match(key)
    if m:
        y = _year_checked(int(m["y"]), key)
        if m["q"]:
            q = int(m["q"])
            first, after, label = _month(y, 3 * q - 2), _month(y, 3 * q + 1), f"Q{q} {y}"
        elif m["m"]:
            mo = int(m["m"])
            if not 1 <= mo <= 12:
                raise ValidationFailed(f"period {key!r} has no month {mo}; {KEY_HELP}", field="period")
            first, after = _month(y, mo), _month(y, mo + 1)
            label = first.strftime("%B %Y")
        else:
            first, after, label = date(y, 1, 1), date(y + 1, 1, 1), f"year {y}"
        return ReportingPeriod(key, label, _midnight(first, zone), _midnight(after, zone), tz)
    m = _LAST.match(key)
    if m:
        n = int(m["n"])
        if n == 0:
            raise ValidationFailed(f"period {key!r} is empty; {KEY_HELP}", field="period")
        end = now or clock.now()
        if m["previous"]:
            return ReportingPeriod(key, f"the {n} days before the last {n}", end - timedelta(days=2 * n),
                                   end - timedelta(days=n), tz)
        return ReportingPeriod(key, f"last {n} days", end - timedelta(days=n), end, tz)
    m = _RANGE.match(key)
    if m:
        try:
            first, last = date.fromisoformat(m["a"]), date.fromisoformat(m["b"])
        except ValueError:
            raise ValidationFailed(f"period {key!r} holds a date that does not exist; {KEY_HELP}",
                                   field="period") from None
        if last < first:
            raise ValidationFailed(f"period {key!r} ends before it starts", field="period")
        _year_checked(first.year, key), _year_checked(last.year, key)
        label = f"{first:%-d %b %Y} – {last:%-d %b %Y}"
        return ReportingPeriod(key, label, _midnight(first, zone), _midnight(last + timedelta(days=1), zone), tz)
    raise ValidationFailed(f"period {key!r} is not understood; {KEY_HELP}", field="period")
