"""Read-only page helpers: campaigns, feedback and journeys, composed from the owning apps' selectors and the
analytics `journeys` query kind (cached per data version)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from smarketing.campaigns.selectors import campaign_list
from smarketing.core import clock
from smarketing.feedback.selectors import feedback_kind_summary, theme_weekly_counts, themes_data_version
from smarketing.feedback.theme_selectors import insight_list
from smarketing.feedback.theme_selectors import theme_rows as theme_row_list
from smarketing.web.data.common import cached, page_figure, query_result
from smarketing.web.periods import Period, parse_period


def campaign_costs() -> list[dict[str, Any]]:
    """Every campaign with its budget and cost, costliest first: what a page lists while attribution is computed.
    No touch is counted: a count over the period's touches takes seconds on a large CRM, and the page's first
    answer must not wait for a figure that attribution replaces moments later (touches and contacts are None)."""

    def compute() -> list[dict[str, Any]]:
        rows = [{"id": c.pk, "name": c.name, "channel": c.channel, "type": c.type, "start_date": c.start_date,
                 "end_date": c.end_date, "budget": float(c.budget), "cost": float(c.actual_cost), "touches": None,
                 "contacts": None} for c in campaign_list()]
        return sorted(rows, key=lambda r: (-r["cost"], r["id"]))

    return cached("campaign_costs", None, compute)


def feedback_by_kind(*, period: Period) -> list[dict[str, Any]] | None:
    """Feedback counts per kind in a period with the open pipeline of the accounts that said it, or None while the
    worker computes it (a third of a second on a large CRM, on every first view of a period otherwise)."""
    result: list[dict[str, Any]] | None = page_figure("feedback_by_kind", {"period": period.key})
    return result


def _feedback_by_kind(args: dict[str, Any]) -> list[dict[str, Any]]:
    period = parse_period(args["period"])
    return feedback_kind_summary(occurred_after=period.start, occurred_before=period.end)


# The page figures the worker computes by name (`web.data.common.page_figure`).
PAGE_FIGURES: dict[str, Callable[[dict[str, Any]], Any]] = {"feedback_by_kind": _feedback_by_kind}


@dataclass
class JourneyData:
    """The journeys page's view of the analytics `JourneysResult` for one ideal journey."""

    cases: int
    events: int
    edges: list[tuple[str, str, int]]
    variants: list[tuple[str, int, float, int]]
    conformance: float | None
    ideal: list[str]
    ideal_name: str
    subjects: int
    fitting: int
    conversion_conforming: float | None = None
    conversion_non_conforming: float | None = None
    deviations: list[dict[str, Any]] = field(default_factory=list)
    computing: bool = False
    spec: dict[str, Any] = field(default_factory=dict)


def _label(kind: str) -> str:
    return kind.replace("stage:", "▸ ").replace("_", " ")


def journeys_spec(period: Period) -> dict[str, Any]:
    """The analytics spec for contacts' events in a period (end day inclusive, as `smarketing journeys`)."""
    return {"start": period.first_day.isoformat(), "end": period.last_day.isoformat(), "top": 10}


def journeys(*, period: Period, which: str = "new_customer") -> JourneyData:
    """Directly-follows edges, top paths and conformance to an ideal journey, from the analytics `journeys` query."""
    which = which if which in ("new_customer", "existing_customer") else "new_customer"
    spec = journeys_spec(period)
    name = which.replace("_", " ")
    result = query_result("journeys", spec)
    if result is None:
        return JourneyData(cases=0, events=0, edges=[], variants=[], conformance=None, ideal=[], ideal_name=name,
                           subjects=0, fitting=0, computing=True, spec=spec)
    conf = next((c for c in result.conformance if c.journey == which), None)
    edges = sorted(result.edges, key=lambda e: (-e.count, e.source, e.target))[:18]
    variants = [(" → ".join(_label(k) for k in p.path[:8]) + (" …" if len(p.path) > 8 else ""), p.subjects, p.share,
                 p.converted) for p in result.top_paths]
    ideal = [_label(s.rstrip("?")) + (" (optional)" if s.endswith("?") else "") for s in (conf.steps if conf else [])]
    deviations = [{"step": _label(d.step), "subjects": d.subjects, "skipped": d.skipped, "stopped": d.stopped}
                  for d in (conf.deviations if conf else [])]
    return JourneyData(cases=result.subjects, events=result.events,
                       edges=[(_label(e.source), _label(e.target), e.count) for e in edges], variants=variants,
                       conformance=conf.conformance_rate if conf else None, ideal=ideal, ideal_name=name,
                       subjects=conf.subjects if conf else 0, fitting=conf.conforming if conf else 0,
                       conversion_conforming=conf.conversion_conforming if conf else None,
                       conversion_non_conforming=conf.conversion_non_conforming if conf else None,
                       deviations=deviations, spec=spec)


def theme_rows(*, period: Period, weeks: int = 8) -> list[dict[str, Any]]:
    """Active feedback themes with volume, a weekly trend and revenue at stake (open pipeline + ARR of the accounts),
    from the feedback app's `theme_rows` and `theme_weekly_counts` selectors."""

    # The trend ends today while the period runs (no weeks in the future), else at the period's end.
    before = min(period.end, clock.now())
    week_starts = [(before - timedelta(days=7 * (weeks - i))).date() for i in range(weeks)]

    def compute() -> list[dict[str, Any]]:
        rows = theme_row_list()
        trend = theme_weekly_counts(theme_ids=[r.id for r in rows], weeks=weeks, before=before)
        out = [{"id": r.id, "theme": r.name, "key_phrases": ", ".join(r.key_phrases[:4]), "items": r.volume,
                "accounts": r.revenue.accounts, "trend": trend[r.id], "trend_weeks": week_starts,
                "recent": sum(trend[r.id][-4:]),
                "sentiment": r.sentiment, "open_pipeline": float(r.revenue.open_pipeline), "arr": float(r.revenue.arr),
                "revenue_at_stake": float(r.revenue.at_stake)} for r in rows]
        return sorted(out, key=lambda r: -r["revenue_at_stake"])

    # Why the themes' own fingerprint: a theme run or a rename changes this list without changing the data version.
    return cached("themes", (period.key, period.start, weeks, before.date(), themes_data_version()), compute)


def insight_rows(*, status: str = "") -> list[Any]:
    """The insights inbox, largest revenue at stake first, through the feedback app's selector."""
    return list(insight_list(status=status)[:50])
