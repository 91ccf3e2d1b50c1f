"""The playbook's business calendar as a vectorised clock over the simulated year (pure, no ORM).

`lifecycle.calendar` adds business time one instant at a time; the simulator needs it for every MQL of a chunk.
The clock lists each local working window once (as UTC seconds since the first simulated day) with the working
time before it, so adding business time is two `searchsorted` calls. It gives the same instants as
`lifecycle.calendar.add_business_time` to the second (a test checks it), so the SLA deadlines the seeder writes are
the ones the product would compute.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from smarketing.lifecycle import calendar
from smarketing.playbook.schema import BusinessCalendar

DAY = 86400


@dataclass(frozen=True)
class BusinessClock:
    """Working windows [start, end) in seconds since `origin`, and the working seconds before each window."""

    origin: datetime
    starts: np.ndarray  # int64
    ends: np.ndarray  # int64
    before: np.ndarray  # int64: working seconds in all earlier windows
    day_seconds: int  # one working day (day_end - day_start), as the product counts business days

    @classmethod
    def build(cls, cal: BusinessCalendar, origin: datetime, days: int) -> BusinessClock:
        """Windows of every local date from the day before `origin` to `days` (plus a margin) after it."""
        first = origin.astimezone(ZoneInfo(cal.timezone)).date() - timedelta(days=1)
        starts, ends = [], []
        for k in range(days + 60):
            w = calendar.window(cal, first + timedelta(days=k))
            if w is not None:
                starts.append(round((w[0] - origin).total_seconds()))
                ends.append(round((w[1] - origin).total_seconds()))
        s, e = np.asarray(starts, dtype=np.int64), np.asarray(ends, dtype=np.int64)
        before = np.r_[0, np.cumsum(e - s)[:-1]].astype(np.int64)
        day = round(calendar.working_day_length(cal).total_seconds())
        return cls(origin=origin, starts=s, ends=e, before=before, day_seconds=day)

    def worked(self, t: np.ndarray) -> np.ndarray:
        """Working seconds from the first window to each instant (seconds since origin)."""
        t = np.asarray(t, dtype=np.int64)
        i = np.searchsorted(self.ends, t, side="right")  # the first window that ends after t
        i = np.minimum(i, self.starts.size - 1)
        return self.before[i] + np.clip(t - self.starts[i], 0, None)

    def add(self, t: np.ndarray, seconds: np.ndarray | int) -> np.ndarray:
        """Each instant plus that many working seconds (> 0), as `calendar.add_business_time` computes it."""
        target = self.worked(t) + np.asarray(seconds, dtype=np.int64)
        after = self.before + (self.ends - self.starts)
        j = np.minimum(np.searchsorted(after, target, side="left"), self.starts.size - 1)
        return self.starts[j] + (target - self.before[j])

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Working seconds from a to b (b >= a)."""
        return self.worked(b) - self.worked(a)


def clock_for(cal: BusinessCalendar, origin: datetime, days: int) -> BusinessClock:
    """A business clock for a calendar (cached per calendar: the two playbook versions usually share one)."""
    key = (cal.model_dump_json(), origin, days)
    found = _CACHE.get(key)
    if found is None:
        found = _CACHE[key] = BusinessClock.build(cal, origin, days)
    return found


_CACHE: dict[tuple[str, datetime, int], BusinessClock] = {}


def day_of(seconds: np.ndarray) -> np.ndarray:
    """Whole days since origin (the UTC date an instant falls on)."""
    return np.floor_divide(np.asarray(seconds, dtype=np.int64), DAY)


def date_of(origin: datetime, seconds: int) -> date:
    return (origin + timedelta(seconds=int(seconds))).date()
