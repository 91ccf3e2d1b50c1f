"""Reporting periods named in URLs (`2026`, `2026-Q4`, `2026-11`, `last-90d`), always stated on the page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from smarketing.core import clock
from smarketing.core.errors import ValidationFailed

_RE = re.compile(r"^(?P<y>\d{4})(?:-Q(?P<q>[1-4])|-(?P<m>\d{2}))?$")
_LAST = re.compile(r"^last-(?P<n>\d{1,4})d$")


@dataclass(frozen=True)
class Period:
    key: str
    label: str
    start: datetime
    end: datetime  # exclusive

    @property
    def days(self) -> float:
        return (self.end - self.start).total_seconds() / 86400

    def elapsed_fraction(self, now: datetime) -> float:
        if now <= self.start:
            return 0.0
        if now >= self.end:
            return 1.0
        return (now - self.start).total_seconds() / (self.end - self.start).total_seconds()

    def previous(self) -> Period:
        span = self.end - self.start
        return Period(key=f"{self.key}-prev", label=f"the period before {self.label}", start=self.start - span,
                      end=self.start)


def _month_start(y: int, m: int) -> datetime:
    return datetime(y + (m - 1) // 12, (m - 1) % 12 + 1, 1, tzinfo=UTC)


def parse_period(key: str) -> Period:
    """A period from its URL key; raises ValidationFailed naming the `period` field."""
    key = (key or "").strip()
    m = _RE.match(key)
    if m:
        y = int(m["y"])
        if m["q"]:
            q = int(m["q"])
            return Period(key, f"Q{q} {y}", _month_start(y, 3 * q - 2), _month_start(y, 3 * q + 1))
        if m["m"]:
            mo = int(m["m"])
            if not 1 <= mo <= 12:
                raise ValidationFailed(f"period {key!r} has no month {mo}", field="period")
            start = _month_start(y, mo)
            return Period(key, start.strftime("%B %Y"), start, _month_start(y, mo + 1))
        return Period(key, f"year {y}", datetime(y, 1, 1, tzinfo=UTC), datetime(y + 1, 1, 1, tzinfo=UTC))
    m2 = _LAST.match(key)
    if m2:
        n = int(m2["n"])
        end = clock.now()
        return Period(key, f"last {n} days", end - timedelta(days=n), end)
    raise ValidationFailed(f"period {key!r} is not understood; use 2026, 2026-Q4, 2026-11 or last-90d",
                           field="period")


def current_quarter_key(now: datetime | None = None) -> str:
    now = now or clock.now()
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def period_choices(now: datetime | None = None) -> list[tuple[str, str]]:
    """The periods offered in the picker: this and the three previous quarters, this year and last year, rolling."""
    now = now or clock.now()
    out = []
    y, q = now.year, (now.month - 1) // 3 + 1
    for _ in range(4):
        p = parse_period(f"{y}-Q{q}")
        out.append((p.key, p.label))
        q -= 1
        if q == 0:
            y, q = y - 1, 4
    for year in (now.year, now.year - 1):
        out.append((str(year), f"year {year}"))
    out += [("last-30d", "last 30 days"), ("last-90d", "last 90 days"), ("last-365d", "last 365 days")]
    return out
