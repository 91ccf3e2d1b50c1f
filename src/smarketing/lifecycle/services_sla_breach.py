"""The response to a recorded SLA breach, as the playbook states it: notify, webhook, escalate, reassign.

Runs after the breach committed, in the `sla_breach_act` task (or directly by `sla check`, which has no worker).
Every step is idempotent, so a task that runs twice, or after `sla check` already acted, does nothing new:
notifications are deduplicated by key, deliveries by idempotency key, and escalation and reassignment are
events the database records once per clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from smarketing.core import clock
from smarketing.crm.models import Contact
from smarketing.lifecycle.enums import ClockKind, NotificationKind, SlaEventKind, SlaSide, Stage
from smarketing.lifecycle.models import Assignment, HandoffDecision, SlaClock, SlaEvent
from smarketing.lifecycle.services_handoff import lead_route
from smarketing.lifecycle.services_notifications import notification_create, notification_create_for_role
from smarketing.lifecycle.services_sla_clocks import sla_clocks_cancel_open, sla_event_append
from smarketing.lifecycle.services_webhooks import webhook_event_emit
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.team.enums import Role


@transaction.atomic
def sla_breach_act(*, event_id: int, now: datetime | None = None) -> bool:
    """Do what the playbook says about one recorded breach; False when the event is not a breach."""
    event = SlaEvent.objects.select_related("clock").filter(pk=event_id, kind=SlaEventKind.BREACHED).first()
    if event is None:
        return False
    now = now or clock.now()
    if event.clock is None:
        _marketing_breach_act(event, now=now)
    else:
        _sales_breach_act(event.clock, event, now=now)
    return True


def _sales_breach_act(row: SlaClock, event: SlaEvent, *, now: datetime) -> None:
    _, terms = playbook_active_terms()
    action = terms.sla.sales.on_breach
    contact = Contact.objects.filter(pk=row.contact_id).first()
    name = contact.name if contact else f"contact {row.contact_id}"
    what = "first touch" if row.kind == ClockKind.FIRST_TOUCH else "handoff decision"
    title = f"SLA breached: {what} on {name}"
    body = f"The {what} was due {row.deadline:%Y-%m-%d %H:%M} UTC."
    note: dict[str, Any] = {"kind": NotificationKind.SLA_BREACH, "title": title, "body": body, "contact": contact,
                            "dedupe_key": f"sla-breach:{event.pk}", "at": now}
    if ("owner" in action.notify or "in_app" in action.notify) and row.owner_id:
        notification_create(user_id=row.owner_id, **note)
    if "manager" in action.notify:
        notification_create_for_role(role=Role.REVOPS, **note)
    if "marketing" in action.notify:
        notification_create_for_role(role=Role.MARKETING, **note)
    payload = {"clock_id": row.pk, "clock_kind": row.kind, "side": row.side, "contact_id": row.contact_id,
               "contact_name": name, "owner_id": row.owner_id, "team": row.team,
               "started_at": row.started_at.isoformat(), "deadline": row.deadline.isoformat(),
               "mql_change_id": row.mql_change_id}
    if "webhook" in action.notify:
        webhook_event_emit(event_type="sla.breached", key=f"sla-event-{event.pk}", data=payload, at=now)
    if action.escalate_to_role:
        escalated = sla_event_append(clock_row=row, kind=SlaEventKind.ESCALATED, occurred_at=row.deadline,
                                     details={"to_role": action.escalate_to_role})
        if escalated is not None:
            notification_create_for_role(role=action.escalate_to_role, kind=NotificationKind.ESCALATION,
                                         title=f"Escalated: {title}", body=body, contact=contact,
                                         dedupe_key=f"sla-escalation:{escalated.pk}", at=now)
    if action.reassign and contact is not None and contact.lifecycle_stage == Stage.MQL:
        _reassign(row, contact=contact, at=now)


def _reassign(row: SlaClock, *, contact: Contact, at: datetime) -> None:
    if HandoffDecision.objects.filter(mql_change_id=row.mql_change_id).exists():
        return
    if SlaEvent.objects.filter(clock=row, kind=SlaEventKind.REASSIGNED).exists():
        return  # this breach already moved the lead
    sla_clocks_cancel_open(mql_change_id=row.mql_change_id, at=at, why="reassigned")
    previous = Assignment.objects.filter(pk=row.assignment_id).first() if row.assignment_id else None
    exclude: frozenset[int] = frozenset({row.owner_id}) if row.owner_id else frozenset()
    new = lead_route(contact=contact, mql_change=row.mql_change, at=at, exclude_owner_ids=exclude,
                     reason_prefix="reassigned after an SLA breach; ", previous=previous,
                     generation=row.generation + 1)
    event = sla_event_append(clock_row=row, kind=SlaEventKind.REASSIGNED, occurred_at=at,
                             details={"from_owner_id": row.owner_id, "to_owner_id": new.owner_id,
                                      "assignment_id": new.pk})
    if event is None:
        return
    if row.owner_id and row.owner_id != new.owner_id:
        notification_create(user_id=row.owner_id, kind=NotificationKind.REASSIGNED,
                            title=f"Reassigned: {contact.name}", body=new.reason, contact=contact,
                            dedupe_key=f"reassigned:{event.pk}", at=at)
    webhook_event_emit(event_type="lead.reassigned", key=f"sla-event-{event.pk}",
                       data={"contact_id": contact.pk, "from_owner_id": row.owner_id, "to_owner_id": new.owner_id,
                             "reason": new.reason}, at=at)


def _marketing_breach_act(event: SlaEvent, *, now: datetime) -> None:
    """Tell marketing and revops that marketing's commitment for a closed period fell short."""
    if event.side != SlaSide.MARKETING:
        return
    verdict = event.details  # the MarketingVerdict recorded with the event
    if event.clock_kind == ClockKind.MQL_VOLUME:
        title = (f"Marketing SLA: {verdict['mql_volume']} MQLs in {verdict['period']}, "
                 f"committed {verdict['mql_target']}")
    else:
        title = (f"Marketing SLA: sales accepted {verdict['acceptance_rate'] or 0:.0%} of {verdict['period']}'s "
                 f"MQLs, committed {verdict['acceptance_target']:.0%}")
    for role in (Role.MARKETING, Role.REVOPS):
        notification_create_for_role(role=role, kind=NotificationKind.SLA_BREACH, title=title,
                                     dedupe_key=f"sla-breach:{event.pk}", at=now)
    webhook_event_emit(event_type="sla.marketing_breached", key=f"sla-event-{event.pk}",
                       data={"commitment": event.clock_kind, **verdict}, at=now)
