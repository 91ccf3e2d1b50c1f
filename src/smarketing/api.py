"""The JSON API: one NinjaAPI, bearer-token auth on every endpoint, stable error codes.

Each domain app contributes a router; this module only mounts them and maps errors.
"""

from __future__ import annotations

import math
from importlib import import_module

from django.core.exceptions import RequestDataTooBig
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from smarketing.api_urls import API_NAMESPACE
from smarketing.core.api_parser import CheckedParser
from smarketing.core.apitools import ContractAPI, SwaggerOffline
from smarketing.core.errors import BadParameter, DomainError
from smarketing.core.middleware import body_limit, error_code, too_large_response
from smarketing.core.pagination import MAX_LIMIT, MAX_OFFSET
from smarketing.core.throttling import TokenRateThrottle
from smarketing.team.auth import TokenAuth

DESCRIPTION = """One revenue team: accounts, contacts, opportunities, campaigns, touchpoints, lifecycle, playbook,
analytics and feedback.

**Auth.** Every endpoint needs `Authorization: Bearer smk_…` (issue one with `smarketing token USER` or
`POST /api/team/tokens`, optionally with `expires_at`; an expired or revoked token is a 401). Viewers read;
marketing, sales and RevOps users also write. Every user, a viewer too, revokes their own tokens.

**Errors.** Every error body is `{"code", "message", "field", "record", "details": [{"field", "message"}]}` with a
stable `code`: `unauthenticated` (401), `forbidden` (403), `not_found` (404), `conflict` (409),
`validation_error` (422, every bad field listed in `details`), `throttled` (429). Nothing is written when a request fails.
Every answer under `/api/` is JSON, errors included: an unknown path is a 404 `not_found` (any method), a method
the path does not take a 405 `not_allowed` (with `Allow`), a JSON body over BODY_LIMIT bytes a 413 `too_large`.
Each operation lists the statuses it can answer with.

**Rate limits.** Each token may send `SMARKETING_API_RATE` requests (default 600 a minute); beyond that, and
for an address that sent 10 bad tokens (until 15 minutes after the last), the answer is 429 with code
`throttled` and a `Retry-After` header.

**Lists** take `limit` (1–MAX_LIMIT) and `offset` (0–MAX_OFFSET) and return `{"total", "limit", "offset", "items"}`;
ids are positive 64-bit integers. A value outside these bounds is a 422 naming the parameter.

**Appends** (touchpoints, feedback) are idempotent by `source` + `source_id`: a repeat returns the first row with
200 instead of 201. History is append-only; a contact's stage moves only through `POST /api/stage-changes`.
"""
for _name, _value in (("BODY_LIMIT", f"{body_limit():,}"), ("MAX_LIMIT", str(MAX_LIMIT)),
                      ("MAX_OFFSET", f"{MAX_OFFSET:,}")):
    DESCRIPTION = DESCRIPTION.replace(_name, _value)

api = ContractAPI(title="smarketing API", version="1", auth=TokenAuth(), docs=SwaggerOffline(), docs_url="/docs",
                  description=DESCRIPTION, parser=CheckedParser(), throttle=[TokenRateThrottle()],
                  urls_namespace=API_NAMESPACE)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    if isinstance(exc, BadParameter):
        # Why: in the API a parameter out of its bounds is a validation error like any other (a page says 400).
        field = exc.field or "(query)"
        return _validation_response(request, [{"field": field, "message": exc.message}])
    return api.create_response(request, exc.as_dict(), status=exc.status)


def _validation_response(request: HttpRequest, details: list[dict[str, str]]) -> HttpResponse:
    message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
    return api.create_response(request, {"code": "validation_error", "message": message,
                                         "field": details[0]["field"] if details else None, "details": details},
                               status=422)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"code": "unauthenticated",
                                         "message": "send a valid API token: Authorization: Bearer smk_…"}, status=401)


@api.exception_handler(NinjaValidationError)
def _invalid(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    details = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        details.append({"field": ".".join(loc) or "(body)", "message": message})
    return _validation_response(request, details)


@api.exception_handler(RequestDataTooBig)
def _too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return too_large_response()


@api.exception_handler(DataError)
def _out_of_range(request: HttpRequest, exc: DataError) -> HttpResponse:
    # Why: the database refuses a value its column cannot hold (a number out of range, text it cannot store); the
    # edges bound what they can, and this keeps any value that slips through a client error instead of a 500.
    return _validation_response(request, [{"field": "(body)", "message": f"a value cannot be stored: {exc}"[:300]}])


@api.exception_handler(OverflowError)
def _overflow(request: HttpRequest, exc: OverflowError) -> HttpResponse:
    return _validation_response(request, [{"field": "(body)", "message": "a number is too large to store"}])


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, DomainError):
        # Why: the body parser refused a value (core.api_parser.CheckedParser); ninja wraps that in a 400.
        return _domain_error(request, exc.__cause__)
    if exc.status_code == 400 and str(exc).startswith("Cannot parse request body"):
        # Why: a body that is not JSON is a bad payload like any other, with the same code and shape.
        message = "the request body is not valid JSON"
        return api.create_response(request, {"code": "validation_error", "message": message, "field": "(body)",
                                             "details": [{"field": "(body)", "message": message}]}, status=422)
    response = api.create_response(request, {"code": error_code(exc.status_code),
                                             "message": str(exc)}, status=exc.status_code)
    if isinstance(exc, Throttled) and exc.wait:
        response["Retry-After"] = str(math.ceil(exc.wait))
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return api.create_response(request, {"code": "not_found", "message": str(exc) or "not found"}, status=404)


# (module, mount prefix, tag): each domain app's `router`.
ROUTERS = [
    ("smarketing.team.api", "/team", "team"),
    ("smarketing.playbook.api", "/playbook", "playbook"),
    ("smarketing.crm.api", "", "crm"),
    ("smarketing.campaigns.api", "", "campaigns"),
    ("smarketing.lifecycle.api", "", "lifecycle"),
    ("smarketing.lifecycle.corrections_api", "", "corrections"),
    ("smarketing.feedback.api", "", "feedback"),
    ("smarketing.scoring.api", "/scoring", "scoring"),
    ("smarketing.analytics.api", "/analytics", "analytics"),
    ("smarketing.analytics.metrics_api", "", "metrics"),
    ("smarketing.analytics.attribution_api", "/analytics", "attribution"),
    ("smarketing.ingest.api", "", "imports"),
    ("smarketing.web.api_workspace", "", "workspace"),
]

for _module, _prefix, _tag in ROUTERS:
    api.add_router(_prefix, import_module(_module).router, tags=[_tag])
