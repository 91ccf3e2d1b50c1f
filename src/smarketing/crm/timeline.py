"""One timeline per record: stage changes, touchpoints, handoff decisions, SLA events, feedback and owner changes.

Each source is read through its owning app's selector. The page is cut in the database: one UNION of
(kind, id, time) keys across the sources gives the total and the page's keys, then each kind on the page is
fetched once with its related rows, so a page costs a fixed number of queries however long the history is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import CharField, F, QuerySet, Value

from smarketing.campaigns.selectors import touchpoint_list_for_records
from smarketing.core.pagination import MAX_LIMIT
from smarketing.crm.enums import OpportunityStage, Outcome
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.crm.selectors import account_get, contact_get, opportunity_get
from smarketing.crm.selectors_opportunity_history import opportunity_stage_change_list
from smarketing.feedback.selectors import feedback_list_for_records
from smarketing.lifecycle.enums import ActorKind, Decision, Stage
from smarketing.lifecycle.selectors import (
    assignment_list_for_records,
    handoff_decision_list_for_records,
    sla_event_list_for_records,
    stage_change_list_for_records,
)

STAGE_CHANGE = "stage_change"
TOUCHPOINT = "touchpoint"
HANDOFF_DECISION = "handoff_decision"
SLA_EVENT = "sla_event"
FEEDBACK = "feedback"
OWNER_CHANGE = "owner_change"
OPPORTUNITY_OPENED = "opportunity_opened"
OPPORTUNITY_CLOSED = "opportunity_closed"
OPPORTUNITY_STAGE = "opportunity_stage"

KIND_LABELS = {STAGE_CHANGE: "Stage change", TOUCHPOINT: "Touchpoint", HANDOFF_DECISION: "Handoff decision",
               SLA_EVENT: "SLA", FEEDBACK: "Feedback", OWNER_CHANGE: "Owner change",
               OPPORTUNITY_OPENED: "Opportunity opened", OPPORTUNITY_CLOSED: "Opportunity closed",
               OPPORTUNITY_STAGE: "Deal stage"}


@dataclass(frozen=True)
class RecordRef:
    """The record an entry belongs to (an account's timeline holds its contacts' entries)."""

    kind: str  # contact | account | opportunity
    id: int
    name: str


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str
    summary: str
    actor: str  # who did it: a username, or the kind of actor (rule, import, system) when no user did
    playbook_version: int | None  # the playbook version that judged it, where one did
    record: RecordRef


@dataclass(frozen=True)
class TimelinePage:
    total: int
    limit: int
    offset: int
    items: list[TimelineEntry]


def _keys(qs: QuerySet[Any], kind: str, at: str) -> QuerySet[Any]:
    """(kind, id, at) of every row in `qs`, unordered, ready for a UNION (every column an annotation, so the
    select lists line up)."""
    return (qs.select_related(None).order_by()
            .annotate(t_kind=Value(kind, output_field=CharField()), t_id=F("id"), t_at=F(at))
            .values_list("t_kind", "t_id", "t_at"))


def _username(user: Any) -> str:
    return user.get_username() if user is not None else ""


def _contact_ref(contact: Contact | None, fallback: RecordRef) -> RecordRef:
    return RecordRef("contact", contact.pk, contact.name) if contact is not None else fallback


def _stage_change(row: Any, fallback: RecordRef) -> TimelineEntry:
    move = f"{Stage(row.from_stage).label if row.from_stage else 'new'} → {Stage(row.to_stage).label}"
    actor = _username(row.actor) or ActorKind(row.actor_kind).label.lower()
    record = (_contact_ref(row.contact, fallback) if row.contact_id
              else RecordRef("account", row.account_id, row.account.name))
    return TimelineEntry(row.occurred_at, STAGE_CHANGE, move + (f": {row.reason}" if row.reason else ""), actor,
                         row.playbook_version.number, record)


def _touchpoint(row: Any, fallback: RecordRef) -> TimelineEntry:
    summary = f"{row.get_kind_display()} ({row.get_channel_display()})"
    if row.campaign is not None:
        summary += f" · {row.campaign.name}"
    return TimelineEntry(row.occurred_at, TOUCHPOINT, summary, _username(row.actor), None,
                         _contact_ref(row.contact, fallback))


def _handoff_decision(row: Any, fallback: RecordRef) -> TimelineEntry:
    summary = Decision(row.decision).label
    if row.decision == Decision.REJECT:
        summary += f": {row.reason_label or row.reason_key}"
    elif row.decision == Decision.RECYCLE:
        summary += f" to nurture until {row.recycle_until:%b %d, %Y}"
    if row.note:
        summary += f" — {row.note}"
    return TimelineEntry(row.decided_at, HANDOFF_DECISION, summary, _username(row.decided_by),
                         row.playbook_version.number, _contact_ref(row.contact, fallback))


def _sla_event(row: Any, fallback: RecordRef) -> TimelineEntry:
    summary = f"{row.get_clock_kind_display()} clock {row.get_kind_display().lower()}"
    if row.deadline is not None and row.kind == "started":
        summary += f", due {row.deadline:%b %d, %H:%M} UTC"
    if row.touchpoint is not None and row.touchpoint.actor is not None:
        summary += f" (touch by {row.touchpoint.actor.get_username()})"
    version = row.playbook_version.number if row.playbook_version is not None else None
    return TimelineEntry(row.occurred_at, SLA_EVENT, summary, _username(row.owner), version,
                         _contact_ref(row.contact, fallback))


def _feedback(row: Any, fallback: RecordRef) -> TimelineEntry:
    text = row.text if len(row.text) <= 160 else row.text[:157] + "…"
    record = (_contact_ref(row.contact, fallback) if row.contact_id
              else RecordRef("account", row.account_id, row.account.name) if row.account_id else fallback)
    return TimelineEntry(row.occurred_at, FEEDBACK, f"{row.get_kind_display()}: {text}", _username(row.author), None,
                         record)


def _owner_change(row: Any, fallback: RecordRef) -> TimelineEntry:
    summary = f"Assigned to {_username(row.owner) or 'nobody'}" + (f" ({row.team})" if row.team else "")
    summary += f": {row.reason}" if row.reason else ""
    return TimelineEntry(row.assigned_at, OWNER_CHANGE, summary, _username(row.actor) or "routing rule",
                         row.playbook_version.number, _contact_ref(row.contact, fallback))


def _opportunity_opened(row: Any, fallback: RecordRef) -> TimelineEntry:
    return TimelineEntry(row.opened_at, OPPORTUNITY_OPENED,
                         f"Opened {row.name}: {row.amount:,.0f} {row.currency}, {row.get_type_display().lower()}",
                         _username(row.owner), None, RecordRef("opportunity", row.pk, row.name))


def _opportunity_closed(row: Any, fallback: RecordRef) -> TimelineEntry:
    how = row.get_outcome_display().lower()
    summary = f"Closed {how}: {row.name}, {row.amount:,.0f} {row.currency}"
    if row.outcome == Outcome.LOST and row.loss_reason:
        summary += f" ({row.loss_reason})"
    return TimelineEntry(row.closed_at, OPPORTUNITY_CLOSED, summary, _username(row.owner), None,
                         RecordRef("opportunity", row.pk, row.name))


def _opportunity_stage(row: Any, fallback: RecordRef) -> TimelineEntry:
    move = (f"{OpportunityStage(row.from_stage).label if row.from_stage else 'new'} → "
            f"{OpportunityStage(row.to_stage).label}")
    return TimelineEntry(row.occurred_at, OPPORTUNITY_STAGE, move + (f": {row.reason}" if row.reason else ""),
                         "import" if row.source_key else "", None,
                         RecordRef("opportunity", row.opportunity_id, row.opportunity.name))


@dataclass(frozen=True)
class _Source:
    kind: str
    rows: QuerySet[Any]  # the owning app's selector, already filtered to the record
    at: str
    entry: Callable[[Any, RecordRef], TimelineEntry]


def _opportunities(**where: Any) -> QuerySet[Opportunity]:
    return Opportunity.objects.filter(**where).select_related("owner")


def _page(sources: list[_Source], fallback: RecordRef, *, offset: int, limit: int) -> TimelinePage:
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    first, *rest = [_keys(s.rows, s.kind, s.at) for s in sources]
    union = first.union(*rest, all=True)
    total = union.count()
    keys = list(union.order_by("-t_at", "-t_id", "t_kind")[offset:offset + limit]) if total > offset else []
    by_kind: dict[str, list[int]] = {}
    for kind, pk, _at in keys:
        by_kind.setdefault(kind, []).append(pk)
    rows: dict[tuple[str, int], TimelineEntry] = {}
    for source in sources:
        for row in source.rows.filter(pk__in=by_kind.get(source.kind, [])) if source.kind in by_kind else ():
            rows[(source.kind, row.pk)] = source.entry(row, fallback)
    return TimelinePage(total=total, limit=limit, offset=offset, items=[rows[(kind, pk)] for kind, pk, _ in keys])


def _people_sources(contact_ids: Any, *, account_id: int | None = None,
                    opportunity_id: int | None = None) -> list[_Source]:
    return [
        _Source(STAGE_CHANGE, stage_change_list_for_records(contact_ids=contact_ids, account_id=account_id),
                "occurred_at", _stage_change),
        _Source(TOUCHPOINT, touchpoint_list_for_records(contact_ids=contact_ids, account_id=account_id),
                "occurred_at", _touchpoint),
        _Source(HANDOFF_DECISION, handoff_decision_list_for_records(contact_ids=contact_ids), "decided_at",
                _handoff_decision),
        _Source(SLA_EVENT, sla_event_list_for_records(contact_ids=contact_ids), "occurred_at", _sla_event),
        _Source(FEEDBACK, feedback_list_for_records(contact_ids=contact_ids, account_id=account_id,
                                                    opportunity_id=opportunity_id), "occurred_at", _feedback),
        _Source(OWNER_CHANGE, assignment_list_for_records(contact_ids=contact_ids), "assigned_at", _owner_change),
    ]


def contact_timeline(*, contact_id: int, offset: int = 0, limit: int = 50) -> TimelinePage:
    """A contact's history, newest first, paged; NotFound naming the contact if there is none."""
    contact = contact_get(pk=contact_id)
    return _page(_people_sources([contact.pk]), RecordRef("contact", contact.pk, contact.name),
                 offset=offset, limit=limit)


def account_timeline(*, account_id: int, offset: int = 0, limit: int = 50) -> TimelinePage:
    """An account's history and its contacts' and opportunities', newest first, paged."""
    account: Account = account_get(pk=account_id)
    contact_ids = Contact.objects.filter(account_id=account.pk).values("id")
    sources = _people_sources(contact_ids, account_id=account.pk) + [
        _Source(OPPORTUNITY_OPENED, _opportunities(account_id=account.pk), "opened_at", _opportunity_opened),
        _Source(OPPORTUNITY_CLOSED, _opportunities(account_id=account.pk, closed_at__isnull=False), "closed_at",
                _opportunity_closed),
    ]
    return _page(sources, RecordRef("account", account.pk, account.name), offset=offset, limit=limit)


def opportunity_timeline(*, opportunity_id: int, offset: int = 0, limit: int = 50) -> TimelinePage:
    """An opportunity's opening, stage moves, close and feedback, with its primary contact's history, newest first,
    paged."""
    opportunity = opportunity_get(pk=opportunity_id)
    contact_ids = [opportunity.primary_contact_id] if opportunity.primary_contact_id else []
    sources = _people_sources(contact_ids, opportunity_id=opportunity.pk) + [
        _Source(OPPORTUNITY_OPENED, _opportunities(pk=opportunity.pk), "opened_at", _opportunity_opened),
        _Source(OPPORTUNITY_CLOSED, _opportunities(pk=opportunity.pk, closed_at__isnull=False), "closed_at",
                _opportunity_closed),
        _Source(OPPORTUNITY_STAGE, opportunity_stage_change_list(opportunity_id=opportunity.pk), "occurred_at",
                _opportunity_stage),
    ]
    return _page(sources, RecordRef("opportunity", opportunity.pk, opportunity.name), offset=offset, limit=limit)
