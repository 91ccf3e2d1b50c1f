"""Read-only page helpers over campaigns, feedback, the handoff queue and journeys.

Each is a stand-in the owning app can replace with its own selector; the pages call them through
`smarketing.web.integrations`, which prefers the owning app's code when it exists.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Count, Q, Sum

from smarketing.campaigns.enums import TouchKind
from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.crm.models import Contact, Opportunity
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.schema import Playbook
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


@dataclass(frozen=True)
class TouchView:
    occurred_at: datetime
    kind: str
    label: str
    campaign: str
    actor: str = ""  # the rep who made a sales touch, when recorded
    by_other: bool = False  # made by someone other than the lead's owner: it does not stop the owner's SLA clock


@dataclass
class _LineView:
    description: str
    points: float
    count: int


@dataclass
class _ScoreView:
    fit: float
    engagement: float
    total: float
    lines: list[_LineView]
    when: str


@dataclass
class QueueItem:
    contact: Contact
    mql_at: datetime
    mql_change_id: int
    deadline: datetime | None
    score: Any = None
    touches: list[TouchView] = field(default_factory=list)
    assigned_reason: str = ""


def handoff_queue(*, terms: Playbook, owner_id: int | None = None, limit: int = 50) -> list[QueueItem]:
    """MQLs waiting for a sales decision, oldest first, with their last touches and a live score explanation."""
    from smarketing.scoring import rules

    contacts = Contact.objects.filter(lifecycle_stage=Stage.MQL).select_related("account", "owner")
    if owner_id:
        contacts = contacts.filter(owner_id=owner_id)
    waiting = {c.pk: c for c in contacts.order_by("id")[: limit * 4]}
    # The latest MQL change per contact, by the (contact, occurred_at) index: one small query.
    mql_at: dict[int, datetime] = {}
    change_ids: dict[int, int] = {}
    details: dict[int, Any] = {}
    for cid, pk, at, det in (StageChange.objects.filter(contact_id__in=list(waiting), to_stage=Stage.MQL)
                             .order_by("contact_id", "occurred_at", "id")
                             .values_list("contact_id", "id", "occurred_at", "details")):
        mql_at[cid], change_ids[cid], details[cid] = at, pk, det
    picked = sorted(waiting.values(), key=lambda c: mql_at.get(c.pk) or c.created_at)[:limit]
    touches: dict[int, list[TouchView]] = defaultdict(list)
    labels = dict(TouchKind.choices)
    owners = {c.pk: c.owner_id for c in picked}
    for cid, kind, at, camp, actor_id, actor in (
            Touchpoint.objects.filter(contact_id__in=[c.pk for c in picked]).order_by("-occurred_at")
            .values_list("contact_id", "kind", "occurred_at", "campaign__name", "actor_id", "actor__username")):
        touches[cid].append(TouchView(at, kind, labels.get(kind, kind), camp or "", actor or "",
                                      by_other=actor_id is not None and actor_id != owners.get(cid)))
    from smarketing.core import clock

    now = clock.now()
    picked_changes = [change_ids[c.pk] for c in picked if c.pk in change_ids]
    from smarketing.lifecycle.models import Assignment

    reasons = dict(Assignment.objects.filter(mql_change_id__in=picked_changes).order_by("assigned_at", "id")
                   .values_list("contact_id", "reason"))
    items = []
    for c in picked:
        tps = touches.get(c.pk, [])
        at = mql_at.get(c.pk) or c.created_at
        at_mql = (details.get(c.pk) or {}).get("score")
        if at_mql and at_mql.get("explanation") is not None:
            # The score that made it an MQL, as routing recorded it, so sales sees why it arrived.
            score: Any = _ScoreView(at_mql["fit"], at_mql["engagement"], at_mql["total"],
                                    [_LineView(x.get("description", x.get("rule_id", "")), x.get("points", 0),
                                               x.get("count", 1)) for x in at_mql["explanation"]], when="at MQL")
        else:
            account = ({"industry": c.account.industry, "employees": c.account.employees,
                        "region": c.account.region, "segment": c.account.segment} if c.account else None)
            facts = rules.facts_from({"email": c.email, "title": c.title, "buying_role": c.buying_role,
                                      "country": c.country, "lead_source": c.lead_source,
                                      "attributes": c.attributes or {}}, account)
            live = rules.score_contact(terms.scoring, facts, [rules.Touch(t.kind, t.occurred_at) for t in tps], now)
            score = _ScoreView(live.fit, live.engagement, live.total,
                               [_LineView(x.description, x.points, x.count) for x in live.explanation], when="now")
        score.lines.sort(key=lambda x: -abs(x.points))
        items.append(QueueItem(contact=c, mql_at=at, mql_change_id=change_ids.get(c.pk, 0), deadline=None,
                               score=score, touches=tps[:8], assigned_reason=reasons.get(c.pk, "")))
    return items


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


def sla_clocks_for(mql_change_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The lifecycle's SLA clocks of some MQLs (latest generation per kind), read-only, for the queue's countdowns."""
    from smarketing.lifecycle.models import SlaClock

    out: dict[int, dict[str, Any]] = defaultdict(dict)
    for c in SlaClock.objects.filter(mql_change_id__in=mql_change_ids).order_by("generation", "id"):
        out[c.mql_change_id][c.kind] = c
    return out
