"""Reads of lifecycle history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Max, Min, Q, QuerySet

from smarketing.lifecycle.models import Assignment, HandoffDecision, SlaEvent, StageChange


def stage_change_list(*, contact_id: int | None = None, account_id: int | None = None,
                      to_stage: str = "", source_key: str = "", occurred_after: datetime | None = None,
                      occurred_before: datetime | None = None) -> QuerySet[StageChange]:
    """Stage changes, oldest first, with the playbook version and actor (window: after inclusive, before exclusive)."""
    qs = StageChange.objects.select_related("playbook_version", "actor").order_by("occurred_at", "id")
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    if account_id:
        qs = qs.filter(account_id=account_id)
    if to_stage:
        qs = qs.filter(to_stage=to_stage)
    if source_key:
        qs = qs.filter(source_key=source_key)
    if occurred_after:
        qs = qs.filter(occurred_at__gte=occurred_after)
    if occurred_before:
        qs = qs.filter(occurred_at__lt=occurred_before)
    return qs


# Record timelines: `contact_ids` may be a list or a subquery of contact ids (an account's contacts), so one
# query serves a whole account.

def stage_change_list_for_records(*, contact_ids: Any, account_id: int | None = None) -> QuerySet[StageChange]:
    """Stage changes of these contacts (and, with `account_id`, of that account itself), with version and actor."""
    where = Q(contact_id__in=contact_ids)
    if account_id:
        where |= Q(account_id=account_id)
    return StageChange.objects.filter(where).select_related("playbook_version", "actor", "contact", "account")


def assignment_list_for_records(*, contact_ids: Any) -> QuerySet[Assignment]:
    """Owner changes (routings and reassignments) of these contacts, with the new owner and who made them."""
    return Assignment.objects.filter(contact_id__in=contact_ids).select_related(
        "owner", "actor", "contact", "playbook_version")


def handoff_decision_list_for_records(*, contact_ids: Any) -> QuerySet[HandoffDecision]:
    """Sales' accept / reject / recycle decisions on these contacts, with the seller and playbook version."""
    return HandoffDecision.objects.filter(contact_id__in=contact_ids).select_related(
        "decided_by", "contact", "playbook_version")


def sla_event_list_for_records(*, contact_ids: Any) -> QuerySet[SlaEvent]:
    """SLA facts (clock started, met, breached, escalated…) about these contacts, with the owner on the clock."""
    return SlaEvent.objects.filter(contact_id__in=contact_ids).select_related(
        "owner", "contact", "playbook_version", "touchpoint__actor")


# Reads for the web pages' caches.

def stage_change_last_id() -> int | None:
    """The id of the last stage change recorded (history is append-only, so it fingerprints the history)."""
    return StageChange.objects.aggregate(v=Max("id"))["v"]  # type: ignore[no-any-return]


def stage_change_span() -> tuple[datetime | None, datetime | None]:
    """When the recorded history starts and ends (first and last stage change)."""
    agg = StageChange.objects.aggregate(first=Min("occurred_at"), last=Max("occurred_at"))
    return agg["first"], agg["last"]


def stage_change_times_by_source_key(*, keys: list[str]) -> dict[str, datetime]:
    """When each recorded stage change with one of these import keys occurred (an import's re-run check)."""
    out: dict[str, datetime] = {}
    for start in range(0, len(keys), 2000):
        # Why exclude "": it is the condition of the partial unique index on source_key, which lets the database use it
        out.update(StageChange.objects.filter(source_key__in=keys[start:start + 2000]).exclude(source_key="")
                   .values_list("source_key", "occurred_at"))
    return out
