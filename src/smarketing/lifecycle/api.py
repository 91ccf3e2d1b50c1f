"""API router for the stage-change history (append and list)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import READ_ERRORS, WRITE_ERRORS, filters_of, page, request_user, resolve_refs
from smarketing.core.errors import ValidationFailed
from smarketing.crm.selectors import account_get, contact_get
from smarketing.lifecycle import selectors, services
from smarketing.lifecycle.schemas import (
    StageChangeFilters,
    StageChangeIn,
    StageChangeOut,
    StageChangePage,
    StageChangeRecordOut,
)

router = Router()

STAGE_CHANGE_REFS = {"contact_id": contact_get, "account_id": account_get}


@router.get("/stage-changes", response={200: StageChangePage, **READ_ERRORS},
            summary="List stage changes, oldest first")
def stage_change_list(request: HttpRequest, filters: Query[StageChangeFilters]) -> dict[str, Any]:
    return page(selectors.stage_change_list(**filters_of(filters)), filters)


@router.post("/stage-changes", response={200: StageChangeRecordOut, 201: StageChangeRecordOut, **WRITE_ERRORS},
             summary="Record a stage change",
             description="Moves a contact or an account and appends the history row, stamped with the active "
                         "playbook version (409 `conflict` when no playbook is active). With a `source_key` seen "
                         "before: 200 with the first row and `created: false`, nothing appended; 409 "
                         "`source_key_conflict` naming the field when the key was used for another subject, stage "
                         "or time.")
def stage_change_record(request: HttpRequest, payload: StageChangeIn) -> Status:
    if (payload.contact_id is None) == (payload.account_id is None):
        raise ValidationFailed("send exactly one of contact_id or account_id", field="contact_id")
    data = resolve_refs(payload.dict(), STAGE_CHANGE_REFS)
    change, created = services.stage_change_record_once(actor=request_user(request), **data)
    # The row's fields are validated once by StageChangeOut; `created` is not a column, so it is added after.
    out = StageChangeRecordOut.model_construct(**StageChangeOut.model_validate(change).model_dump(), created=created)
    return Status(201 if created else 200, out)
