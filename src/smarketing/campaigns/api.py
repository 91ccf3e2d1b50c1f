"""API router for campaigns and the append-only touchpoint log."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.campaigns import selectors, services
from smarketing.campaigns.models import Campaign
from smarketing.campaigns.schemas import (
    CampaignFilters,
    CampaignIn,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    TouchpointFilters,
    TouchpointIn,
    TouchpointOut,
    TouchpointPage,
)
from smarketing.core.apitools import READ_ERRORS, WRITE_ERRORS, filters_of, page, resolve_refs
from smarketing.crm.selectors import contact_get
from smarketing.team.selectors import user_get

router = Router()

CAMPAIGN_REFS = {"owner_id": user_get}
TOUCHPOINT_REFS = {"contact_id": contact_get, "campaign_id": selectors.campaign_get, "actor_id": user_get}


@router.get("/campaigns", response={200: CampaignPage, **READ_ERRORS}, summary="List campaigns, newest first")
def campaign_list(request: HttpRequest, filters: Query[CampaignFilters]) -> dict[str, Any]:
    return page(selectors.campaign_list(**filters_of(filters)), filters)


@router.post("/campaigns", response={201: CampaignOut, **WRITE_ERRORS}, summary="Create a campaign")
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Status:
    return Status(201, services.campaign_create(**resolve_refs(payload.dict(), CAMPAIGN_REFS)))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **READ_ERRORS}, summary="Get a campaign")
def campaign_get(request: HttpRequest, campaign_id: int) -> Campaign:
    return selectors.campaign_get(pk=campaign_id)


@router.patch("/campaigns/{campaign_id}", response={200: CampaignOut, **WRITE_ERRORS}, summary="Update a campaign")
def campaign_update(request: HttpRequest, campaign_id: int, payload: CampaignPatch) -> Campaign:
    campaign = selectors.campaign_get(pk=campaign_id)
    return services.campaign_update(campaign=campaign,
                                    data=resolve_refs(payload.dict(exclude_unset=True), CAMPAIGN_REFS))


@router.get("/touchpoints", response={200: TouchpointPage, **READ_ERRORS}, summary="List touchpoints, oldest first")
def touchpoint_list(request: HttpRequest, filters: Query[TouchpointFilters]) -> dict[str, Any]:
    return page(selectors.touchpoint_list(**filters_of(filters)), filters)


@router.post("/touchpoints", response={200: TouchpointOut, 201: TouchpointOut, **WRITE_ERRORS},
             summary="Append a touchpoint",
             description="201 when recorded; 200 with the first row when `source` + `source_id` were seen before.")
def touchpoint_record(request: HttpRequest, payload: TouchpointIn) -> Status:
    touchpoint, created = services.touchpoint_record(**resolve_refs(payload.dict(), TOUCHPOINT_REFS))
    return Status(201 if created else 200, touchpoint)
