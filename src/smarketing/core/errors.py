"""Domain errors that speak to the user: each names the record and field and carries a stable code."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base for errors a user can act on; the API maps `status` and `code`, the CLI prints `message`."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, record: str | None = None,
                 details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.record = record
        self.details = details or []

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            out["field"] = self.field
        if self.record:
            out["record"] = self.record
        if self.details:
            out["details"] = self.details
        return out


class BadParameter(DomainError):
    """A query or path parameter out of its documented range (an offset of 2^70, a negative limit)."""

    status = 400
    code = "bad_request"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_error"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"
