"""Reads of campaigns and touchpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

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


def campaign_ids_existing(*, ids: set[int]) -> set[int]:
    """The ids among these that name a campaign."""
    return set(Campaign.objects.filter(pk__in=ids).values_list("id", flat=True)) if ids else set()


# Reads for the web pages' caches and filters.

def campaigns_data_version() -> str:
    """A fingerprint of the campaigns tables: the last touchpoint recorded and the latest edit of a campaign."""
    touch = Touchpoint.objects.aggregate(v=Max("id"))["v"]
    campaign = Campaign.objects.aggregate(v=Max("updated_at"))["v"]
    return f"{touch}|{campaign}"


def campaign_names(*, limit: int = 200) -> list[str]:
    """Campaign names, alphabetical."""
    return list(Campaign.objects.order_by("name").values_list("name", flat=True).distinct()[:limit])


def campaign_reach_list(*, occurred_after: datetime | None = None,
                        occurred_before: datetime | None = None) -> list[dict[str, Any]]:
    """Campaigns with budget, cost, touches and distinct contacts reached (touches in the window), costliest first."""
    window = Q()
    if occurred_after:
        window &= Q(touchpoints__occurred_at__gte=occurred_after)
    if occurred_before:
        window &= Q(touchpoints__occurred_at__lt=occurred_before)
    rows = (Campaign.objects.annotate(touches=Count("touchpoints", filter=window),
                                      contacts=Count("touchpoints__contact", filter=window, distinct=True))
            .values("id", "name", "channel", "type", "start_date", "end_date", "budget", "actual_cost", "touches",
                    "contacts").order_by("-actual_cost", "id"))
    return [{**r, "budget": float(r["budget"]), "cost": float(r["actual_cost"])} for r in rows]
