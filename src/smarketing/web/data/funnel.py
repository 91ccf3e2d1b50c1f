"""The funnel pages' figures, from the analytics `funnel` query kind (the spec the API and CLI run).

The web only reshapes the typed `FunnelResult`: stage rows for the waterfall, group rows for the breakdown.
The cohort is every contact whose first funnel stage falls in the period (skipped stages count as reached).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from smarketing.web.data.common import query_result
from smarketing.web.periods import Period

DIMENSIONS = {"source": "Lead source", "campaign": "First campaign", "segment": "Segment", "owner": "Owner",
              "country": "Country", "cohort_month": "Cohort month"}
STAGES = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
SHORT = {"lead": "Lead", "mql": "MQL", "sal": "SAL", "sql": "SQL", "opportunity": "Opportunity",
         "customer": "Customer"}


@dataclass
class StageRow:
    stage: str
    label: str
    volume: int
    conversion: float | None  # to the next stage
    velocity_days: float | None  # median days to the next stage
    value: float | None = None
    target: float | None = None


@dataclass
class FunnelData:
    period: Period
    cohort_size: int
    stages: list[StageRow]
    breakdown: list[dict[str, Any]] = field(default_factory=list)
    dimension: str = "source"
    filters: dict[str, str] = field(default_factory=dict)
    options: dict[str, list[str]] = field(default_factory=dict)
    computing: bool = False
    note: str = ""
    spec: dict[str, Any] = field(default_factory=dict)


def funnel_spec(period: Period, *, by: str | None = None) -> dict[str, Any]:
    """The analytics spec of a period's lead-to-customer cohort funnel (its end day is inclusive, as in the CLI)."""
    last_day = (period.end - timedelta(microseconds=1)).date()
    return {"from_stage": "lead", "to_stage": "customer", "start": period.start.date().isoformat(),
            "end": last_day.isoformat(), "by": by}


def stage_rows(group: Any) -> list[StageRow]:
    """Waterfall rows from a `FunnelGroup`: reached per step, conversion and median lag to the next step."""
    steps = list(group.steps)
    rows = []
    for i, step in enumerate(steps):
        nxt = steps[i + 1] if i + 1 < len(steps) else None
        rows.append(StageRow(stage=step.stage, label=SHORT.get(step.stage, step.stage), volume=step.reached,
                             conversion=nxt.conversion_from_previous if nxt else None,
                             velocity_days=nxt.median_days_from_previous if nxt else None,
                             value=group.won_value if nxt is None else None))
    return rows


def _owner_names(keys: list[str]) -> dict[str, str]:
    from smarketing.team.models import User

    ids = [int(k) for k in keys if k.isdigit()]
    return {str(pk): name for pk, name in User.objects.filter(id__in=ids).values_list("id", "username")}


def breakdown_rows(result: Any, dimension: str) -> list[dict[str, Any]]:
    """One row per group of a grouped `FunnelResult` (largest first, at most 15)."""
    groups = list(result.groups)[:15]
    names = _owner_names([g.key for g in groups]) if dimension == "owner" else {}
    out = []
    for g in groups:
        reached = {s.stage: s.reached for s in g.steps}
        n = g.entered
        out.append({"group": names.get(g.key, g.key), "key": g.key, "contacts": n, "mql": reached.get("mql", 0),
                    "sal": reached.get("sal", 0), "opportunity": reached.get("opportunity", 0),
                    "customer": reached.get("customer", 0),
                    "lead_to_mql": reached.get("mql", 0) / n if n else None,
                    "mql_to_sal": reached.get("sal", 0) / reached["mql"] if reached.get("mql") else None,
                    "lead_to_customer": g.conversion_rate})
    return out


def funnel(*, period: Period, filters: dict[str, str] | None = None, dimension: str = "source") -> FunnelData:
    """Cohort funnel of a period, with conversion broken down by one dimension; one filter narrows the stages to
    that group of the grouped query (the same numbers `smarketing funnel --by <dimension>` prints for it)."""
    active = {k: v for k, v in (filters or {}).items() if k in DIMENSIONS and v}
    dimension = dimension if dimension in DIMENSIONS else "source"
    note = ""
    if len(active) > 1:
        first = next(iter(active))
        note = f"One filter at a time: showing {DIMENSIONS[first].lower()} = {active[first]}."
        active = {first: active[first]}
    data = FunnelData(period=period, cohort_size=0, stages=[], dimension=dimension, filters=active, note=note,
                      spec=funnel_spec(period, by=dimension))
    # Ask for every spec the page needs first, so the worker gets them queued together.
    pdim = next(iter(active), None)
    grouped = query_result("funnel", funnel_spec(period, by=dimension))
    by_filter = grouped if pdim in (None, dimension) else query_result("funnel", funnel_spec(period, by=pdim))
    pipe = query_result("funnel", {**funnel_spec(period, by=pdim), "to_stage": "opportunity"})
    if grouped is None:
        data.computing = True
        return data
    data.breakdown = breakdown_rows(grouped, dimension)
    data.options = {dimension: [g.key for g in grouped.groups][:200]}
    group: Any = grouped.total
    if active:
        (fdim, fval), = active.items()
        if by_filter is None:
            data.computing = True
            return data
        data.options[fdim] = [g.key for g in by_filter.groups][:200]
        group = next((g for g in by_filter.groups if g.key == fval), None)
        data.spec = funnel_spec(period, by=fdim)
        if group is None:
            data.stages = [StageRow(s, SHORT[s], 0, None, None) for s in STAGES]
            return data
    data.stages = stage_rows(group)
    data.cohort_size = group.entered
    # The opportunity row's value: pipeline of the cohort's contacts that reached opportunity (lead → opportunity).
    if pipe is not None:
        pgroup = pipe.total if pdim is None else next((g for g in pipe.groups if g.key == active[pdim]), None)
        for r in data.stages:
            if r.stage == "opportunity" and pgroup is not None:
                r.value = pgroup.pipeline_value
    return data
