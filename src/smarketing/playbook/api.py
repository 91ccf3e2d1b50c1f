"""API router for the playbook: versions, YAML export/import, sign-off and diffs."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from django.http import HttpRequest, HttpResponse
from ninja import Router, Status
from ninja.errors import ValidationError as NinjaValidationError
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from smarketing.core.apitools import READ_ERRORS, WRITE_ERRORS, ErrorOut, QueryId, RecordId, request_user
from smarketing.core.errors import Conflict, NotFound, ValidationFailed
from smarketing.playbook import selectors, services
from smarketing.playbook.diff import content_changes
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.schemas import (
    PlaybookDiffOut,
    PlaybookDraftIn,
    PlaybookDraftUpdateIn,
    PlaybookImpactOut,
    PlaybookVersionDetailOut,
    PlaybookVersionOut,
    SignoffIn,
)

router = Router()

M = TypeVar("M", bound=BaseModel)
YAML_TYPES = {"application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"}
YAML_RESPONSE = {"200": {"description": "The version as one YAML file",
                         "content": {"application/yaml": {"schema": {"type": "string"}}}}}


def _draft_body(example_notes: str) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"type": "object", "required": ["content"], "properties": {
            "content": {"type": "object", "description": "The playbook (same sections as the YAML file)"},
            "notes": {"type": "string", "example": example_notes},
            "based_on": {"type": ["integer", "null"]}}}},
        "application/yaml": {"schema": {"type": "string", "description": "The playbook YAML file itself; "
                                                                          "notes go in ?notes="}},
    }}}


def _read_body(request: HttpRequest, model: type[M]) -> M | str:
    """The JSON envelope validated as `model`, or the YAML text, by Content-Type."""
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationFailed("the request body is not UTF-8 text", field="(body)") from None
    if request.content_type in YAML_TYPES:
        return text
    if request.content_type not in ("application/json", ""):
        raise ValidationFailed(f"send the playbook as application/json or application/yaml, "
                               f"not {request.content_type}", field="(body)")
    try:
        data = json.loads(text or "null")
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"the request body is not valid JSON: {exc.msg} at line {exc.lineno}",
                               field="(body)") from None
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        raise NinjaValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from None


def _detail(version: PlaybookVersion) -> PlaybookVersion:
    """Reload with sign-offs, creator and base prefetched for rendering."""
    return selectors.playbook_version_get(number=version.number)


def _yaml_response(version: PlaybookVersion) -> HttpResponse:
    response = HttpResponse(selectors.playbook_to_yaml(version), content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'inline; filename="playbook-v{version.number}.yaml"'
    return response


@router.get("/versions", response={200: list[PlaybookVersionOut], **READ_ERRORS},
            summary="List versions, newest first, with each side's sign-off")
def version_list(request: HttpRequest) -> list[PlaybookVersion]:
    return selectors.playbook_version_list()


@router.get("/versions/{number}", response={200: PlaybookVersionDetailOut, **READ_ERRORS}, summary="Get a version")
def version_get(request: HttpRequest, number: RecordId) -> PlaybookVersion:
    return selectors.playbook_version_get(number=number)


@router.get("/versions/{number}/impact", response={200: PlaybookImpactOut, 409: ErrorOut, **READ_ERRORS},
            summary="What a version would have done to the last year of history, next to the active version",
            description="Each contact scored as of its decision under the version's scoring terms and under the "
                        "active one's; at each side's MQL threshold: MQLs (and per month), acceptance, opportunity "
                        "and win rates, and the version's marketing SLA against them.")
def version_impact(request: HttpRequest, number: RecordId) -> dict[str, Any]:
    return selectors.playbook_impact(selectors.playbook_version_get(number=number)).as_dict()


@router.get("/active", response={200: PlaybookVersionDetailOut, 409: ErrorOut, **READ_ERRORS},
            summary="The active version (the terms every stage change is stamped with)")
def version_active(request: HttpRequest) -> PlaybookVersion:
    return _detail(selectors.playbook_version_active_get())


@router.get("/versions/{number}/export", response={**READ_ERRORS}, openapi_extra={"responses": YAML_RESPONSE},
            summary="Export a version as YAML")
def version_export(request: HttpRequest, number: RecordId) -> HttpResponse:
    return _yaml_response(selectors.playbook_version_get(number=number))


@router.get("/active/export", response={**READ_ERRORS}, openapi_extra={"responses": YAML_RESPONSE},
            summary="Export the active version as YAML")
def active_export(request: HttpRequest) -> HttpResponse:
    return _yaml_response(selectors.playbook_version_active_get())


@router.post("/versions", response={201: PlaybookVersionDetailOut, **WRITE_ERRORS},
             openapi_extra=_draft_body("Raise the MQL threshold to 65"),
             summary="Create a draft from JSON or YAML",
             description="Send `{\"content\": {...}, \"notes\": \"…\"}` as application/json, or the playbook file as "
                         "application/yaml. Invalid content is a 422 listing every bad field path in `details`.")
def draft_create(request: HttpRequest, notes: str = "", based_on: QueryId = None) -> Status:
    body = _read_body(request, PlaybookDraftIn)
    if isinstance(body, PlaybookDraftIn):
        content: Any = body.content
        notes, based_on = body.notes or notes, body.based_on if body.based_on is not None else based_on
    else:
        content = services.parse_yaml(body)
    base = _base_version(based_on)
    version = services.playbook_draft_create(content=content, created_by=request_user(request), notes=notes,
                                             based_on=base)
    return Status(201, _detail(version))


def _base_version(number: int | None) -> PlaybookVersion | None:
    if number is not None:
        try:
            return selectors.playbook_version_get(number=number)
        except NotFound as exc:
            raise ValidationFailed(f"based_on: {exc.message}", field="based_on", record=exc.record) from None
    try:
        return selectors.playbook_version_active_get()
    except Conflict:
        return None


@router.put("/versions/{number}", response={200: PlaybookVersionDetailOut, **WRITE_ERRORS},
            openapi_extra=_draft_body("Tightened the SLA"),
            summary="Replace a draft's content (earlier sign-offs on it become stale)")
def draft_update(request: HttpRequest, number: RecordId, notes: str | None = None) -> PlaybookVersion:
    version = selectors.playbook_version_get(number=number)
    body = _read_body(request, PlaybookDraftUpdateIn)
    if isinstance(body, PlaybookDraftUpdateIn):
        content: Any = body.content
        notes = body.notes if body.notes is not None else notes
    else:
        content = services.parse_yaml(body)
    return _detail(services.playbook_draft_update(version=version, content=content, notes=notes))


@router.post("/versions/{number}/signoff", response={200: PlaybookVersionDetailOut, **WRITE_ERRORS},
             summary="Sign off a draft for your side",
             description="Marketing users sign for marketing, sales users for sales; once both sides have signed "
                         "the current content, the draft becomes the active version and the worker rebuilds the "
                         "cached scores under its rules.")
def signoff(request: HttpRequest, number: RecordId, payload: SignoffIn | None = None) -> PlaybookVersion:
    version = selectors.playbook_version_get(number=number)
    comment = payload.comment if payload is not None else ""
    return _detail(services.playbook_sign_off(version=version, user=request_user(request), comment=comment))


@router.get("/diff", response={200: PlaybookDiffOut, **READ_ERRORS}, summary="What changed from version a to b")
def diff(request: HttpRequest, a: int, b: int) -> dict[str, Any]:
    old = selectors.playbook_version_get(number=a)
    new = selectors.playbook_version_get(number=b)
    return {"from_version": a, "to_version": b, "changes": content_changes(old.content, new.content),
            "unified": "\n".join(selectors.playbook_diff(old, new))}
