"""The funnel pages' figures, from the analytics `funnel` query kind (the spec the API and CLI run).

The web only reshapes the typed `FunnelResult`: stage rows for the waterfall, group rows for the breakdown.
The cohort is every contact whose first funnel stage falls in the period (skipped stages count as reached),
narrowed by the spec's filters (fields ANDed, values of one field ORed).
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from smarketing.analytics.metrics import Change, change
from smarketing.analytics.metrics.definitions import Better
from smarketing.campaigns.selectors import campaign_names
from smarketing.crm.selectors import contact_field_values, contact_owner_names
from smarketing.web.data.common import cached, query_result
from smarketing.web.periods import Period
from smarketing.web.templatetags.measures import measure_href

DIMENSIONS = {"source": "Lead source", "campaign": "First campaign", "segment": "Segment", "owner": "Owner",
              "country": "Country", "cohort_month": "Cohort month"}
STAGES = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
SHORT = {"lead": "Lead", "mql": "MQL", "sal": "SAL", "sql": "SQL", "opportunity": "Opportunity",
         "customer": "Customer"}
# The cohort measure that counts each stage of the lead → customer funnel.
COHORT_MEASURES = {"lead": "cohort_entered", "mql": "cohort_reached_mql", "sal": "cohort_reached_sal",
                   "sql": "cohort_reached_sql",
                   "opportunity": "cohort_reached_opportunity", "customer": "cohort_reached_customer"}
# The measures the funnel page shows: the cohort's stages, and MQLs entered beside them.
FUNNEL_MEASURES = (*COHORT_MEASURES.values(), "mqls_entered")
NONE_KEY = "(none)"  # the key the funnel query gives a missing value, in groups and in filters
OPTIONS_MAX = 200


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
    filters: dict[str, list[str]] = field(default_factory=dict)
    computing: bool = False
    note: str = ""
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def cli(self) -> str:
        """The `smarketing funnel` command that prints these numbers."""
        return cli_command(self.spec)


def funnel_spec(period: Period, *, by: str | None = None,
                filters: Mapping[str, list[str]] | None = None) -> dict[str, Any]:
    """The analytics spec of a period's lead-to-customer cohort funnel: the period's local days (the end day
    inclusive, as in the CLI) in its time zone, so the cohort is the one the `cohort_*` measures count."""
    return {"from_stage": "lead", "to_stage": "customer", "start": period.first_day.isoformat(),
            "end": period.last_day.isoformat(), "timezone": period.timezone, "by": by, "filters": dict(filters or {})}


def cli_command(spec: Mapping[str, Any]) -> str:
    """The equivalent `smarketing funnel … --json` command line, quoted for a shell."""
    args = ["smarketing", "funnel", "--from", spec["from_stage"], "--to", spec["to_stage"], "--start", spec["start"],
            "--end", spec["end"]]
    if spec.get("timezone"):
        args += ["--timezone", spec["timezone"]]
    if spec.get("by"):
        args += ["--by", spec["by"]]
    for name, values in (spec.get("filters") or {}).items():
        for value in values:
            args += ["--where", f"{name}={value}"]
    return shlex.join([*args, "--json"])


def clean_filters(raw: Mapping[str, Iterable[str]]) -> dict[str, list[str]]:
    """Filters from the page's address (`?source=webinar&source=referral&segment=enterprise`): known dimensions,
    blank values dropped, one spelling (the analytics spec validates the values themselves)."""
    out = {}
    for name in DIMENSIONS:
        values = sorted({v.strip() for v in raw.get(name, ()) if v.strip()})
        if values:
            out[name] = values
    return out


def filter_options() -> dict[str, list[tuple[str, str]]]:
    """(value, label) choices per filterable dimension: the values present in the CRM, and "(none)"."""
    return cached("funnel:filter-options", OPTIONS_MAX, _filter_options)


def _filter_options() -> dict[str, list[tuple[str, str]]]:
    def labelled(values: list[str]) -> list[tuple[str, str]]:
        return [(v, v.replace("_", " ")) for v in values]

    none = (NONE_KEY, "none")
    owners = contact_owner_names(limit=OPTIONS_MAX)
    return {
        "source": [*labelled(contact_field_values(field="lead_source", limit=OPTIONS_MAX)), none],
        "campaign": [*labelled(campaign_names(limit=OPTIONS_MAX)), none],
        "segment": [*labelled(contact_field_values(field="segment", limit=OPTIONS_MAX)), none],
        "owner": [*[(str(pk), name) for pk, name in owners.items()], none],
        "country": [*labelled(contact_field_values(field="country", limit=OPTIONS_MAX)), none],
    }


def filters_label(filters: Mapping[str, list[str]], options: Mapping[str, list[tuple[str, str]]]) -> str:
    """`Lead source: paid search or webinar; Owner: sales1` (what a table or an export shows), or ""."""
    parts = []
    for name, values in filters.items():
        labels = dict(options.get(name, ()))
        parts.append(f"{DIMENSIONS.get(name, name)}: {' or '.join(labels.get(v, v) for v in values)}")
    return "; ".join(parts)


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
    names = contact_owner_names(limit=10_000)
    return {k: names[int(k)] for k in keys if k.isdigit() and int(k) in names}


def breakdown_rows(result: Any, dimension: str) -> list[dict[str, Any]]:
    """One row per group of a grouped `FunnelResult` (largest first, at most 15): volumes, the conversion of each
    step as the funnel query computed it, the median days to MQL and the won value."""
    groups = list(result.groups)[:15]
    names = _owner_names([g.key for g in groups]) if dimension == "owner" else {}
    out = []
    for g in groups:
        steps = {s.stage: s for s in g.steps}
        reached = {stage: step.reached for stage, step in steps.items()}

        def rate(stage: str, steps: dict[str, Any] = steps) -> float | None:
            return steps[stage].conversion_from_previous if stage in steps else None

        mql_step = steps.get("mql")
        out.append({"group": names.get(g.key, g.key), "key": g.key, "contacts": g.entered,
                    "mql": reached.get("mql", 0), "sal": reached.get("sal", 0), "sql": reached.get("sql", 0),
                    "opportunity": reached.get("opportunity", 0), "customer": reached.get("customer", 0),
                    "lead_to_mql": reached.get("mql", 0) / g.entered if g.entered else None,
                    "mql_to_sal": reached.get("sal", 0) / reached["mql"] if reached.get("mql") else None,
                    "mql_to_sql": reached.get("sql", 0) / reached["mql"] if reached.get("mql") else None,
                    "sql_to_opportunity": rate("opportunity"), "opportunity_to_customer": rate("customer"),
                    "lead_to_customer": g.conversion_rate,
                    "days_to_mql": mql_step.median_days_from_previous if mql_step else None,
                    "won_value": g.won_value})
    return out


# What the breakdown chart can show per group: (label, kind of value). Conversion is preferred as the default in
# this order, the first one that is not zero for every group (lead → customer is all zeros on a young cohort).
CHART_METRICS: dict[str, tuple[str, str]] = {
    "mql_to_sql": ("MQL → SQL conversion", "pct"),
    "mql_to_sal": ("MQL → SAL conversion", "pct"),
    "lead_to_mql": ("Lead → MQL conversion", "pct"),
    "sql_to_opportunity": ("SQL → opportunity conversion", "pct"),
    "opportunity_to_customer": ("Opportunity → customer conversion", "pct"),
    "lead_to_customer": ("Lead → customer conversion", "pct"),
    "contacts": ("Contacts entering (volume)", "int"),
    "mql": ("MQLs reached (volume)", "int"),
    "days_to_mql": ("Median days from lead to MQL (velocity)", "days"),
    "won_value": ("Won value", "money"),
}


# The records behind each chart metric of a group: the group's contacts of the cohort that reached the metric's
# stage (a conversion's numerator, a volume's contacts, a velocity's or a value's contacts who got there).
CHART_RECORDS: dict[str, str] = {
    "mql_to_sql": "cohort_reached_sql", "mql_to_sal": "cohort_reached_sal", "lead_to_mql": "cohort_reached_mql",
    "sql_to_opportunity": "cohort_reached_opportunity", "opportunity_to_customer": "cohort_reached_customer",
    "lead_to_customer": "cohort_reached_customer", "contacts": "cohort_entered", "mql": "cohort_reached_mql",
    "days_to_mql": "cohort_reached_mql", "won_value": "cohort_reached_customer",
}


def group_records_href(metric: str, period: Period, filters: Mapping[str, list[str]], dimension: str,
                       key: str) -> str:
    """The records behind a breakdown group's `metric`: its measure's drill-down for the period, the page's filters
    and the group's own value of `dimension` (the same link the measure's figures give)."""
    return measure_href(CHART_RECORDS[metric], period.key, {**filters, dimension: [key]})


def chart_metric(rows: list[dict[str, Any]], asked: str | None) -> str:
    """The breakdown chart's metric: the one asked for, else the first conversion in `CHART_METRICS` order with a
    non-zero value in some group, else the volume (pure)."""
    if asked in CHART_METRICS:
        return asked
    for name, (_label, kind) in CHART_METRICS.items():
        if kind == "pct" and any(r.get(name) for r in rows):
            return name
    return "contacts"


# Which way is good news for the funnel query's own figures (the measures carry theirs in their definition).
STAGE_FIGURES_BETTER: dict[str, Better] = {"conversion": "higher", "velocity_days": "lower", "value": "higher"}


def stage_changes(current: FunnelData, previous: FunnelData) -> dict[str, dict[str, Change]]:
    """Each stage's conversion, velocity and value against the same figures of the previous period's funnel (the
    same query for that period), as the metrics layer's changes."""
    before = {r.stage: r for r in previous.stages}
    return {r.stage: {name: change(getattr(r, name), getattr(before[r.stage], name), better)
                      for name, better in STAGE_FIGURES_BETTER.items()}
            for r in current.stages if r.stage in before}


def funnel(*, period: Period, filters: Mapping[str, list[str]] | None = None, dimension: str = "source") -> FunnelData:
    """Cohort funnel of a period, narrowed by filters, with conversion broken down by one dimension (the numbers
    `smarketing funnel --by <dimension> --where <field>=<value>…` prints)."""
    active = clean_filters(filters or {})
    dimension = dimension if dimension in DIMENSIONS else "source"
    spec = funnel_spec(period, by=dimension, filters=active)
    data = FunnelData(period=period, cohort_size=0, stages=[], dimension=dimension, filters=active, spec=spec)
    # Ask for every spec the page needs first, so the worker gets them queued together.
    grouped = query_result("funnel", spec)
    pipe = query_result("funnel", {**funnel_spec(period, filters=active), "to_stage": "opportunity"})
    if grouped is None:
        data.computing = True
        return data
    data.breakdown = breakdown_rows(grouped, dimension)
    data.stages = stage_rows(grouped.total)
    data.cohort_size = grouped.total.entered
    # The opportunity row's value: pipeline of the cohort's contacts that reached opportunity (lead → opportunity).
    if pipe is not None:
        for r in data.stages:
            if r.stage == "opportunity":
                r.value = pipe.total.pipeline_value
    return data
