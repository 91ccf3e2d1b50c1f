"""Writes of the sales SLA clocks: start them, meet them, cancel them, record a breach once.

A clock's history is its SlaEvent rows; the database's unique (clock, kind) constraint refuses a second event of
a kind, so a fact is recorded once even when two workers race. Recording a breach only records it: what the
playbook says to do about it (notify, webhook, escalate, reassign) runs after commit in the `sla_breach_act`
task (`services_sla_breach`), so these services never call the handoff's routing back.
"""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction

from smarketing.campaigns.models import Touchpoint
from smarketing.core import clock
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockKind, ClockState, Decision, SlaEventKind, SlaSide
from smarketing.lifecycle.models import Assignment, SlaClock, SlaEvent, StageChange
from smarketing.lifecycle.tasks import sla_breach_act
from smarketing.playbook.schema import Playbook

FIRST_TOUCH_KINDS = frozenset({"sales_call", "sales_email", "meeting"})


def sla_event_append(*, clock_row: SlaClock, kind: str, occurred_at: datetime,
                     details: dict[str, Any] | None = None, owner_id: int | None = None, guard: bool = True,
                     touchpoint_id: int | None = None) -> SlaEvent | None:
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
        sla_event_append(clock_row=row, kind=SlaEventKind.STARTED, occurred_at=started_at, guard=False,
                         details={"assignment_id": assignment.pk, "reason_code": assignment.reason_code})
        clocks.append(row)
    return clocks


def sla_breach_record(*, row: SlaClock, now: datetime, details: dict[str, Any] | None = None) -> SlaEvent | None:
    """Mark the clock breached at its deadline and append the breach once; its consequences run after commit."""
    event = sla_event_append(clock_row=row, kind=SlaEventKind.BREACHED, occurred_at=row.deadline, details=details)
    row.state, row.resolved_at = ClockState.BREACHED, row.deadline
    row.save(update_fields=["state", "resolved_at"])
    if event is not None:
        sla_breach_act_on_commit(event_id=event.pk, now=now)
    return event


def sla_breach_act_on_commit(*, event_id: int, now: datetime) -> None:
    """Queue the playbook's response to a recorded breach (sales or marketing) once the transaction commits."""
    transaction.on_commit(partial(sla_breach_act.enqueue, event_id, now.isoformat()))


def _resolve(row: SlaClock, *, at: datetime, details: dict[str, Any],
             touchpoint_id: int | None = None) -> SlaEvent | None:
    """Met if on time; if late, the breach (at the deadline) is recorded now unless it already was."""
    if at <= row.deadline:
        row.state, row.resolved_at = ClockState.MET, at
        row.save(update_fields=["state", "resolved_at"])
        return sla_event_append(clock_row=row, kind=SlaEventKind.MET, occurred_at=at, details=details,
                                touchpoint_id=touchpoint_id)
    return sla_breach_record(row=row, now=max(at, clock.now()),
                             details={**details, "resolved_late_at": at.isoformat()})


def sla_clocks_open(*, mql_change_id: int, kind: str | None = None) -> list[SlaClock]:
    """The MQL's open clocks, locked for update, oldest first."""
    qs = SlaClock.objects.filter(mql_change_id=mql_change_id, state=ClockState.OPEN)
    if kind:
        qs = qs.filter(kind=kind)
    return list(qs.select_for_update().order_by("id"))


def sla_clocks_cancel_open(*, mql_change_id: int, at: datetime, why: str) -> int:
    """Cancel the MQL's open clocks (recording why); returns how many."""
    rows = sla_clocks_open(mql_change_id=mql_change_id)
    for row in rows:
        row.state, row.resolved_at = ClockState.CANCELLED, at
        row.save(update_fields=["state", "resolved_at"])
        sla_event_append(clock_row=row, kind=SlaEventKind.CANCELLED, occurred_at=at, details={"why": why})
    return len(rows)


def sla_clocks_resolve_for_decision(*, mql_change: StageChange, decided_at: datetime, decision: str) -> None:
    """A decision meets the decision clock; a reject or recycle also ends the first-touch obligation."""
    for row in sla_clocks_open(mql_change_id=mql_change.pk):
        if row.kind == ClockKind.DECISION:
            _resolve(row, at=decided_at, details={"decision": decision})
        elif decision != Decision.ACCEPT:
            row.state, row.resolved_at = ClockState.CANCELLED, decided_at
            row.save(update_fields=["state", "resolved_at"])
            sla_event_append(clock_row=row, kind=SlaEventKind.CANCELLED, occurred_at=decided_at,
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
    one for the new owner (`services_sla_breach`), so after a reassignment only the new owner's touches stop the
    clock.
    """
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
        other = sla_event_append(clock_row=row, kind=SlaEventKind.OTHER_TOUCH, occurred_at=tp["occurred_at"],
                                 details=details, touchpoint_id=touchpoint_id)
        event = other or event
    return event
