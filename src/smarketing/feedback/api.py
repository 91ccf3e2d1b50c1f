"""API router for feedback items (append and list)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import READ_ERRORS, WRITE_ERRORS, filters_of, page, request_user, resolve_refs
from smarketing.crm.selectors import account_get, contact_get, opportunity_get
from smarketing.feedback import selectors, services
from smarketing.feedback.schemas import FeedbackFilters, FeedbackIn, FeedbackOut, FeedbackPage

router = Router()

FEEDBACK_REFS = {"account_id": account_get, "contact_id": contact_get, "opportunity_id": opportunity_get}


@router.get("/feedback", response={200: FeedbackPage, **READ_ERRORS}, summary="List feedback, newest first")
def feedback_list(request: HttpRequest, filters: Query[FeedbackFilters]) -> dict[str, Any]:
    return page(selectors.feedback_list(**filters_of(filters)), filters)


@router.post("/feedback", response={200: FeedbackOut, 201: FeedbackOut, **WRITE_ERRORS},
             summary="Append a feedback item",
             description="The token's user is the author. 201 when recorded; 200 with the first item when "
                         "`source` + `source_id` were seen before.")
def feedback_record(request: HttpRequest, payload: FeedbackIn) -> Status:
    data = resolve_refs(payload.dict(), FEEDBACK_REFS)
    item, created = services.feedback_record(author=request_user(request), **data)
    return Status(201 if created else 200, item)
