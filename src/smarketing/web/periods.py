"""The period picker: reporting periods named in URLs (`2026`, `2026-Q4`, `2026-11`, `last-90d`,
`2026-10-01..2026-12-31`) are the metrics layer's `ReportingPeriod`; this module only offers the choices."""

from __future__ import annotations

from datetime import datetime

from smarketing.analytics.metrics import ReportingPeriod, reporting_period, reporting_timezone
from smarketing.core import clock
from smarketing.core.errors import DomainError

Period = ReportingPeriod


def page_timezone() -> str:
    """The reporting time zone (UTC while no playbook is active, so pages still open)."""
    try:
        return reporting_timezone()
    except DomainError:
        return "UTC"


def parse_period(key: str) -> ReportingPeriod:
    """A period from its URL key in the reporting time zone; a bad key raises ValidationFailed naming `period`."""
    return reporting_period(key, tz=page_timezone())


def current_quarter_key(now: datetime | None = None) -> str:
    now = now or clock.now()
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def period_choices(now: datetime | None = None) -> list[tuple[str, str]]:
    """The periods offered in the picker: this and the three previous quarters, this year and last year, rolling."""
    now = now or clock.now()
    out = []
    y, q = now.year, (now.month - 1) // 3 + 1
    for _ in range(4):
        out.append((f"{y}-Q{q}", f"Q{q} {y}"))
        q -= 1
        if q == 0:
            y, q = y - 1, 4
    for year in (now.year, now.year - 1):
        out.append((str(year), f"year {year}"))
    out += [("last-30d", "last 30 days"), ("last-90d", "last 90 days"), ("last-365d", "last 365 days")]
    return out
