"""Writes of the two-sided SLA: start clocks, meet them, record breaches exactly once and act on them.

Exactly once: each clock is processed in its own transaction under a row lock, and the database's unique
(clock, kind) constraint on SlaEvent refuses a second breach even if two workers or a restarted worker
race for the same clock. A worker killed mid-batch loses only its uncommitted transaction, which the next
pass redoes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from smarketing.core import clock
from smarketing.crm.models import Contact
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import (
    ClockKind,
    ClockState,
    Decision,
    NotificationKind,
    SlaEventKind,
    SlaSide,
    Stage,
)
from smarketing.lifecycle.models import (
    Assignment,
    HandoffDecision,
    Notification,
    SlaClock,
    SlaEvent,
    StageChange,
)
from smarketing.playbook.schema import Playbook
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.team.enums import Role
from smarketing.team.models import User

logger = logging.getLogger(__name__)
FIRST_TOUCH_KINDS = frozenset({"sales_call", "sales_email", "meeting"})
DEFAULT_BATCH = 200
# A delivery's own task normally sends it at once; the check only re-drives ones left behind for this long.
DELIVERY_GRACE = timedelta(seconds=60)


def notification_create(*, user_id: int, kind: str, title: str, body: str = "", contact: Contact | None = None,
                        dedupe_key: str = "", at: datetime | None = None) -> Notification | None:
    """An in-app notification; with a dedupe key a repeat is ignored (returns None)."""
    if dedupe_key and Notification.objects.filter(user_id=user_id, dedupe_key=dedupe_key).exists():
        return None
    return Notification.objects.create(user_id=user_id, kind=kind, title=title[:200], body=body, contact=contact,
                                       dedupe_key=dedupe_key, created_at=at or clock.now())


def _event(*, clock_row: SlaClock, kind: str, occurred_at: datetime, details: dict[str, Any] | None = None,
           owner_id: int | None = None, guard: bool = True, touchpoint_id: int | None = None) -> SlaEvent | None:
    """Append one event for a clock, or None if that fact is already recorded (the constraint says so).

    `guard=False` skips the savepoint for facts that cannot exist yet (the start of a clock just created)."""
    def create() -> SlaEvent:
        return SlaEvent.objects.create(
                clock=clock_row, kind=kind, side=clock_row.side, clock_kind=clock_row.kind,
                contact_id=clock_row.contact_id, owner_id=owner_id if owner_id is not None else clock_row.owner_id,
                team=clock_row.team, deadline=clock_row.deadline, occurred_at=occurred_at, details=details or {},
                touchpoint_id=touchpoint_id, playbook_version_id=clock_row.playbook_version_id)

    if not guard:
        return create()
    try:
        with transaction.atomic():
            return create()
    except IntegrityError:
        return None


def sla_clocks_start(*, assignment: Assignment, mql_change: StageChange, terms: Playbook, started_at: datetime,
                     generation: int = 0) -> list[SlaClock]:
    """Start the first-touch and decision clocks of an assigned MQL, deadlines on the playbook's calendar."""
    deadlines = sla_rules.sales_deadlines(terms.sla, started_at)
    clocks = []
    for kind, deadline in ((ClockKind.FIRST_TOUCH, deadlines.first_touch), (ClockKind.DECISION, deadlines.decision)):
        row = SlaClock.objects.create(
            contact_id=assignment.contact_id, mql_change=mql_change, assignment=assignment,
            owner_id=assignment.owner_id, team=assignment.team, kind=kind, side=SlaSide.SALES,
            generation=generation, started_at=started_at, deadline=deadline, state=ClockState.OPEN,
            playbook_version_id=assignment.playbook_version_id)
        _event(clock_row=row, kind=SlaEventKind.STARTED, occurred_at=started_at, guard=False,
               details={"assignment_id": assignment.pk, "reason_code": assignment.reason_code})
        clocks.append(row)
    return clocks


def _resolve(row: SlaClock, *, at: datetime, details: dict[str, Any],
             touchpoint_id: int | None = None) -> SlaEvent | None:
    """Met if on time; if late, the breach (at the deadline) is recorded now unless it already was."""
    if at <= row.deadline:
        row.state, row.resolved_at = ClockState.MET, at
        row.save(update_fields=["state", "resolved_at"])
        return _event(clock_row=row, kind=SlaEventKind.MET, occurred_at=at, details=details,
                      touchpoint_id=touchpoint_id)
    return _breach(row, now=max(at, clock.now()), details={**details, "resolved_late_at": at.isoformat()})


def _open_clocks(mql_change_id: int, kind: str | None = None) -> list[SlaClock]:
    qs = SlaClock.objects.filter(mql_change_id=mql_change_id, state=ClockState.OPEN)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.select_for_update().order_by("id"))


def sla_clocks_resolve_for_decision(*, mql_change: StageChange, decided_at: datetime, decision: str) -> None:
    """A decision meets the decision clock; a reject or recycle also ends the first-touch obligation."""
    for row in _open_clocks(mql_change.pk):
        if row.kind == ClockKind.DECISION:
            _resolve(row, at=decided_at, details={"decision": decision})
        elif decision != Decision.ACCEPT:
            row.state, row.resolved_at = ClockState.CANCELLED, decided_at
            row.save(update_fields=["state", "resolved_at"])
            _event(clock_row=row, kind=SlaEventKind.CANCELLED, occurred_at=decided_at,
                   details={"why": f"lead {decision}ed before a first touch"})


def _owner_at(row: SlaClock, at: datetime) -> int | None:
    """The owner of the clock's MQL at `at`: the latest assignment made at or before then (a reassignment is
    a new row), or the clock's own owner if the history has none (it always has: the clock's assignment)."""
    latest = (Assignment.objects.filter(mql_change_id=row.mql_change_id, assigned_at__lte=at)
              .order_by("-assigned_at", "-id").values("owner_id").first())
    return latest["owner_id"] if latest is not None else row.owner_id


@transaction.atomic
def first_touch_detect(*, touchpoint_id: int) -> SlaEvent | None:
    """A sales call, email or meeting meets (or, late, ends) the contact's open first-touch clock when the lead's
    owner at the touch's time made it or it names no rep; a touch by someone else is recorded on the clock as
    `other_touch` and leaves it running. Returns the last event recorded (None if nothing was).

    Which touches count is the pure rule `sla.first_touch_by`: the owner's, or one without an actor (legacy
    data and imports that do not know the rep keep counting as any sales touch did before touches had actors).
    A clock belongs to the owner of the assignment that started it; a reassignment cancels it and starts a new
    one for the new owner (`_reassign`), so after a reassignment only the new owner's touches stop the clock.
    """
    from smarketing.campaigns.models import Touchpoint

    tp = (Touchpoint.objects.filter(pk=touchpoint_id)
          .values("contact_id", "kind", "occurred_at", "actor_id", "actor__username").first())
    if tp is None or tp["kind"] not in FIRST_TOUCH_KINDS:
        return None
    rows = (SlaClock.objects.select_for_update()
            .filter(contact_id=tp["contact_id"], kind=ClockKind.FIRST_TOUCH, state=ClockState.OPEN,
                    started_at__lte=tp["occurred_at"]).order_by("id"))
    event = None
    for row in rows:
        owner_id = _owner_at(row, tp["occurred_at"])
        by = sla_rules.first_touch_by(actor_id=tp["actor_id"], owner_at_touch_id=owner_id)
        details: dict[str, Any] = {"touchpoint_id": touchpoint_id, "touch_kind": tp["kind"], "touched_by": by}
        if tp["actor_id"] is not None:
            details.update(actor_id=tp["actor_id"], actor=tp["actor__username"])
        if sla_rules.first_touch_stops_clock(by):
            event = _resolve(row, at=tp["occurred_at"], details=details, touchpoint_id=touchpoint_id)
            continue
        details["owner_at_touch_id"] = owner_id
        other = _event(clock_row=row, kind=SlaEventKind.OTHER_TOUCH, occurred_at=tp["occurred_at"],
                       details=details, touchpoint_id=touchpoint_id)
        event = other or event
    return event


# ------------------------------------------------------------------------------------------------ breaches


def _breach(row: SlaClock, *, now: datetime, details: dict[str, Any] | None = None) -> SlaEvent | None:
    event = _event(clock_row=row, kind=SlaEventKind.BREACHED, occurred_at=row.deadline, details=details)
    row.state, row.resolved_at = ClockState.BREACHED, row.deadline
    row.save(update_fields=["state", "resolved_at"])
    if event is not None:
        _on_breach(row, event, now=now)
    return event


def _users_with_role(role: str) -> list[int]:
    return list(User.objects.filter(role=role, is_active=True).order_by("id").values_list("id", flat=True))


def _on_breach(row: SlaClock, event: SlaEvent, *, now: datetime) -> None:
    """Do what the playbook's sla.sales.on_breach says: notify, webhook, escalate, reassign."""
    from smarketing.lifecycle.services_webhooks import webhook_event_emit

    _, terms = playbook_active_terms()
    action = terms.sla.sales.on_breach
    contact = Contact.objects.filter(pk=row.contact_id).first()
    name = contact.name if contact else f"contact {row.contact_id}"
    what = "first touch" if row.kind == ClockKind.FIRST_TOUCH else "handoff decision"
    title = f"SLA breached: {what} on {name}"
    body = f"The {what} was due {row.deadline:%Y-%m-%d %H:%M} UTC."
    recipients: list[int] = []
    if ("owner" in action.notify or "in_app" in action.notify) and row.owner_id:
        recipients.append(row.owner_id)
    if "manager" in action.notify:
        recipients += _users_with_role(Role.REVOPS)
    if "marketing" in action.notify:
        recipients += _users_with_role(Role.MARKETING)
    for uid in dict.fromkeys(recipients):
        notification_create(user_id=uid, kind=NotificationKind.SLA_BREACH, title=title, body=body, contact=contact,
                            dedupe_key=f"sla-breach:{event.pk}", at=now)
    payload = {"clock_id": row.pk, "clock_kind": row.kind, "side": row.side, "contact_id": row.contact_id,
               "contact_name": name, "owner_id": row.owner_id, "team": row.team,
               "started_at": row.started_at.isoformat(), "deadline": row.deadline.isoformat(),
               "mql_change_id": row.mql_change_id}
    if "webhook" in action.notify:
        webhook_event_emit(event_type="sla.breached", key=f"sla-event-{event.pk}", data=payload, at=now)
    if action.escalate_to_role:
        escalated = _event(clock_row=row, kind=SlaEventKind.ESCALATED, occurred_at=row.deadline,
                           details={"to_role": action.escalate_to_role})
        if escalated is not None:
            for uid in _users_with_role(action.escalate_to_role):
                notification_create(user_id=uid, kind=NotificationKind.ESCALATION, title=f"Escalated: {title}",
                                    body=body, contact=contact, dedupe_key=f"sla-escalation:{escalated.pk}", at=now)
    if action.reassign and contact is not None and contact.lifecycle_stage == Stage.MQL:
        _reassign(row, contact=contact, at=now)


def _reassign(row: SlaClock, *, contact: Contact, at: datetime) -> None:
    from smarketing.lifecycle.services_handoff import lead_route
    from smarketing.lifecycle.services_webhooks import webhook_event_emit

    if HandoffDecision.objects.filter(mql_change_id=row.mql_change_id).exists():
        return
    for other in _open_clocks(row.mql_change_id):
        other.state, other.resolved_at = ClockState.CANCELLED, at
        other.save(update_fields=["state", "resolved_at"])
        _event(clock_row=other, kind=SlaEventKind.CANCELLED, occurred_at=at, details={"why": "reassigned"})
    previous = Assignment.objects.filter(pk=row.assignment_id).first() if row.assignment_id else None
    exclude: frozenset[int] = frozenset({row.owner_id}) if row.owner_id else frozenset()
    new = lead_route(contact=contact, mql_change=row.mql_change, at=at, exclude_owner_ids=exclude,
                     reason_prefix="reassigned after an SLA breach; ", previous=previous,
                     generation=row.generation + 1)
    event = _event(clock_row=row, kind=SlaEventKind.REASSIGNED, occurred_at=at,
                   details={"from_owner_id": row.owner_id, "to_owner_id": new.owner_id, "assignment_id": new.pk})
    if event is not None and row.owner_id and row.owner_id != new.owner_id:
        notification_create(user_id=row.owner_id, kind=NotificationKind.REASSIGNED,
                            title=f"Reassigned: {contact.name}", body=new.reason, contact=contact,
                            dedupe_key=f"reassigned:{event.pk}", at=at)
    if event is not None:
        webhook_event_emit(event_type="lead.reassigned", key=f"sla-event-{event.pk}",
                           data={"contact_id": contact.pk, "from_owner_id": row.owner_id, "to_owner_id": new.owner_id,
                                 "reason": new.reason}, at=at)


def sla_clocks_due(*, now: datetime, limit: int = DEFAULT_BATCH) -> list[int]:
    """Ids of open clocks whose deadline has passed, oldest deadline first."""
    return list(SlaClock.objects.filter(state=ClockState.OPEN, deadline__lte=now).order_by("deadline", "id")
                .values_list("id", flat=True)[:limit])


@transaction.atomic
def sla_clock_breach(*, clock_id: int, now: datetime) -> SlaEvent | None:
    """Record one due clock's breach and act on it; None if another run got there first or it is not due."""
    qs = SlaClock.objects.filter(pk=clock_id, state=ClockState.OPEN, deadline__lte=now)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    row = qs.first()
    if row is None:
        return None
    return _breach(row, now=now)


@dataclass
class SlaCheckResult:
    """What one pass of the SLA check did."""

    checked_at: datetime
    breached: int = 0
    remaining_due: int = 0
    marketing_verdicts: list[str] = field(default_factory=list)
    deliveries_due: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at.isoformat(), "breached": self.breached,
                "remaining_due": self.remaining_due, "marketing_verdicts": self.marketing_verdicts,
                "deliveries_due": len(self.deliveries_due), "failed_clock_ids": self.failed}


def sla_check_run(*, now: datetime | None = None, limit: int = DEFAULT_BATCH,
                  delivery_grace: timedelta = DELIVERY_GRACE) -> SlaCheckResult:
    """One pass: breach up to `limit` due clocks (one transaction each), judge closed marketing periods,
    and list webhook deliveries overdue by more than `delivery_grace` (their task died; the caller sends them)."""
    from smarketing.lifecycle.services_webhooks import webhook_deliveries_due

    now = now or clock.now()
    result = SlaCheckResult(checked_at=now)
    for clock_id in sla_clocks_due(now=now, limit=limit):
        try:
            if sla_clock_breach(clock_id=clock_id, now=now) is not None:
                result.breached += 1
        except Exception:  # one bad clock must not stop the others; it is retried on the next pass
            logger.exception("SLA check failed on clock %s", clock_id)
            result.failed.append(clock_id)
    result.remaining_due = SlaClock.objects.filter(state=ClockState.OPEN, deadline__lte=now).count()
    result.marketing_verdicts = marketing_period_judge(now=now)
    result.deliveries_due = webhook_deliveries_due(now=now - delivery_grace)
    return result


@transaction.atomic
def marketing_period_judge(*, now: datetime) -> list[str]:
    """Record marketing's verdicts for the last closed period, once each, and tell marketing when it fell short.

    MQL volume is judged when the period closes; the acceptance rate once the period's last MQLs have had
    the sales decision window (sla.sales.decision_business_days after the close) to be decided.
    """
    from smarketing.core.errors import Conflict
    from smarketing.lifecycle import calendar
    from smarketing.lifecycle.selectors_sla import marketing_period_counts

    try:
        version, terms = playbook_active_terms()
    except Conflict:  # no active playbook yet: there is no commitment to judge against
        return []
    commitment = terms.sla.marketing
    tz = terms.sla.calendar.timezone
    current = sla_rules.period_at(commitment.period, now, tz)
    previous = sla_rules.period_of(commitment.period, current.start.fromordinal(current.start.toordinal() - 1))
    lo, hi = previous.bounds_utc(tz)
    # Why: a brand-new install must not judge periods before anything was recorded.
    if not StageChange.objects.filter(occurred_at__lt=hi).exists():
        return []
    done = set(SlaEvent.objects.filter(clock__isnull=True, side=SlaSide.MARKETING, period=previous.key)
               .values_list("clock_kind", flat=True))
    decided_by = calendar.add_business_days(terms.sla.calendar, hi, terms.sla.sales.decision_business_days)
    todo = [k for k in (ClockKind.MQL_VOLUME, ClockKind.ACCEPTANCE_RATE) if k not in done
            and (k == ClockKind.MQL_VOLUME or now >= decided_by)]
    if not todo:
        return []
    verdict = sla_rules.marketing_verdict(commitment, previous, today=current.start,
                                          **marketing_period_counts(period=previous, tz=tz))
    out = []
    for clock_kind in todo:
        met = verdict.volume_met if clock_kind == ClockKind.MQL_VOLUME else verdict.acceptance_met
        if met is None:  # nothing decided: no acceptance rate to judge
            continue
        kind = SlaEventKind.MET if met else SlaEventKind.BREACHED
        when = hi if clock_kind == ClockKind.MQL_VOLUME else decided_by
        try:
            with transaction.atomic():
                event = SlaEvent.objects.create(kind=kind, side=SlaSide.MARKETING, clock_kind=clock_kind,
                                                period=previous.key, occurred_at=when, details=verdict.as_dict(),
                                                playbook_version=version)
        except IntegrityError:
            continue
        if kind == SlaEventKind.BREACHED:
            _marketing_breach_notify(event, verdict, now=now)
        out.append(f"{previous.key} {clock_kind}: {kind}")
    return out


def _marketing_breach_notify(event: SlaEvent, verdict: sla_rules.MarketingVerdict, *, now: datetime) -> None:
    from smarketing.lifecycle.services_webhooks import webhook_event_emit

    if event.clock_kind == ClockKind.MQL_VOLUME:
        title = f"Marketing SLA: {verdict.mql_volume} MQLs in {verdict.period}, committed {verdict.mql_target}"
    else:
        title = (f"Marketing SLA: sales accepted {verdict.acceptance_rate or 0:.0%} of {verdict.period}'s MQLs, "
                 f"committed {verdict.acceptance_target:.0%}")
    for uid in dict.fromkeys(_users_with_role(Role.MARKETING) + _users_with_role(Role.REVOPS)):
        notification_create(user_id=uid, kind=NotificationKind.SLA_BREACH, title=title,
                            dedupe_key=f"sla-breach:{event.pk}", at=now)
    webhook_event_emit(event_type="sla.marketing_breached", key=f"sla-event-{event.pk}",
                       data={"commitment": event.clock_kind, **verdict.as_dict()}, at=now)


def sla_check_once(*, now: datetime | None = None, limit: int = 10_000) -> dict[str, Any]:
    """One full pass without the worker (the CLI's `sla check`): breach, judge, and send every due webhook now."""
    from smarketing.lifecycle.services_webhooks import webhook_deliver

    now = now or clock.now()
    result = sla_check_run(now=now, limit=limit, delivery_grace=timedelta(0))
    sent = [webhook_deliver(delivery_id=i, now=now) for i in result.deliveries_due]
    out = result.as_dict()
    out["webhooks_delivered"] = sum(1 for d in sent if d is not None and d.status == "delivered")
    out["webhooks_failed"] = sum(1 for d in sent if d is not None and d.status != "delivered")
    return out


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (idempotent)."""
    from smarketing.core.errors import NotFound

    row = Notification.objects.filter(pk=notification_id, user=user).first()
    if row is None:
        raise NotFound(f"notification {notification_id} does not exist for {user.username}",
                       record=f"notification:{notification_id}")
    if row.read_at is None:
        row.read_at = clock.now()
        row.save(update_fields=["read_at"])
    return row


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=clock.now())
