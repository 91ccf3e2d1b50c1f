"""API router for accounts, contacts and opportunities: parse, call one selector or service, render."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import (
    READ_ERRORS,
    WRITE_ERRORS,
    PageIn,
    RecordId,
    filters_of,
    page,
    resolve_refs,
)
from smarketing.crm import selectors, services, timeline
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.crm.schemas import (
    AccountFilters,
    AccountIn,
    AccountOut,
    AccountPage,
    AccountPatch,
    ContactFilters,
    ContactIn,
    ContactOut,
    ContactPage,
    ContactPatch,
    OpportunityFilters,
    OpportunityIn,
    OpportunityOut,
    OpportunityPage,
    OpportunityPatch,
    TimelinePage,
)
from smarketing.team.selectors import user_get

router = Router()

ACCOUNT_REFS = {"owner_id": user_get}
CONTACT_REFS = {"account_id": selectors.account_get, "owner_id": user_get}
OPPORTUNITY_REFS = {"account_id": selectors.account_get, "primary_contact_id": selectors.contact_get,
                    "owner_id": user_get}


# ---------------------------------------------------------------- accounts

@router.get("/accounts", response={200: AccountPage, **READ_ERRORS}, summary="List accounts")
def account_list(request: HttpRequest, filters: Query[AccountFilters]) -> dict[str, Any]:
    return page(selectors.account_list(**filters_of(filters)), filters)


@router.post("/accounts", response={201: AccountOut, **WRITE_ERRORS}, summary="Create an account")
def account_create(request: HttpRequest, payload: AccountIn) -> Status:
    return Status(201, services.account_create(**resolve_refs(payload.dict(), ACCOUNT_REFS)))


@router.get("/accounts/{account_id}", response={200: AccountOut, **READ_ERRORS}, summary="Get an account")
def account_get(request: HttpRequest, account_id: RecordId) -> Account:
    return selectors.account_get(pk=account_id)


@router.patch("/accounts/{account_id}", response={200: AccountOut, **WRITE_ERRORS}, summary="Update an account")
def account_update(request: HttpRequest, account_id: RecordId, payload: AccountPatch) -> Account:
    account = selectors.account_get(pk=account_id)
    return services.account_update(account=account,
                                   data=resolve_refs(payload.dict(exclude_unset=True), ACCOUNT_REFS))


@router.get("/accounts/{account_id}/timeline", response={200: TimelinePage, **READ_ERRORS},
            summary="An account's history with its contacts' and opportunities', newest first")
def account_timeline(request: HttpRequest, account_id: RecordId, paging: Query[PageIn]) -> timeline.TimelinePage:
    return timeline.account_timeline(account_id=account_id, offset=paging.offset, limit=paging.limit)


# ---------------------------------------------------------------- contacts

@router.get("/contacts", response={200: ContactPage, **READ_ERRORS}, summary="List contacts")
def contact_list(request: HttpRequest, filters: Query[ContactFilters]) -> dict[str, Any]:
    return page(selectors.contact_list(**filters_of(filters)), filters)


@router.post("/contacts", response={201: ContactOut, **WRITE_ERRORS}, summary="Create a contact (a lead)")
def contact_create(request: HttpRequest, payload: ContactIn) -> Status:
    return Status(201, services.contact_create(**resolve_refs(payload.dict(), CONTACT_REFS)))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **READ_ERRORS}, summary="Get a contact")
def contact_get(request: HttpRequest, contact_id: RecordId) -> Contact:
    return selectors.contact_get(pk=contact_id)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS},
              summary="Update a contact (its stage moves only through /stage-changes)")
def contact_update(request: HttpRequest, contact_id: RecordId, payload: ContactPatch) -> Contact:
    contact = selectors.contact_get(pk=contact_id)
    return services.contact_update(contact=contact,
                                   data=resolve_refs(payload.dict(exclude_unset=True), CONTACT_REFS))


@router.get("/contacts/{contact_id}/timeline", response={200: TimelinePage, **READ_ERRORS},
            summary="A contact's history (stage changes, touches, handoff, SLA, feedback, owners), newest first")
def contact_timeline(request: HttpRequest, contact_id: RecordId, paging: Query[PageIn]) -> timeline.TimelinePage:
    return timeline.contact_timeline(contact_id=contact_id, offset=paging.offset, limit=paging.limit)


# ---------------------------------------------------------------- opportunities

@router.get("/opportunities", response={200: OpportunityPage, **READ_ERRORS}, summary="List opportunities")
def opportunity_list(request: HttpRequest, filters: Query[OpportunityFilters]) -> dict[str, Any]:
    return page(selectors.opportunity_list(**filters_of(filters)), filters)


OUTCOME_NOTE = ("A deal closed won or lost (here or later) is acted on by the worker just after: won makes the "
                "account (`is_customer`) and the primary contact customers at `closed_at`, lost records the loss "
                "reason as feedback, each once. A close without `closed_at` is closed now.")


@router.post("/opportunities", response={201: OpportunityOut, **WRITE_ERRORS}, summary="Open an opportunity",
             description=OUTCOME_NOTE)
def opportunity_create(request: HttpRequest, payload: OpportunityIn) -> Status:
    return Status(201, services.opportunity_create(**resolve_refs(payload.dict(), OPPORTUNITY_REFS)))


@router.get("/opportunities/{opportunity_id}", response={200: OpportunityOut, **READ_ERRORS},
            summary="Get an opportunity")
def opportunity_get(request: HttpRequest, opportunity_id: RecordId) -> Opportunity:
    return selectors.opportunity_get(pk=opportunity_id)


@router.patch("/opportunities/{opportunity_id}", response={200: OpportunityOut, **WRITE_ERRORS},
              summary="Update an opportunity (close it with outcome and, if lost, a loss reason)",
              description=OUTCOME_NOTE)
def opportunity_update(request: HttpRequest, opportunity_id: RecordId, payload: OpportunityPatch) -> Opportunity:
    opportunity = selectors.opportunity_get(pk=opportunity_id)
    return services.opportunity_update(opportunity=opportunity,
                                       data=resolve_refs(payload.dict(exclude_unset=True), OPPORTUNITY_REFS))


@router.get("/opportunities/{opportunity_id}/timeline", response={200: TimelinePage, **READ_ERRORS},
            summary="An opportunity's milestones and feedback with its primary contact's history, newest first")
def opportunity_timeline(request: HttpRequest, opportunity_id: RecordId, paging: Query[PageIn]) -> timeline.TimelinePage:
    return timeline.opportunity_timeline(opportunity_id=opportunity_id, offset=paging.offset, limit=paging.limit)
