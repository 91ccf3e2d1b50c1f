"""SLA compliance and week-over-week changes for the scoreboard (read-only); pacing is in `web.data.goals`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Min, Sum

from smarketing.campaigns.models import Touchpoint
from smarketing.core import clock
from smarketing.crm.models import Contact, Opportunity
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.schema import Playbook
from smarketing.web.data.common import cached
from smarketing.web.periods import Period


def _weekdays_between(a: datetime, b: datetime) -> float:
    """Elapsed weekday time in days between two moments (weekends skipped; holidays and hours ignored)."""
    if b <= a:
        return 0.0
    total, t = 0.0, a
    while t < b:
        nxt = min(b, (t + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0))
        if t.weekday() < 5:
            total += (nxt - t).total_seconds() / 86400
        t = nxt
    return total


@dataclass
class SlaSide:
    side: str
    measure: str
    value: float | None
    target: float | None
    ok: bool | None
    detail: str
    rows: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "pct"


SALES_TARGET = 0.9  # the playbook sets deadlines, not a share; 90 % on time is the house default (as lifecycle's)


def _sales_from_clocks(period: Period) -> list[SlaSide]:
    """Sales' side from the lifecycle SLA clocks (business hours, holidays) when the period is a month or quarter."""
    from smarketing.web import integrations

    compliance = integrations.optional("smarketing.lifecycle.selectors_sla", "sla_compliance")
    kind = "quarter" if "-Q" in period.key else ("month" if len(period.key) == 7 and period.key[4] == "-" else "")
    if compliance is None or not kind:
        return []
    report, _err = integrations.safe(compliance, period_kind=kind, period_key=period.key, target=SALES_TARGET)
    if not report:
        return []
    sales = report["sales"]
    labels = {"first_touch": f"First touch within {sales['first_touch_business_hours']:g} business hours",
              "decision": f"MQLs decided within {sales['decision_business_days']:g} business days"}
    out = []
    for key, label in labels.items():
        b = sales["overall"].get(key) or {}
        if not b.get("measured") and not b.get("open"):
            continue
        out.append(SlaSide("sales", label, b.get("within_sla_rate"), b.get("target", SALES_TARGET),
                           b.get("meets_target"),
                           f"{b.get('met', 0)} met, {b.get('breached', 0)} breached, {b.get('open', 0)} still open "
                           "(SLA clocks, business hours)", kind="pct"))
    return out


DECIDED = {Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.RECYCLED, Stage.DISQUALIFIED}


def sla_compliance(*, terms: Playbook | None, period: Period) -> list[SlaSide]:
    """Both sides of the SLA: sales decides MQLs in time; marketing sends enough MQLs that sales accepts."""
    if terms is None:
        return []

    def compute() -> list[SlaSide]:
        mqls = list(StageChange.objects.filter(to_stage=Stage.MQL, contact__isnull=False,
                                               occurred_at__gte=period.start, occurred_at__lt=period.end)
                    .values_list("contact_id", "occurred_at"))
        ids = [c for c, _ in mqls]
        decisions: dict[int, tuple[datetime, str]] = {}
        for cid, stage, at in (StageChange.objects.filter(contact_id__in=ids, to_stage__in=[s.value for s in DECIDED])
                               .values_list("contact_id", "to_stage", "occurred_at").order_by("occurred_at")):
            decisions.setdefault(cid, (at, stage))
        limit = terms.sla.sales.decision_business_days
        in_time = late = open_ = accepted = rejected = 0
        now = clock.now()
        for cid, at in mqls:
            dec = decisions.get(cid)
            if dec is None or dec[0] < at:
                open_ += 1
                if _weekdays_between(at, now) > limit:
                    late += 1
                continue
            if _weekdays_between(at, dec[0]) <= limit:
                in_time += 1
            else:
                late += 1
            if dec[1] in (Stage.RECYCLED, Stage.DISQUALIFIED):
                rejected += 1
            else:
                accepted += 1
        decided_total = in_time + late
        sales_rate = in_time / decided_total if decided_total else None
        months = max(period.days / 30.4, 0.03)
        per = {"week": 12 / 52, "month": 1.0, "quarter": 3.0}[terms.sla.marketing.period]
        volume_target = terms.sla.marketing.mql_volume * months / per
        acc_rate = accepted / (accepted + rejected) if accepted + rejected else None
        min_acc = terms.sla.marketing.min_acceptance_rate
        sales_rows = _sales_from_clocks(period) or [
            SlaSide("sales", f"MQLs decided within {limit:g} business days", sales_rate, SALES_TARGET,
                    None if sales_rate is None else sales_rate >= SALES_TARGET,
                    f"{in_time} in time, {late} late, {open_} still open of {len(mqls)} MQLs "
                    "(weekdays counted; SLA clocks not recorded for this period)", kind="pct")]
        return [
            *sales_rows,
            SlaSide("marketing", "MQL volume", float(len(mqls)), volume_target, len(mqls) >= volume_target,
                    f"{len(mqls)} MQLs against {volume_target:,.0f} promised for the period "
                    f"({terms.sla.marketing.mql_volume} per {terms.sla.marketing.period})", [], kind="int"),
            SlaSide("marketing", "MQL acceptance rate", acc_rate, min_acc,
                    None if acc_rate is None else acc_rate >= min_acc,
                    f"{accepted} accepted, {rejected} rejected or recycled", []),
        ]

    return cached("sla", (period.key, period.start, clock.now().date()), compute)


@dataclass
class Change:
    label: str
    kind: str
    this_week: float
    last_week: float

    @property
    def delta(self) -> float:
        return self.this_week - self.last_week


def week_changes() -> list[Change]:
    """This week (last 7 days) against the 7 days before it."""
    now = clock.now()

    def window(days_back: int) -> tuple[datetime, datetime]:
        return now - timedelta(days=days_back), now - timedelta(days=days_back - 7)

    def compute() -> list[Change]:
        def stage_counts(a: datetime, b: datetime) -> dict[str, int]:
            return {r["to_stage"]: r["n"] for r in StageChange.objects.filter(occurred_at__gte=a, occurred_at__lt=b)
                    .values("to_stage").annotate(n=Count("id")).order_by()}

        out: dict[str, list[float]] = {}
        for a, b in (window(7), window(14)):
            sc = stage_counts(a, b)
            opened = Opportunity.objects.filter(opened_at__gte=a, opened_at__lt=b).aggregate(
                n=Count("id"), v=Sum("amount"))
            won = Opportunity.objects.filter(outcome="won", closed_at__gte=a, closed_at__lt=b).aggregate(v=Sum("amount"))
            vals = {
                "New leads": sc.get(Stage.LEAD, 0), "New MQLs": sc.get(Stage.MQL, 0),
                "MQLs accepted (SAL)": sc.get(Stage.SAL, 0),
                "MQLs recycled or disqualified": sc.get(Stage.RECYCLED, 0) + sc.get(Stage.DISQUALIFIED, 0),
                "Opportunities opened": opened["n"] or 0, "Pipeline opened": float(opened["v"] or 0),
                "Revenue won": float(won["v"] or 0),
                "Touchpoints": Touchpoint.objects.filter(occurred_at__gte=a, occurred_at__lt=b).count(),
                "Feedback items": FeedbackItem.objects.filter(occurred_at__gte=a, occurred_at__lt=b).count(),
            }
            for k, v in vals.items():
                out.setdefault(k, []).append(float(v))
        money = {"Pipeline opened", "Revenue won"}
        return [Change(k, "money" if k in money else "int", v[0], v[1]) for k, v in out.items()]

    return cached("changes", now.strftime("%Y-%m-%d %H"), compute)


def data_span() -> tuple[datetime | None, datetime | None]:
    """First and last recorded stage change, so empty periods can point at where data is."""
    agg = StageChange.objects.aggregate(a=Min("occurred_at"))
    last = StageChange.objects.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    return agg["a"], last


def contact_count() -> int:
    return Contact.objects.count()
