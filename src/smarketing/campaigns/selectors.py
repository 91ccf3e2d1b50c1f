"""Reads of campaigns and touchpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.core.errors import NotFound


def campaign_list(*, channel: str = "", type: str = "", q: str = "") -> QuerySet[Campaign]:
    """Campaigns, newest first."""
    qs = Campaign.objects.select_related("owner").order_by("-start_date", "id")
    if channel:
        qs = qs.filter(channel=channel)
    if type:
        qs = qs.filter(type=type)
    if q:
        qs = qs.filter(name__icontains=q)
    return qs


def campaign_get(*, pk: int) -> Campaign:
    obj = Campaign.objects.select_related("owner").filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"campaign {pk} does not exist", record=f"campaign:{pk}")
    return obj


def touchpoint_list(*, contact_id: int | None = None, campaign_id: int | None = None,
                    account_id: int | None = None, kind: str = "", occurred_after: datetime | None = None,
                    occurred_before: datetime | None = None, actor_id: int | None = None) -> QuerySet[Touchpoint]:
    """Touchpoints, oldest first (the window is `occurred_after` inclusive to `occurred_before` exclusive)."""
    qs = Touchpoint.objects.select_related("campaign", "actor").order_by("occurred_at", "id")
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    if account_id:
        qs = qs.filter(account_id=account_id)
    if kind:
        qs = qs.filter(kind=kind)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if occurred_after:
        qs = qs.filter(occurred_at__gte=occurred_after)
    if occurred_before:
        qs = qs.filter(occurred_at__lt=occurred_before)
    return qs


def touchpoint_list_for_records(*, contact_ids: Any, account_id: int | None = None) -> QuerySet[Touchpoint]:
    """Touchpoints of these contacts (a list or a subquery of ids; with `account_id`, also those recorded on that
    account), with the campaign, the rep and the contact."""
    where = Q(contact_id__in=contact_ids)
    if account_id:
        where |= Q(account_id=account_id)
    return Touchpoint.objects.filter(where).select_related("campaign", "actor", "contact")
