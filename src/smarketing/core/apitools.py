"""Shared pieces of the JSON API edges: the error and page shapes, paging input, foreign keys by id.

Routers import from here (not from `smarketing.api`, which imports the routers) so there is no import cycle.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.http import HttpRequest
from ninja import Field, Schema
from pydantic import ConfigDict

from smarketing.core.errors import NotFound, ValidationFailed
from smarketing.core.pagination import MAX_LIMIT, paginate
from smarketing.team.models import User

T = TypeVar("T")


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
    offset: int = Field(0, ge=0, description="Items to skip")


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
        try:
            out[name] = getter(pk=pk)
        except NotFound as exc:
            raise ValidationFailed(f"{key}: {exc.message}", field=key, record=exc.record,
                                   details=[{"field": key, "message": exc.message}]) from None
    return out


def filters_of(filters: PageIn) -> dict[str, Any]:
    """Query filters as selector keywords: paging removed, and filters left unset dropped."""
    return {k: v for k, v in filters.dict(exclude={"limit", "offset"}).items() if v is not None}
