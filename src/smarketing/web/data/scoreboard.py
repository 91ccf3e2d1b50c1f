"""The scoreboard's SLA card and week-over-week changes, composed from the measures (no arithmetic of its own).

Pacing of the revenue goal is in `web.data.goals`; every figure here is a measure of the `metrics` query kind, so
the page shows what `smarketing metrics --period … --json` prints.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from smarketing.analytics.metrics import MeasureValue, MetricsResult, change
from smarketing.analytics.metrics.definitions import MEASURES
from smarketing.core import clock
from smarketing.lifecycle.selectors import stage_change_span
from smarketing.lifecycle.sla import SALES_WITHIN_SLA_TARGET
from smarketing.playbook.schema import Playbook
from smarketing.web.data.common import cached
from smarketing.web.data.funnel import COHORT_MEASURES
from smarketing.web.data.measures import metrics
from smarketing.web.periods import Period, parse_period
from smarketing.web.templatetags.measures import measure_href


@dataclass(frozen=True)
class SlaLine:
    """One commitment of the SLA: the measure that judges it, its target and the verdict in words."""

    side: str
    commitment: str
    name: str  # the measure shown as the actual
    value: float | None
    target: float | None
    target_name: str  # the measure giving the target, when the target is one ("" for a fixed rate)
    unit: str
    status: str  # on pace | behind pace | met | missed | no data
    detail: str

    @property
    def ok(self) -> bool | None:
        return None if self.status == "no data" else self.status in ("on pace", "met")


def _verdict(value: float | None, target: float | None, *, running: bool) -> str:
    """Against a target to date: "on pace / behind pace" while the period runs, "met / missed" once it has ended."""
    if value is None or target is None:
        return "no data"
    if running:
        return "on pace" if value >= target else "behind pace"
    return "met" if value >= target else "missed"


def sla_lines(*, terms: Playbook | None, period: Period, result: MetricsResult | None,
              now: datetime | None = None) -> list[SlaLine]:
    """Both sides of the SLA for a period from the measures: sales' clocks (the lifecycle's business calendar)
    and marketing's MQL volume against the commitment prorated to date, and its acceptance rate."""
    if terms is None or result is None:
        return []
    now = now or clock.now()
    running = now < period.end
    sales, marketing = terms.sla.sales, terms.sla.marketing
    lines = []
    for name, commitment in (
            ("first_touch_within_sla", f"First touch within {sales.first_touch_business_hours:g} business hours"),
            ("decision_within_sla", f"MQLs decided within {sales.decision_business_days:g} business days")):
        m = result.get(name)
        measured = f"{m.numerator:g} of {m.denominator:g} clocks met" if m.denominator else "no clock resolved yet"
        lines.append(SlaLine("sales", commitment, name, m.value, SALES_WITHIN_SLA_TARGET, "", "ratio",
                             _verdict(m.value, SALES_WITHIN_SLA_TARGET, running=running),
                             f"{measured} (clocks started in {period.label}, business hours, "
                             f"{terms.sla.calendar.timezone})"))
    volume, target = result.get("mqls_entered"), result.get("mql_volume_target_to_date")
    lines.append(SlaLine(
        "marketing", f"MQL volume: {marketing.mql_volume} per {marketing.period}", volume.name, volume.value,
        target.value, target.name, "count", _verdict(volume.value, target.value, running=running),
        f"MQLs entered in {period.label} against the commitment " + (
            "prorated to the part of the period elapsed" if running else "for the whole period")))
    acceptance = result.get("mql_acceptance_rate")
    decided = (f"{acceptance.numerator:g} accepted of {acceptance.denominator:g} decided"
               if acceptance.denominator else "no MQL decided yet")
    lines.append(SlaLine(
        "marketing", "MQL acceptance rate", acceptance.name, acceptance.value, marketing.min_acceptance_rate, "",
        "ratio", _verdict(acceptance.value, marketing.min_acceptance_rate, running=running),
        f"{decided}, of the MQLs that entered in {period.label} (cohort; recycled counts as not accepted)"))
    return lines


# The measures the SLA card reads (`sla_lines`).
SLA_MEASURES = ("first_touch_within_sla", "decision_within_sla", "mqls_entered", "mql_volume_target_to_date",
                "mql_acceptance_rate")
# Every measure the scoreboard shows: the funnel's cohort, the SLA card and the headline figures.
SCOREBOARD_MEASURES = (*COHORT_MEASURES.values(), *SLA_MEASURES, "mqls_accepted", "pipeline_opened", "revenue_won")

# Week over week: the events of the last 7 days against the 7 days before.
CHANGE_MEASURES = ["leads_created", "mqls_entered", "sals_entered", "recycled_entered", "disqualified_entered",
                   "opportunities_opened", "pipeline_opened", "revenue_won", "touchpoints_recorded",
                   "feedback_items_recorded"]


@dataclass(frozen=True)
class Change:
    name: str
    this_week: MeasureValue
    last_week: MeasureValue

    @property
    def label(self) -> str:
        return self.this_week.label

    @property
    def delta(self) -> float:
        return (self.this_week.value or 0.0) - (self.last_week.value or 0.0)

    @property
    def good(self) -> bool | None:
        """Good news by the measure's direction (None: no change or a neutral measure)."""
        return change(self.this_week.value or 0.0, self.last_week.value or 0.0, MEASURES[self.name].better).good


@dataclass(frozen=True)
class WeekChanges:
    this_period: str  # the period keys the measures were read for, so the figures link to their records
    last_period: str
    last_label: str
    rows: list[Change]
    computing: bool = False


def week_changes() -> WeekChanges:
    """The change-measures for `last-7d` against the seven local days before it (a custom range)."""
    this = parse_period("last-7d")
    last_day = this.first_day - timedelta(days=1)
    before = parse_period(f"{last_day - timedelta(days=6)}..{last_day}")
    current, previous = metrics(this, names=CHANGE_MEASURES), metrics(before, names=CHANGE_MEASURES)
    if current is None or previous is None:
        return WeekChanges(this.key, before.key, before.label, [], computing=True)
    rows = [Change(n, current.get(n), previous.get(n)) for n in CHANGE_MEASURES]
    return WeekChanges(this.key, before.key, before.label, rows)


def pacing_hrefs(period: Period, months: list[str]) -> list[str]:
    """The records behind each point of the cumulative won-revenue line: the deals won from the period's first day to
    the end of that month (`YYYY-MM`), as the revenue_won measure's drill-down for that range."""
    out = []
    for month in months:
        y, m = (int(p) for p in month.split("-"))
        end = min(date(y, m, monthrange(y, m)[1]), period.last_day)
        out.append(measure_href("revenue_won", f"{period.first_day}..{end}"))
    return out


def data_span() -> tuple[Any, Any]:
    """First and last recorded stage change, so empty periods can point at where data is (read once per data
    version: a scan of the whole history on every view of the scoreboard otherwise)."""
    return cached("data_span", None, stage_change_span)
