"""Reads of the SLA: compliance of both sides and worker health (the handoff queue is in `selectors_queue`).

Compliance is computed from the recorded history only: SlaEvent rows (met / breached) for sales, StageChange
and HandoffDecision rows for marketing.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet

from smarketing.core import clock
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockKind, ClockState, SlaEventKind, SlaSide
from smarketing.lifecycle.models import (
    Notification,
    SlaClock,
    SlaEvent,
)
from smarketing.playbook.selectors import playbook_active_terms

SALES_KINDS = (ClockKind.FIRST_TOUCH, ClockKind.DECISION)


def marketing_period_counts(*, period: sla_rules.Period, tz: str) -> dict[str, int]:
    """MQLs that entered in a period and how sales decided on them: the `mqls_entered` measure and its cohort."""
    from smarketing.analytics.metrics.lifecycle import mql_cohort_counts

    lo, hi = period.bounds_utc(tz)
    return mql_cohort_counts(start=lo, end=hi)


def sales_sla_events(*, start: datetime, end: datetime) -> QuerySet[SlaEvent]:
    """Met and breached events of the sales clocks that started in [start, end): what compliance counts."""
    return SlaEvent.objects.filter(clock__side=SlaSide.SALES, clock__started_at__gte=start, clock__started_at__lt=end,
                                   kind__in=[SlaEventKind.MET, SlaEventKind.BREACHED])


def _bucket() -> dict[str, Any]:
    return {"met": 0, "breached": 0, "open": 0, "cancelled": 0}


def _finish(b: dict[str, Any], target: float) -> dict[str, Any]:
    b["measured"] = b["met"] + b["breached"]
    b["within_sla_rate"] = sla_rules.rate(b["met"], b["measured"])
    b["target"] = target
    b["meets_target"] = None if b["within_sla_rate"] is None else b["within_sla_rate"] >= target
    return b


def sla_compliance(*, period_kind: str = "", period_key: str = "", now: datetime | None = None,
                   target: float = sla_rules.SALES_WITHIN_SLA_TARGET, start: datetime | None = None, end: datetime | None = None,
                   key: str = "") -> dict[str, Any]:
    """Both sides of the SLA for one period: sales per team and person, marketing against its commitment.

    The period is a marketing SLA period (`period_kind` and `period_key`, default the current one) or any
    bounds [start, end) given as local midnights (a reporting period; `key` names it). A sales clock belongs to
    the period in which it started; `target` is the within-SLA share the report flags against (the playbook sets
    deadlines, not a share, so 90 % is the house default).
    """
    now = now or clock.now()
    _, terms = playbook_active_terms()
    tz = terms.sla.calendar.timezone
    kind = period_kind or terms.sla.marketing.period
    if start is not None and end is not None:
        zone = ZoneInfo(tz)
        period = sla_rules.Period(key or f"{start.astimezone(zone).date()}..{end.astimezone(zone).date()}",
                                  start.astimezone(zone).date(), end.astimezone(zone).date())
        lo, hi = start, end
    else:
        period = sla_rules.period_parse(kind, period_key) if period_key else sla_rules.period_at(kind, now, tz)
        lo, hi = period.bounds_utc(tz)

    clocks = SlaClock.objects.filter(side=SlaSide.SALES, started_at__gte=lo, started_at__lt=hi)
    overall: dict[str, dict[str, Any]] = {str(k): _bucket() for k in SALES_KINDS}
    teams: dict[str, dict[str, dict[str, Any]]] = defaultdict(lambda: {str(k): _bucket() for k in SALES_KINDS})
    people: dict[int | None, dict[str, dict[str, Any]]] = defaultdict(lambda: {str(k): _bucket() for k in SALES_KINDS})
    names: dict[int | None, tuple[str, str]] = {}
    events = (sales_sla_events(start=lo, end=hi)
              .values("clock_kind", "kind", "owner_id", "owner__username", "owner__first_name",
                      "owner__last_name", "team").annotate(n=Count("id")))
    for row in events:
        ck, state, n = row["clock_kind"], row["kind"], row["n"]
        overall[ck][state] += n
        teams[row["team"] or "(no team)"][ck][state] += n
        people[row["owner_id"]][ck][state] += n
        full = f"{row['owner__first_name'] or ''} {row['owner__last_name'] or ''}".strip()
        names[row["owner_id"]] = (full or row["owner__username"] or "(unassigned)", row["team"])
    open_rows = (clocks.filter(state__in=[ClockState.OPEN, ClockState.CANCELLED])
                 .values("kind", "state", "owner_id", "owner__username", "owner__first_name", "owner__last_name",
                         "team").annotate(n=Count("id")))
    for orow in open_rows:
        state = "open" if orow["state"] == ClockState.OPEN else "cancelled"
        overall[orow["kind"]][state] += orow["n"]
        teams[orow["team"] or "(no team)"][orow["kind"]][state] += orow["n"]
        people[orow["owner_id"]][orow["kind"]][state] += orow["n"]
        full = f"{orow['owner__first_name'] or ''} {orow['owner__last_name'] or ''}".strip()
        names.setdefault(orow["owner_id"], (full or orow["owner__username"] or "(unassigned)", orow["team"]))

    from smarketing.analytics.metrics.lifecycle import mql_cohort_counts

    counts = mql_cohort_counts(start=lo, end=hi)
    today = now.astimezone(ZoneInfo(tz)).date()
    verdict = sla_rules.marketing_verdict(terms.sla.marketing, period, today=today, **counts)
    return {
        "period": period.key, "period_kind": kind, "start": lo.isoformat(), "end": hi.isoformat(),
        "sales": {
            "first_touch_business_hours": terms.sla.sales.first_touch_business_hours,
            "decision_business_days": terms.sla.sales.decision_business_days,
            "overall": {k: _finish(v, target) for k, v in overall.items()},
            "teams": [{"team": t, **{k: _finish(v, target) for k, v in b.items()}} for t, b in sorted(teams.items())],
            "people": [{"owner_id": oid, "name": names.get(oid, ("(unassigned)", ""))[0],
                        "team": names.get(oid, ("", ""))[1], **{k: _finish(v, target) for k, v in b.items()}}
                       for oid, b in sorted(people.items(), key=lambda kv: names.get(kv[0], ("", ""))[0])],
        },
        "marketing": verdict.as_dict(),
    }


def sla_status(*, now: datetime | None = None) -> dict[str, Any]:
    """Where the SLA stands now: open and overdue clocks, recent breaches, this period's compliance, the worker."""
    from django_tasks_db.models import DBTaskResult

    from smarketing.lifecycle.tasks import sla_check

    now = now or clock.now()
    open_clocks = SlaClock.objects.filter(state=ClockState.OPEN)
    agg = open_clocks.aggregate(open=Count("id"), overdue=Count("id", filter=Q(deadline__lte=now)))
    recent = (SlaEvent.objects.filter(kind=SlaEventKind.BREACHED).select_related("owner", "contact")
              .order_by("-occurred_at", "-id")[:10])
    last_run = (DBTaskResult.objects.filter(task_path=sla_check.module_path, status="SUCCESSFUL")
                .order_by("-finished_at").values_list("finished_at", flat=True).first())
    scheduled = (DBTaskResult.objects.filter(task_path=sla_check.module_path, status="READY")
                 .order_by("run_after").values_list("run_after", flat=True).first())
    return {
        "now": now.isoformat(),
        "open_clocks": agg["open"], "overdue_unprocessed": agg["overdue"],
        "recent_breaches": [{"event_id": e.pk, "clock_kind": e.clock_kind, "contact_id": e.contact_id,
                             "contact": e.contact.name if e.contact else "", "owner": str(e.owner or ""),
                             "team": e.team, "deadline": e.deadline.isoformat() if e.deadline else None}
                            for e in recent],
        "worker": {"last_sla_check_at": last_run.isoformat() if last_run else None,
                   "next_sla_check_at": scheduled.isoformat() if scheduled else None},
        "compliance": sla_compliance(now=now),
    }


def notification_list(*, user_id: int, unread_only: bool = False, limit: int = 50) -> list[Notification]:
    """A user's notifications, newest first."""
    qs = Notification.objects.filter(user_id=user_id).select_related("contact")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    return list(qs.order_by("-created_at", "-id")[:limit])


def sla_event_list(*, contact_id: int | None = None, kind: str = "", limit: int = 200) -> list[SlaEvent]:
    """SLA events, newest first."""
    qs = SlaEvent.objects.select_related("owner", "contact", "clock")
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.order_by("-occurred_at", "-id")[:limit])
