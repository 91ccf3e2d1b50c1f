"""Goals and pacing for the pages, from the analytics `goals` query kind (the spec `smarketing goals` runs).

The web reads the typed `GoalsResult`: revenue pacing and the cumulative monthly series for the scoreboard,
the reverse-waterfall volumes as funnel targets, and the measured rates as the planner's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from smarketing.core import clock
from smarketing.core.errors import DomainError
from smarketing.playbook.schema import Playbook
from smarketing.web.data.common import query_result
from smarketing.web.periods import Period

CALENDAR = re.compile(r"^\d{4}(-Q[1-4]|-(0[1-9]|1[0-2]))?$")
# The goals query plans leads → MQLs → SQLs → opportunities → deals; the funnel's stage for each.
STAGE_OF_PLAN = {"leads": "lead", "mqls": "mql", "sqls": "sql", "opportunities": "opportunity", "deals": "customer"}


def goal_for(terms: Playbook | None, period: Period) -> tuple[float | None, str, str]:
    """The playbook goal for a period as the goals query reads it (exact, else pro-rated from a covering goal)."""
    from smarketing.analytics.queries.goals import playbook_goal

    if terms is None or not terms.goals:
        return None, "no goal in the playbook", "USD"
    goal = playbook_goal(list(terms.goals), period.key) if CALENDAR.match(period.key) else None
    if goal is None:
        return None, f"the playbook has no goal covering {period.label}", "USD"
    return goal.revenue, goal.source, goal.currency


@dataclass
class GoalsData:
    goal: float | None
    goal_source: str
    currency: str
    spec: dict[str, Any] = field(default_factory=dict)
    result: Any = None  # GoalsResult
    note: str = ""  # why there is no result
    computing: bool = False


def goals_data(*, terms: Playbook | None, period: Period, revenue: float | None = None) -> GoalsData:
    """The goals query for a calendar period and the playbook's goal (or `revenue`), or why there is none."""
    goal, source, currency = goal_for(terms, period)
    if revenue is not None and revenue != goal:
        goal, source = revenue, "the revenue entered above"
    data = GoalsData(goal=goal, goal_source=source, currency=currency)
    if not CALENDAR.match(period.key):
        data.note = "Goals are planned per calendar year, quarter or month: pick one in the period list."
        return data
    if goal is None:
        data.note = f"{source[:1].upper()}{source[1:]}: add one to the playbook to plan and pace against it."
        return data
    # The goals query finds the playbook's goal itself (pro-rating a covering one); only a typed revenue is sent.
    data.spec = {"period": period.key} if revenue is None or revenue == goal else {"period": period.key,
                                                                                  "revenue": round(goal, 2)}
    try:
        data.result = query_result("goals", data.spec)
    except DomainError as exc:
        data.note = exc.message
        return data
    data.computing = data.result is None
    return data


def funnel_targets(data: GoalsData) -> dict[str, float]:
    """Reverse-waterfall volumes per funnel stage from the goals result (no target for SAL: not planned)."""
    if data.result is None:
        return {}
    return {STAGE_OF_PLAN[k]: float(v) for k, v in data.result.needed.items() if k in STAGE_OF_PLAN}


@dataclass
class Pacing:
    goal: float | None
    goal_source: str
    currency: str
    won: float | None
    expected_by_now: float | None
    elapsed: float
    series: list[tuple[str, float]] = field(default_factory=list)
    target_series: list[tuple[str, float]] = field(default_factory=list)
    note: str = ""
    computing: bool = False

    @property
    def attainment(self) -> float | None:
        return self.won / self.goal if self.goal and self.won is not None else None

    @property
    def pace(self) -> float | None:
        return self.won / self.expected_by_now if self.expected_by_now and self.won is not None else None


def pacing(data: GoalsData, period: Period) -> Pacing:
    """Won revenue against the goal from the goals result's revenue pacing, with cumulative monthly series."""
    out = Pacing(goal=data.goal, goal_source=data.goal_source, currency=data.currency, won=None,
                 expected_by_now=None, elapsed=period.elapsed_fraction(clock.now()), note=data.note,
                 computing=data.computing)
    result = data.result
    if result is None:
        return out
    revenue = next(p for p in result.pacing if p.stage == "revenue")
    out.won, out.expected_by_now = revenue.actual_to_date, revenue.target_to_date
    today = clock.now().strftime("%Y-%m")
    won_run = target_run = 0.0
    for m in result.months:
        if "revenue" not in m.targets:
            continue  # a month before the period that only holds lead-time targets
        target_run += m.targets["revenue"]
        out.target_series.append((m.month, target_run))
        if m.month <= today:
            won_run += m.actuals.get("revenue", 0.0)
            out.series.append((m.month, won_run))
    return out
