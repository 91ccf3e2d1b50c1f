"""Every answer under /api/ is JSON in the API's error shape, whichever layer gives it.

Django and django-ninja answer some requests before or around the API's own exception handlers: a method the path
does not serve (405), a request body over the bound (`DATA_UPLOAD_MAX_MEMORY_SIZE`, Django's 400 page), a CSRF
refusal, a 500. This middleware refuses an oversized JSON body before it is read (413 `too_large`) and rewrites any
non-JSON error answer under /api/ into `{"code", "message"}` with the same status and headers that matter
(`Allow`, `Retry-After`). Pages outside /api/ are left alone.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse

API_PREFIX = "/api/"
# The stable codes of the API's errors by status (documented in the API description).
HTTP_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found", 405: "not_allowed",
              409: "conflict", 413: "too_large", 415: "unsupported_media_type", 422: "validation_error",
              429: "throttled", 500: "server_error"}
KEPT_HEADERS = ("Allow", "Retry-After")


def error_code(status: int) -> str:
    """The stable `code` of an API error with this HTTP status."""
    return HTTP_CODES.get(status, "server_error" if status >= 500 else f"http_{status}")


def body_limit() -> int:
    """The largest request body the API reads (multipart uploads have their own bound)."""
    return int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)


def too_large_response(size: int | None = None) -> JsonResponse:
    limit = body_limit()
    said = f"{size:,} bytes" if size is not None else "the request body"
    message = f"{said} is over the API's limit of {limit:,} bytes; send less per request"
    return JsonResponse({"code": "too_large", "message": message, "field": "(body)"}, status=413)


def _declared_length(request: HttpRequest) -> int | None:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None


def _is_json(response: HttpResponse) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip() in ("application/json", "application/problem+json")


def _message(response: HttpResponse, status: int) -> str:
    if status == 405:
        allowed = response.get("Allow", "")
        return f"this path does not take that method; it takes {allowed}" if allowed else "method not allowed"
    if status == 403:
        return "forbidden: the API takes a bearer token (Authorization: Bearer smk_…), not a session and form"
    try:
        return HTTPStatus(status).phrase.lower()
    except ValueError:
        return f"error {status}"


class ApiJsonErrorsMiddleware:
    """JSON errors for every /api/ answer; 413 for a JSON body over the limit before anything reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        size = _declared_length(request)
        multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
        if not multipart and size is not None and body_limit() and size > body_limit():
            return too_large_response(size)
        response = self.get_response(request)
        status = response.status_code
        if status < 400 or _is_json(response):
            return response
        out = JsonResponse({"code": error_code(status), "message": _message(response, status)}, status=status)
        for header in KEPT_HEADERS:
            if header in response:
                out[header] = response[header]
        return out


def json_error(status: int, message: str, **extra: object) -> HttpResponse:
    """A JSON error in the API's shape, for the views outside ninja (the catch-all 404)."""
    return HttpResponse(json.dumps({"code": error_code(status), "message": message, **extra}), status=status,
                        content_type="application/json")
