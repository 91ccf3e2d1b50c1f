"""Pure SLA decisions over plain data (no ORM): deadlines, clock states, periods and both sides' verdicts.

Sales side: first touch within N business hours and a handoff decision within N business days of the MQL; only the
owner's touch (or one that names no rep) counts as the first touch, see `first_touch_by`.
Marketing side: MQL volume and the share of decided MQLs sales accepted, per period, against the commitment.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from smarketing.lifecycle import calendar
from smarketing.playbook.schema import SLA, BusinessCalendar, MarketingSLA

FIRST_TOUCH = "first_touch"
DECISION = "decision"
# The share of sales clocks met on time that counts as compliant: the playbook sets deadlines, not a share, so
# 90 % is the house default every report (API, CLI, scoreboard) flags against.
SALES_WITHIN_SLA_TARGET = 0.9


@dataclass(frozen=True)
class Deadlines:
    first_touch: datetime
    decision: datetime

    def as_dict(self) -> dict[str, datetime]:
        return {FIRST_TOUCH: self.first_touch, DECISION: self.decision}


def sales_deadlines(sla: SLA, started_at: datetime) -> Deadlines:
    """When the seller must first touch and decide on an MQL that reached them at `started_at`."""
    cal = sla.calendar
    return Deadlines(first_touch=calendar.add_business_hours(cal, started_at, sla.sales.first_touch_business_hours),
                     decision=calendar.add_business_days(cal, started_at, sla.sales.decision_business_days))


@dataclass(frozen=True)
class Countdown:
    """Where a clock stands at `now`: business time left (negative when overdue) and its state."""

    state: str  # open | due | met | breached
    business_seconds_left: float
    deadline: datetime

    def as_dict(self) -> dict[str, object]:
        return {"state": self.state, "business_seconds_left": round(self.business_seconds_left),
                "business_hours_left": round(self.business_seconds_left / 3600, 2),
                "deadline": self.deadline.isoformat()}


def countdown(cal: BusinessCalendar, deadline: datetime, now: datetime, *, resolved_state: str = "") -> Countdown:
    """The countdown of a clock; `resolved_state` (met/breached) wins over the time left."""
    left = calendar.business_time_between(cal, now, deadline).total_seconds()
    state = resolved_state or ("due" if now >= deadline else "open")
    return Countdown(state=state, business_seconds_left=left, deadline=deadline)


# -------------------------------------------------------------------------------------------- first touch

OWNER_TOUCH = "owner"
UNATTRIBUTED_TOUCH = "unattributed"
OTHER_TOUCH = "someone_else"


def first_touch_by(*, actor_id: int | None, owner_at_touch_id: int | None) -> str:
    """Whose sales touch this is for the owner's first-touch clock; only `owner` and `unattributed` stop it.

    The rule:
    - `owner`: the touch's actor is the lead's owner at the touch's time, i.e. the owner of the assignment
      in force then (the latest assignment made at or before the touch). It stops the clock.
    - `someone_else`: the actor is another user, or the lead had no owner then (unrouted). It does not stop
      the clock; the caller records it so the queue shows the lead was touched by someone else.
    - `unattributed`: the touch names no actor (history recorded before touches named their rep, imports
      that do not know the rep). It stops the clock, as every sales touch did before, so nothing already
      measured changes meaning.

    Reassignment: a reassignment is a new assignment, and the engine cancels the former owner's clocks and
    starts new ones for the new owner from the reassignment. From then on only the new owner's touches count
    (the former owner's are someone else's); touches made before the reassignment cannot stop the new clocks,
    which started after them.
    """
    if actor_id is None:
        return UNATTRIBUTED_TOUCH
    if owner_at_touch_id is not None and actor_id == owner_at_touch_id:
        return OWNER_TOUCH
    return OTHER_TOUCH


def first_touch_stops_clock(by: str) -> bool:
    """Whether a touch classified by `first_touch_by` stops the first-touch clock."""
    return by in (OWNER_TOUCH, UNATTRIBUTED_TOUCH)


def rate(numerator: int, denominator: int) -> float | None:
    """A share, or None when nothing was measured (so 0 of 0 is not reported as 0 %)."""
    return round(numerator / denominator, 4) if denominator else None


# ----------------------------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    key: str  # 2026-W48, 2026-11, 2026-Q4
    start: date  # first local day
    end: date  # first local day after the period

    def bounds_utc(self, tz: str) -> tuple[datetime, datetime]:
        zone = ZoneInfo(tz)
        lo = datetime.combine(self.start, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        hi = datetime.combine(self.end, datetime.min.time(), tzinfo=zone).astimezone(UTC)
        return lo, hi

    def contains(self, day: date) -> bool:
        return self.start <= day < self.end


def period_of(kind: str, day: date) -> Period:
    """The week (ISO, Monday first), month or quarter that contains a local date."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        iso = start.isocalendar()
        return Period(f"{iso.year}-W{iso.week:02d}", start, start + timedelta(days=7))
    if kind == "month":
        start = day.replace(day=1)
        end = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
        return Period(f"{start.year}-{start.month:02d}", start, end)
    if kind == "quarter":
        q = (day.month - 1) // 3
        start = date(day.year, 3 * q + 1, 1)
        end = date(day.year + (q == 3), (3 * q + 3) % 12 + 1, 1)
        return Period(f"{day.year}-Q{q + 1}", start, end)
    raise ValueError(f"unknown period kind {kind!r}; use week, month or quarter")


def period_at(kind: str, instant: datetime, tz: str) -> Period:
    """The period an instant falls in, in the calendar's local time."""
    return period_of(kind, instant.astimezone(ZoneInfo(tz)).date())


def period_parse(kind: str, key: str) -> Period:
    """A period from its key (`2026-W48`, `2026-11`, `2026-Q4`)."""
    try:
        if kind == "week":
            year, week = key.split("-W")
            return period_of("week", date.fromisocalendar(int(year), int(week), 1))
        if kind == "month":
            year, month = key.split("-")
            return period_of("month", date(int(year), int(month), 1))
        if kind == "quarter":
            year, q = key.split("-Q")
            return period_of("quarter", date(int(year), 3 * (int(q) - 1) + 1, 1))
    except ValueError:
        pass
    raise ValueError(f"period {key!r} is not a {kind} key (e.g. 2026-W48, 2026-11, 2026-Q4)")


def period_fraction_elapsed(period: Period, today: date) -> float:
    """How much of a period has passed by the start of `today` (0..1), for pacing volume targets."""
    total = (period.end - period.start).days
    done = min(max((today - period.start).days, 0), total)
    return done / total if total else 1.0


# --------------------------------------------------------------------------------------------- marketing


@dataclass(frozen=True)
class MarketingVerdict:
    """Marketing's side of the SLA in one period."""

    period: str
    mql_volume: int
    mql_target: int
    volume_met: bool
    expected_to_date: float
    on_pace: bool
    accepted: int
    rejected: int
    recycled: int
    acceptance_rate: float | None
    acceptance_target: float
    acceptance_met: bool | None
    closed: bool

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


def marketing_verdict(commitment: MarketingSLA, period: Period, *, mql_volume: int, accepted: int, rejected: int,
                      recycled: int, today: date) -> MarketingVerdict:
    """Judge marketing's MQL volume and acceptance rate for a period against the commitment.

    The acceptance rate is accepted / (accepted + rejected + recycled): a recycle says "not now",
    which counts against marketing's lead quality as a rejection does.
    """
    decided = accepted + rejected + recycled
    acc = rate(accepted, decided)
    fraction = period_fraction_elapsed(period, today)
    expected = commitment.mql_volume * fraction
    closed = today >= period.end
    return MarketingVerdict(
        period=period.key, mql_volume=mql_volume, mql_target=commitment.mql_volume,
        volume_met=mql_volume >= commitment.mql_volume, expected_to_date=round(expected, 2),
        on_pace=mql_volume >= expected, accepted=accepted, rejected=rejected, recycled=recycled,
        acceptance_rate=acc, acceptance_target=commitment.min_acceptance_rate,
        acceptance_met=None if acc is None else acc >= commitment.min_acceptance_rate, closed=closed)
