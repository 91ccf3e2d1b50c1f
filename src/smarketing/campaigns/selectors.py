"""Reads of campaigns, touchpoints and campaign members."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Max, Q, QuerySet

from smarketing.campaigns.enums import MEMBER_STATUS_ORDER
from smarketing.campaigns.models import Campaign, CampaignMember, Touchpoint
from smarketing.core.errors import NotFound
from smarketing.crm.enums import Outcome
from smarketing.crm.models import Opportunity


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


# ------------------------------------------------------------------------------------------- campaign members

def campaign_member_list(*, campaign_id: int, status: str = "") -> QuerySet[CampaignMember]:
    """A campaign's members, oldest membership first, with their contacts."""
    qs = CampaignMember.objects.select_related("contact").filter(campaign_id=campaign_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("created_at", "id")


@dataclass(frozen=True)
class MemberStageRow:
    status: str
    members: int  # whose furthest status is this one
    reached: int  # whose status is this one or a later one
    pipeline: Decimal  # opportunities of the members who reached it, as primary contact, opened after joining
    revenue: Decimal  # the won part of that pipeline
    cost_per_reached: Decimal | None  # the campaign's actual cost over the members who reached it


@dataclass(frozen=True)
class CampaignMemberSummary:
    campaign_id: int
    members: int
    actual_cost: Decimal
    stages: list[MemberStageRow]


def campaign_member_summary(*, campaign_id: int) -> CampaignMemberSummary:
    """Members per status, and the pipeline and revenue of the members who reached each status (ROI per stage).

    A member's pipeline is the opportunities it is the primary contact of, opened at or after it joined; an
    opportunity counts once per member, so a status's figure is the sum over the members who reached it.
    """
    campaign = campaign_get(pk=campaign_id)
    counts = dict(CampaignMember.objects.filter(campaign_id=campaign_id).values_list("status")
                  .annotate(n=Count("id")).order_by())
    opportunities = (Opportunity.objects
                     .filter(primary_contact__campaign_memberships__campaign_id=campaign_id,
                             opened_at__gte=F("primary_contact__campaign_memberships__created_at"))
                     .values_list("primary_contact__campaign_memberships__status", "amount", "outcome"))
    pipeline = dict.fromkeys(MEMBER_STATUS_ORDER, Decimal(0))
    revenue = dict.fromkeys(MEMBER_STATUS_ORDER, Decimal(0))
    for member_status, amount, outcome in opportunities:
        for status, position in MEMBER_STATUS_ORDER.items():
            if MEMBER_STATUS_ORDER[member_status] >= position:
                pipeline[status] += amount
                if outcome == Outcome.WON:
                    revenue[status] += amount
    stages = []
    for status, position in MEMBER_STATUS_ORDER.items():
        reached = sum(n for s, n in counts.items() if MEMBER_STATUS_ORDER[s] >= position)
        cost = (campaign.actual_cost / reached).quantize(Decimal("0.01")) if reached else None
        stages.append(MemberStageRow(status=status, members=counts.get(status, 0), reached=reached,
                                     pipeline=pipeline[status], revenue=revenue[status], cost_per_reached=cost))
    return CampaignMemberSummary(campaign_id=campaign_id, members=sum(counts.values()),
                                 actual_cost=campaign.actual_cost, stages=stages)


def campaign_ids_by_source(*, source: str, source_ids: set[str]) -> dict[str, int]:
    """Source id → campaign id, for the campaigns of this source that exist."""
    ids = sorted(source_ids)
    found: dict[str, int] = {}
    for start in range(0, len(ids), 2000):
        found.update(Campaign.objects.filter(source=source, source_id__in=ids[start:start + 2000])
                     .values_list("source_id", "id"))
    return found


def campaign_search(*, q: str, limit: int = 8) -> tuple[int, list[Campaign]]:
    """Campaigns whose name contains `q` (icontains, fine at demo size): (how many match, the first `limit`)."""
    qs = Campaign.objects.filter(name__icontains=q)
    return qs.count(), list(qs.order_by("name", "id")[:limit])
