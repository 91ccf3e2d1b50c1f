"""Read-only page helpers over campaigns, feedback, the handoff queue and journeys.

Each is a stand-in the owning app can replace with its own selector; the pages call them through
`smarketing.web.integrations`, which prefers the owning app's code when it exists.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, Sum

from smarketing.campaigns.models import Campaign
from smarketing.crm.models import Opportunity
from smarketing.feedback.models import FeedbackItem
from smarketing.web.data.common import cached
from smarketing.web.periods import Period


def campaign_rows(*, period: Period | None = None) -> list[dict[str, Any]]:
    """Campaigns with cost, touches and contacts reached (attribution comes from the analytics)."""

    def compute() -> list[dict[str, Any]]:
        tq = Q()
        if period is not None:
            tq = Q(touchpoints__occurred_at__gte=period.start, touchpoints__occurred_at__lt=period.end)
        qs = (Campaign.objects.annotate(touches=Count("touchpoints", filter=tq),
                                        contacts=Count("touchpoints__contact", filter=tq, distinct=True))
              .values("id", "name", "channel", "type", "start_date", "end_date", "budget", "actual_cost", "touches",
                      "contacts").order_by("-actual_cost", "id"))
        return [{**r, "budget": float(r["budget"]), "cost": float(r["actual_cost"])} for r in qs]

    return cached("campaign_rows", (period.key, period.start) if period else None, compute)


def feedback_by_kind(*, period: Period) -> list[dict[str, Any]]:
    """Feedback counts per kind in a period with the open pipeline of the accounts that said it."""

    def compute() -> list[dict[str, Any]]:
        items = FeedbackItem.objects.filter(occurred_at__gte=period.start, occurred_at__lt=period.end)
        counts = {r["kind"]: r["n"] for r in items.values("kind").annotate(n=Count("id")).order_by()}
        accounts: dict[str, set[int]] = defaultdict(set)
        for kind, acc in items.exclude(account__isnull=True).values_list("kind", "account_id").distinct():
            accounts[kind].add(acc)
        open_by_account = dict(Opportunity.objects.filter(outcome="open").values("account_id")
                               .annotate(v=Sum("amount")).values_list("account_id", "v").order_by())
        out = [{"theme": k, "items": n, "accounts": len(accounts[k]),
                "revenue_at_stake": float(sum(open_by_account.get(a) or 0 for a in accounts[k]))}
               for k, n in counts.items()]
        return sorted(out, key=lambda r: -r["revenue_at_stake"])

    return cached("feedback_by_kind", (period.key, period.start), compute)


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
    from datetime import timedelta

    last_day = (period.end - timedelta(microseconds=1)).date()
    return {"start": period.start.date().isoformat(), "end": last_day.isoformat(), "top": 10}


def journeys(*, period: Period, which: str = "new_customer") -> JourneyData:
    """Directly-follows edges, top paths and conformance to an ideal journey, from the analytics `journeys` query."""
    from smarketing.web.data.common import query_result

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
    """Active feedback themes with volume, a weekly trend and revenue at stake (open pipeline + ARR of the accounts).

    Figures come from the feedback app's `theme_rows` selector; the weekly trend is read here.
    """
    from datetime import timedelta

    from smarketing.feedback.models import ThemeAssignment
    from smarketing.web import integrations

    owned = integrations.optional("smarketing.feedback.theme_selectors", "theme_rows")

    def compute() -> list[dict[str, Any]]:
        if owned is None:
            return []
        rows = owned()
        if not rows:
            return []
        start = period.end - timedelta(days=7 * weeks)
        trend: dict[int, list[int]] = defaultdict(lambda: [0] * weeks)
        for tid, at in ThemeAssignment.objects.filter(theme_id__in=[r.id for r in rows], item__occurred_at__gte=start,
                                                      item__occurred_at__lt=period.end).values_list(
                "theme_id", "item__occurred_at"):
            trend[tid][min(int((at - start).days // 7), weeks - 1)] += 1
        out = [{"id": r.id, "theme": r.name, "key_phrases": ", ".join(r.key_phrases[:4]), "items": r.volume,
                "accounts": r.revenue.accounts, "trend": trend[r.id], "recent": sum(trend[r.id][-4:]),
                "sentiment": r.sentiment, "open_pipeline": float(r.revenue.open_pipeline), "arr": float(r.revenue.arr),
                "revenue_at_stake": float(r.revenue.at_stake)} for r in rows]
        return sorted(out, key=lambda r: -r["revenue_at_stake"])

    return cached("themes", (period.key, period.start, weeks), compute)


def insight_rows(*, status: str = "") -> list[Any]:
    """The insights inbox, newest first, through the feedback app's selector."""
    from smarketing.feedback.theme_selectors import insight_list

    return list(insight_list(status=status)[:50])
