"""Shared pieces of the JSON API edges: the error and page shapes, paging input, foreign keys by id.

Routers import from here (not from `smarketing.api`, which imports the routers) so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from http import HTTPStatus
from typing import Annotated, Any, Generic, TypeVar

from django.http import HttpRequest
from ninja import Field, NinjaAPI, Path, Query, Schema
from ninja.openapi.docs import ABS_TPL_PATH, Swagger
from pydantic import ConfigDict

from smarketing.core.errors import NotFound, ValidationFailed
from smarketing.core.pagination import MAX_LIMIT, MAX_OFFSET, paginate
from smarketing.team.models import User

T = TypeVar("T")

# Ids are positive and fit the database's 64-bit integer column; an id of 2^70 is the client's 422, not a 500.
MAX_ID = 2**63 - 1
ID_BOUNDS = {"ge": 1, "le": MAX_ID}
# A record's id in a path (`/api/contacts/{contact_id}`).
RecordId = Annotated[int, Path(..., **ID_BOUNDS, description="The record's id (a positive 64-bit integer)")]
# An optional record id as a query filter (`?contact_id=`).
QueryId = Annotated[int | None, Query(None, **ID_BOUNDS, description="A record's id (a positive 64-bit integer)")]
# An id in a request body or a filter schema.
BodyId = Annotated[int, Field(**ID_BOUNDS)]


class ErrorDetail(Schema):
    field: str
    message: str


class ErrorOut(Schema):
    """Every error: a stable `code`, a message for people, the field and record it is about."""

    code: str = Field(..., description="unauthenticated | forbidden | validation_error | not_found | conflict | …")
    message: str
    field: str | None = None
    record: str | None = None
    details: list[ErrorDetail] = []


# Error responses documented on every operation (the bodies are all ErrorOut).
READ_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS: dict[int, type[Schema]] = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
# A read whose spec travels in a POST body writes nothing, but a viewer is refused like on any POST.
QUERY_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 403: ErrorOut}
# A read only some roles may make (webhooks, users): 403 for the others.
RESTRICTED_READ_ERRORS: dict[int, type[Schema]] = {**READ_ERRORS, 403: ErrorOut}


class InSchema(Schema):
    """Request bodies reject unknown fields, so a typo is a 422 naming it rather than a silent no-op."""

    model_config = ConfigDict(extra="forbid")


class RecordOut(Schema):
    """What every source-keyed record shows besides its own fields: its import keys and timestamps."""

    source: str
    source_id: str
    created_at: datetime
    updated_at: datetime


class OwnedRecordOut(RecordOut):
    """A record with an owner, shown by id and username."""

    owner_id: int | None
    owner_username: str | None = None

    @staticmethod
    def resolve_owner_username(obj: Any) -> str | None:
        return obj.owner.username if obj.owner_id else None


class PageIn(Schema):
    limit: int = Field(50, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT})")
    offset: int = Field(0, ge=0, le=MAX_OFFSET, description=f"Items to skip (0–{MAX_OFFSET:,})")


# Paging for an endpoint that takes `limit` and `offset` as plain query parameters.
Limit = Annotated[int, Query(50, ge=1, le=MAX_LIMIT, description=f"Items per page (1–{MAX_LIMIT})")]
Offset = Annotated[int, Query(0, ge=0, le=MAX_OFFSET, description=f"Items to skip (0–{MAX_OFFSET:,})")]


class Paged(Schema, Generic[T]):
    total: int = Field(..., description="Items matching the filters, over all pages")
    limit: int
    offset: int
    items: list[T]


def page(queryset: Any, paging: PageIn) -> dict[str, Any]:
    """One page of a selector's queryset in the Paged shape."""
    p = paginate(queryset, limit=paging.limit, offset=paging.offset)
    return {"total": p.total, "limit": p.limit, "offset": p.offset, "items": p.items}


def request_user(request: HttpRequest) -> User:
    """The user behind the bearer token (set by TokenAuth)."""
    user = getattr(request, "auth", None)
    assert isinstance(user, User), "TokenAuth sets request.auth"
    return user


def resolve_refs(data: dict[str, Any], refs: dict[str, Callable[..., Any]]) -> dict[str, Any]:
    """Replace `<name>_id` keys by the records they point at, through the given selectors.

    An id that points nowhere is the client's payload error: a 422 naming the field, not a 404 for the URL.
    """
    out = dict(data)
    for key, getter in refs.items():
        if key not in out:
            continue
        pk = out.pop(key)
        name = key.removesuffix("_id")
        if pk is None:
            out[name] = None
            continue
        if not isinstance(pk, int) or not 1 <= pk <= MAX_ID:
            message = f"must be a positive 64-bit integer id, not {pk!r}"
            raise ValidationFailed(f"{key}: {message}", field=key, details=[{"field": key, "message": message}])
        try:
            out[name] = getter(pk=pk)
        except NotFound as exc:
            raise ValidationFailed(f"{key}: {exc.message}", field=key, record=exc.record,
                                   details=[{"field": key, "message": exc.message}]) from None
    return out


def filters_of(filters: PageIn) -> dict[str, Any]:
    """Query filters as selector keywords: paging removed, and filters left unset dropped."""
    return {k: v for k, v in filters.dict(exclude={"limit", "offset"}).items() if v is not None}


# ------------------------------------------------------------------------------------------------- the documented contract
# The error statuses every operation documents, added when the OpenAPI document is built rather than repeated on
# each route: what the shared layers (token auth, rate limit, validation, path ids, body limit) can answer anywhere.
# A route still declares the ones only it can give (409 for a frozen brief, 403 for a RevOps-only read, …).
WRITE_METHODS = {"post", "put", "patch", "delete"}


def _error_response(status: int) -> dict[str, Any]:
    return {"description": HTTPStatus(status).phrase,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}}


def common_error_statuses(method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """The statuses the shared layers can answer this operation with."""
    codes = {401, 429}
    if method in WRITE_METHODS:
        codes.add(403)  # a viewer's write
    if operation.get("parameters") or "requestBody" in operation:
        codes.add(422)  # a parameter or body out of its type or bounds
    if "{" in path:
        codes.add(404)  # a path id that names no record
    if "requestBody" in operation:
        codes.add(413)  # a body over the API's limit
    return codes


def document_common_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Add the shared error responses (all ErrorOut) to every operation of an OpenAPI document."""
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in WRITE_METHODS | {"get"}:
                continue
            responses = operation.setdefault("responses", {})
            declared = {str(code) for code in responses}
            for code in sorted(common_error_statuses(method, path, operation)):
                if str(code) not in declared:
                    responses[code] = _error_response(code)
    return schema


class ContractAPI(NinjaAPI):
    """The NinjaAPI whose OpenAPI document lists, on every operation, every error status it can answer with."""

    def get_openapi_schema(self, *, path_prefix: str | None = None,
                           path_params: dict[str, Any] | None = None) -> Any:
        return document_common_errors(super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params))


class SwaggerOffline(Swagger):
    """/api/docs from the product's own static files (Swagger UI ships with django-ninja; core.ninja_assets makes
    them found), so the page needs no network beyond the server."""

    # Why: ninja renders its offline page only when "ninja" itself is in INSTALLED_APPS, which would import
    # django-ninja in every process at start-up; otherwise it renders this file, normally its CDN page.
    template_cdn = str(ABS_TPL_PATH / "swagger.html")
