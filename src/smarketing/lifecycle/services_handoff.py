"""Writes of the handoff: qualify a contact as MQL, route it, and record sales' accept / reject / recycle.

Every write is a new history row (StageChange, Assignment, HandoffDecision, SlaEvent) judged by and stamped with
the playbook version in force at its time (a past `at` is judged by the agreement of then, not today's); the
contact's stage and owner are caches updated through the CRM's services.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction

from smarketing.core import clock
from smarketing.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from smarketing.crm.models import Contact
from smarketing.crm.services import contact_update
from smarketing.lifecycle import permissions, routing
from smarketing.lifecycle.enums import ActorKind, Decision, NotificationKind, Stage
from smarketing.lifecycle.models import Assignment, HandoffDecision, StageChange
from smarketing.lifecycle.selectors_handoff import (
    contact_facts,
    contact_score_now,
    mql_open_get,
    seller_snapshots,
)
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_notifications import notification_create, notification_create_for_role
from smarketing.lifecycle.services_sla_clocks import sla_clocks_resolve_for_decision, sla_clocks_start
from smarketing.lifecycle.sla import period_at
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.schema import Playbook
from smarketing.playbook.selectors import playbook_terms_in_force
from smarketing.team.enums import Role
from smarketing.team.models import User
from smarketing.team.selectors import user_report_ids

QUALIFIABLE = {Stage.LEAD, Stage.RECYCLED}
ACCEPT_STAGES = {Stage.SAL, Stage.SQL}


@dataclass(frozen=True)
class QualifyResult:
    """What qualification found: whether the contact became an MQL now, why not, and what followed."""

    qualified: bool
    score: dict[str, Any]
    unmet: list[str] = field(default_factory=list)
    stage_change: StageChange | None = None
    assignment: Assignment | None = None


def _when(at: datetime | None) -> datetime:
    when = at or clock.now()
    if when.tzinfo is None:
        raise ValidationFailed("times must carry a time zone", field="at")
    return when


def _recycle_until(contact: Contact) -> date | None:
    last = (HandoffDecision.objects.filter(contact=contact, decision__in=[Decision.RECYCLE, Decision.REJECT])
            .order_by("-decided_at", "-id").first())
    return last.recycle_until if last else None


@transaction.atomic
def mql_qualify(*, contact: Contact, at: datetime | None = None, actor: User | None = None,
                route: bool = True) -> QualifyResult:
    """Make a contact an MQL when the criteria in force at `at` hold; then route it and start the SLA clocks."""
    when = _when(at)
    contact = Contact.objects.select_for_update(of=("self",)).select_related("account").get(pk=contact.pk)
    version, terms = playbook_terms_in_force(when)
    score, unmet = contact_score_now(contact=contact, terms=terms, as_of=when)
    if contact.lifecycle_stage not in QUALIFIABLE:
        unmet = [f"contact is {contact.lifecycle_stage}; only lead or recycled contacts can become MQLs", *unmet]
    elif contact.lifecycle_stage == Stage.RECYCLED:
        until = _recycle_until(contact)
        if until is not None and when.date() < until:
            unmet = [f"recycled to nurture until {until.isoformat()}", *unmet]
    if unmet:
        return QualifyResult(qualified=False, score=score, unmet=unmet)
    change = stage_change_record(
        contact=contact, to_stage=Stage.MQL, occurred_at=when, actor=actor,
        actor_kind=ActorKind.USER if actor else ActorKind.RULE,
        reason=f"score {score['total']:.1f} ≥ MQL threshold {terms.scoring.mql_threshold:g} and entry criteria hold",
        details={"score": score, "threshold": terms.scoring.mql_threshold, "playbook_version": version.number})
    assignment = (lead_route(contact=contact, mql_change=change, at=when, terms=terms, version=version)
                  if route else None)
    return QualifyResult(qualified=True, score=score, stage_change=change, assignment=assignment)


def _route_decision(*, contact: Contact, terms: Playbook, at: datetime, score: dict[str, Any] | None = None,
                    exclude_owner_ids: frozenset[int] = frozenset()) -> routing.RoutingDecision:
    period = period_at(terms.routing.capacity_period, at, terms.sla.calendar.timezone)
    lo, hi = period.bounds_utc(terms.sla.calendar.timezone)
    sellers = [s for s in seller_snapshots(period_start=lo, period_end=hi) if s.id not in exclude_owner_ids]
    account = contact.account
    owner_id = account.owner_id if account is not None else None
    if owner_id in exclude_owner_ids:
        owner_id = None
    local_day = at.astimezone(ZoneInfo(terms.sla.calendar.timezone)).date()
    facts = contact_facts(contact)
    # Routing rules may test the score at qualification (e.g. hot leads to a fast-lane team).
    facts.update({f"score.{k}": score[k] for k in ("fit", "engagement", "total") if score and k in score})
    return routing.route(terms.routing, facts=facts, sellers=sellers, on=local_day, account_owner_id=owner_id)


@transaction.atomic
def lead_route(*, contact: Contact, mql_change: StageChange | None = None, at: datetime | None = None,
               terms: Playbook | None = None, actor: User | None = None,
               exclude_owner_ids: frozenset[int] = frozenset(), reason_prefix: str = "",
               previous: Assignment | None = None, generation: int = 0,
               version: PlaybookVersion | None = None) -> Assignment:
    """Assign an MQL to a seller by the playbook's routing, record why, notify them and start the SLA clocks."""
    when = _when(at)
    if version is None or terms is None:
        version, terms = playbook_terms_in_force(when)
    if mql_change is None:
        mql_change = mql_open_get(contact_id=contact.pk)
    decision = _route_decision(contact=contact, terms=terms, at=when, score=mql_change.details.get("score"),
                               exclude_owner_ids=exclude_owner_ids)
    reason = f"{reason_prefix}{decision.reason}" if reason_prefix else decision.reason
    assignment = Assignment.objects.create(
        contact=contact, mql_change=mql_change, owner_id=decision.owner_id, team=decision.team,
        reason_code=decision.reason_code, reason=reason[:500], details=decision.details, assigned_at=when,
        actor=actor, previous=previous, playbook_version=version)
    if decision.owner_id is not None and decision.owner_id != contact.owner_id:
        contact_update(contact=contact, data={"owner": User(pk=decision.owner_id)})
    if assignment.owner_id is not None:
        notification_create(user_id=assignment.owner_id, kind=NotificationKind.ASSIGNED,
                            title=f"New MQL: {contact.name}", body=reason, contact=contact,
                            dedupe_key=f"assigned:{assignment.pk}", at=when)
    else:  # nobody could take it: revops must route it by hand before the clocks run out
        notification_create_for_role(role=Role.REVOPS, kind=NotificationKind.ASSIGNED,
                                     title=f"Unrouted MQL: {contact.name}", body=reason, contact=contact,
                                     dedupe_key=f"unrouted:{assignment.pk}", at=when)
    sla_clocks_start(assignment=assignment, mql_change=mql_change, terms=terms, started_at=when,
                     generation=generation)
    return assignment


def _check_decider(user: User, *, contact: Contact, assignment: Assignment | None) -> None:
    """Refuse a decision by anyone but the MQL's owner, their managers and RevOps (`lifecycle.permissions`)."""
    owner_id = permissions.mql_owner_id(assigned=assignment is not None,
                                        assignment_owner_id=assignment.owner_id if assignment else None,
                                        contact_owner_id=contact.owner_id)
    decider = permissions.Actor.of(user)
    reports = user_report_ids(user_id=user.pk) if owner_id not in (None, user.pk) else frozenset()
    owner_name = User.objects.filter(pk=owner_id).values_list("username", flat=True).first() if owner_id else ""
    refusal = permissions.handoff_refusal(decider, owner_id=owner_id, reports=reports, owner_name=owner_name or "")
    if refusal:
        raise PermissionDenied(f"contact {contact.pk}: {refusal}", field="owner", record=f"contact:{contact.pk}")


def _open_mql_locked(contact: Contact) -> tuple[Contact, StageChange, Assignment | None]:
    contact = Contact.objects.select_for_update(of=("self",)).select_related("account").get(pk=contact.pk)
    if contact.lifecycle_stage != Stage.MQL:
        raise Conflict(f"contact {contact.pk} is {contact.lifecycle_stage}, not awaiting a handoff decision",
                       field="lifecycle_stage", record=f"contact:{contact.pk}")
    change = mql_open_get(contact_id=contact.pk)
    assignment = Assignment.objects.filter(mql_change=change).order_by("-assigned_at", "-id").first()
    return contact, change, assignment


def _decide(*, contact: Contact, user: User, decision: str, to_stage: str, at: datetime | None,
            reason_key: str = "", reason_label: str = "", note: str = "",
            recycle_until: date | None = None) -> HandoffDecision:
    refusal = permissions.role_refusal(permissions.Actor.of(user))
    if refusal:
        raise PermissionDenied(refusal, field="role", record=f"user:{user.username}")
    when = _when(at)
    contact, mql_change, assignment = _open_mql_locked(contact)
    _check_decider(user, contact=contact, assignment=assignment)
    version, _ = playbook_terms_in_force(when)
    verb = {"accept": "accepted", "reject": "rejected", "recycle": "recycled"}[decision]
    why = f"{verb} by {user.username}" + (f": {reason_label}" if reason_label else "")
    change = stage_change_record(contact=contact, to_stage=to_stage, occurred_at=when, actor=user,
                                 actor_kind=ActorKind.USER, reason=why[:500],
                                 details={"handoff": decision, "reason_key": reason_key, "note": note[:2000],
                                          "mql_change_id": mql_change.pk})
    try:
        with transaction.atomic():
            row = HandoffDecision.objects.create(
                contact=contact, mql_change=mql_change, assignment=assignment, decision=decision,
                reason_key=reason_key, reason_label=reason_label, note=note, recycle_until=recycle_until,
                to_stage=to_stage, stage_change=change, decided_by=user, decided_at=when, playbook_version=version)
    except IntegrityError:
        raise Conflict(f"the MQL of contact {contact.pk} was already decided", record=f"contact:{contact.pk}") from None
    sla_clocks_resolve_for_decision(mql_change=mql_change, decided_at=when, decision=decision)
    return row


@transaction.atomic
def handoff_accept(*, contact: Contact, user: User, to_stage: str = Stage.SAL, note: str = "",
                   at: datetime | None = None) -> HandoffDecision:
    """Sales accepts an MQL: it becomes a SAL (or an SQL when qualification already happened)."""
    if to_stage not in ACCEPT_STAGES:
        raise ValidationFailed(f"an accepted MQL moves to sal or sql, not {to_stage!r}", field="to_stage")
    return _decide(contact=contact, user=user, decision=Decision.ACCEPT, to_stage=to_stage, at=at, note=note)


@transaction.atomic
def handoff_reject(*, contact: Contact, user: User, reason_key: str, note: str = "", at: datetime | None = None,
                   to_stage: str = "") -> HandoffDecision:
    """Sales rejects an MQL with a reason from the playbook; it goes where the reason's disposition says.

    `to_stage` (recycled or disqualified) overrides the playbook's disposition for this one decision.
    """
    when = _when(at)
    _, terms = playbook_terms_in_force(when)
    reasons = {r.key: r for r in terms.handoff.rejection_reasons}
    if reason_key not in reasons:
        raise ValidationFailed(f"rejection reason {reason_key!r} is not in the playbook; use one of "
                               f"{', '.join(sorted(reasons))}", field="reason_key",
                               details=[{"key": k, "label": r.label} for k, r in reasons.items()])
    reason = reasons[reason_key]
    target = to_stage or reason.disposition
    if target not in (Stage.RECYCLED, Stage.DISQUALIFIED):
        raise ValidationFailed(f"a rejected MQL moves to recycled or disqualified, not {target!r}", field="to_stage")
    until = (when + timedelta(days=terms.handoff.recycle_default_days)).date() if target == Stage.RECYCLED else None
    decision = _decide(contact=contact, user=user, decision=Decision.REJECT, to_stage=target, at=when,
                       reason_key=reason_key, reason_label=reason.label, note=note, recycle_until=until)
    from smarketing.feedback.enums import FeedbackKind, FeedbackSource
    from smarketing.feedback.services import feedback_record

    text = reason.label + (f": {note.strip()}" if note.strip() else "")
    feedback_record(kind=FeedbackKind.REJECTION_REASON, text=text, occurred_at=when,
                    source=FeedbackSource.HANDOFF_REJECTION, source_id=f"handoff:{decision.pk}",
                    contact=decision.contact, author=user)
    return decision


@transaction.atomic
def handoff_recycle(*, contact: Contact, user: User, until: date | None = None, note: str = "",
                    reason_key: str = "", at: datetime | None = None) -> HandoffDecision:
    """Sales sends an MQL back to nurture until a date (default: the playbook's recycle_default_days)."""
    when = _when(at)
    _, terms = playbook_terms_in_force(when)
    reasons = {r.key: r.label for r in terms.handoff.rejection_reasons}
    if reason_key and reason_key not in reasons:
        raise ValidationFailed(f"reason {reason_key!r} is not in the playbook; use one of {', '.join(sorted(reasons))}",
                               field="reason_key")
    until = until or (when + timedelta(days=terms.handoff.recycle_default_days)).date()
    if until <= when.date():
        raise ValidationFailed(f"recycle date {until.isoformat()} must be after today", field="until")
    return _decide(contact=contact, user=user, decision=Decision.RECYCLE, to_stage=Stage.RECYCLED, at=when,
                   reason_key=reason_key, reason_label=reasons.get(reason_key, ""), note=note, recycle_until=until)


def contact_get_for_handoff(*, contact_id: int) -> Contact:
    """A contact by id, or NotFound naming it."""
    contact = Contact.objects.select_related("account", "owner").filter(pk=contact_id).first()
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist", record=f"contact:{contact_id}")
    return contact
