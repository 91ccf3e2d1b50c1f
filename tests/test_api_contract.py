"""The API's contract at its edges: every answer under /api/ is JSON in the error shape (unknown paths, wrong
methods, oversized bodies, unsafe methods without a CSRF token), and integers out of their documented bounds
(offsets, limits, ids, seeds) are a 422 naming the parameter, never a 500."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from smarketing.api import api as ninja_api
from smarketing.conftest import ApiClient
from smarketing.core.apitools import MAX_ID
from smarketing.core.pagination import MAX_LIMIT, MAX_OFFSET

HUGE = 2**70
SCHEMA = ninja_api.get_openapi_schema()
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = sorted((m, p, op) for p, item in SCHEMA["paths"].items() for m, op in item.items() if m in METHODS)


def _params(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"]: p for p in op.get("parameters", [])}


# Lists: GET operations that take the shared paging (limit and offset).
LISTS = [p for m, p, op in OPERATIONS if m == "get" and {"limit", "offset"} <= set(_params(op)) and "{" not in p]
# Operations with an id in the path.
WITH_ID = [(m, p) for m, p, _ in OPERATIONS if "{" in p]


def _error_shape(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert body["code"] == code, body
    assert body["message"]
    return body


@pytest.fixture
def users(db) -> dict[str, Any]:
    from smarketing.playbook.services import playbook_bootstrap
    from smarketing.team.services import user_create

    playbook_bootstrap()
    return {role: user_create(username=f"{role}1", password="pw", role=role, email=f"{role}1@example.com")
            for role in ("revops", "viewer")}


@pytest.fixture
def api(users) -> ApiClient:
    from smarketing.team.services import api_token_create

    return ApiClient({role: api_token_create(user=u, name="test")[1] for role, u in users.items()})


@pytest.fixture
def csrf_client() -> Client:
    """A client that enforces CSRF like a browser-less attacker's request would meet it."""
    return Client(enforce_csrf_checks=True)


# ------------------------------------------------------------------------------------------------- JSON everywhere

@pytest.mark.parametrize("method", METHODS)
def test_an_unknown_api_path_is_a_json_404_for_every_method(db, csrf_client, method):
    response = csrf_client.generic(method.upper(), "/api/no/such/endpoint", "{}", content_type="application/json")

    body = _error_shape(response, 404, "not_found")
    assert "/api/docs" in body["message"]
    assert b"CSRF" not in response.content


def test_a_negative_id_in_a_path_is_a_json_404_not_the_csrf_page(db, csrf_client, api):
    response = csrf_client.patch("/api/loop/briefs/-5", data="{}", content_type="application/json",
                                 headers={"Authorization": f"Bearer {api.tokens['revops']}"})

    _error_shape(response, 404, "not_found")


def test_a_method_the_path_does_not_take_is_a_json_405_naming_the_allowed_ones(db, csrf_client, api):
    response = csrf_client.put("/api/accounts", data="{}", content_type="application/json",
                               headers={"Authorization": f"Bearer {api.tokens['revops']}"})

    body = _error_shape(response, 405, "not_allowed")
    assert "GET" in response["Allow"] and "POST" in response["Allow"]
    assert "GET" in body["message"]


def test_a_body_over_the_limit_is_a_json_413_and_nothing_is_written(db, api, settings):
    from smarketing.crm.models import Account

    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1024
    body = json.dumps({"name": "Big Co", "domain": "big.example", "industry": "x" * size})

    response = api.post("/api/accounts", body)

    payload = _error_shape(response, 413, "too_large")
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,}" in payload["message"]
    assert not Account.objects.filter(name="Big Co").exists()


def test_the_body_limit_is_checked_before_reading_without_a_token_too(db):
    response = Client().generic("POST", "/api/touchpoints", b"{" + b" " * (3 * 1024 * 1024) + b"}",
                                content_type="application/json")

    _error_shape(response, 413, "too_large")


def test_pages_outside_the_api_keep_their_html_errors(db):
    response = Client().get("/no-such-page/")

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


# ----------------------------------------------------------------------------------------- the documented contract

@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=[f"{m.upper()} {p}" for m, p, _ in OPERATIONS])
def test_every_operation_documents_the_shared_errors(method, path, op):
    codes = {str(c) for c in op["responses"]}

    assert {"401", "429"} <= codes
    if method != "get":
        assert "403" in codes
    if "{" in path:
        assert "404" in codes
    if "requestBody" in op:
        assert {"413", "422"} <= codes
    if op.get("parameters"):
        assert "422" in codes


def test_every_path_id_and_paging_parameter_is_bounded_in_the_schema():
    unbounded = []
    for method, path, op in OPERATIONS:
        for name, param in _params(op).items():
            if param["in"] != "path" and name not in ("limit", "offset"):
                continue  # Why: other integer filters are bounded at run time (a database overflow is a 422)
            schema = param.get("schema", {})
            choices = [schema, *schema.get("anyOf", [])]
            for choice in choices:
                if choice.get("type") == "integer" and ("maximum" not in choice or "minimum" not in choice):
                    unbounded.append(f"{method.upper()} {path} {name}")

    assert unbounded == []


def test_the_bounds_are_the_documented_ones():
    for _method, path, op in OPERATIONS:
        params = _params(op)
        if "offset" in params:
            offset = params["offset"]["schema"]
            assert (offset["minimum"], offset["maximum"]) == (0, MAX_OFFSET), path
        if "{" in path:
            for name in [n for n, p in params.items() if p["in"] == "path" and p["schema"].get("type") == "integer"]:
                assert params[name]["schema"]["maximum"] == MAX_ID, (path, name)
    assert f"{MAX_OFFSET:,}" in SCHEMA["info"]["description"]
    assert f"1–{MAX_LIMIT}" in SCHEMA["info"]["description"]


# ------------------------------------------------------------------------------------------------ bounded integers

@pytest.mark.parametrize("path", LISTS)
def test_an_offset_of_two_to_the_seventy_is_a_422_on_every_list(api, path):
    response = api.get(path, offset=HUGE)

    body = _error_shape(response, 422, "validation_error")
    assert body["field"] == "offset"


@pytest.mark.parametrize("path", LISTS)
def test_a_negative_limit_is_a_422_on_every_list(api, path):
    body = _error_shape(api.get(path, limit=-5), 422, "validation_error")

    assert body["field"] == "limit"


@pytest.mark.parametrize("path", ["/api/loop/themes/unassigned", "/api/lifecycle/notifications",
                                  "/api/lifecycle/sla/events"])
def test_a_negative_limit_is_a_422_where_limit_is_a_plain_parameter(api, path):
    body = _error_shape(api.get(path, limit=-5), 422, "validation_error")

    assert body["field"] == "limit"


def _fill(path: str, ident: str) -> str:
    return "".join(part if i % 2 == 0 else ident for i, part in enumerate(path.replace("{", "}").split("}")))


@pytest.mark.parametrize(("method", "path"), WITH_ID, ids=[f"{m.upper()} {p}" for m, p in WITH_ID])
def test_an_id_of_two_to_the_seventy_is_a_4xx_never_a_500(api, method, path):
    url = _fill(path, str(HUGE))
    client = api.client
    headers = {"Authorization": f"Bearer {api.tokens['revops']}"}
    if method == "get":
        response = client.get(url, {"period": "2026"}, headers=headers)
    else:
        response = getattr(client, method)(url, "{}", content_type="application/json", headers=headers)

    assert 400 <= response.status_code < 500, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")


def test_an_id_of_two_to_the_seventy_in_a_body_is_a_422_naming_the_field(api):
    body = {"contact_id": HUGE, "channel": "email", "kind": "email_click", "occurred_at": "2026-11-24T15:00:00Z",
            "source": "test", "source_id": "huge-id"}

    response = api.post("/api/touchpoints", body)

    payload = _error_shape(response, 422, "validation_error")
    assert "contact_id" in payload["message"]


def test_a_negative_shapley_seed_is_never_a_server_error(api):
    # The seed is kept for old specs only (Shapley is exact), so a negative one is harmless: answered, or refused.
    response = api.post("/api/analytics/attribution", {"model": "shapley", "seed": -1})

    assert response.status_code in (200, 422), response.content[:300]


@pytest.mark.parametrize("offset", [str(HUGE), "1" + "0" * 30])
def test_a_page_offset_out_of_bounds_is_never_a_server_error(users, offset):
    client = Client()
    client.force_login(users["revops"])

    for page in ("/handoff/", "/metrics/mqls_entered/"):
        response = client.get(page, {"offset": offset})

        assert response.status_code < 500, (page, response.status_code)


@pytest.mark.parametrize("offset", [str(HUGE), "1e30", "-1", "abc"])
def test_a_page_offset_out_of_bounds_is_a_400_page_with_the_layout(users, offset):
    client = Client()
    client.force_login(users["revops"])

    from smarketing.testing.factories import ContactFactory

    for page in ("/handoff/", "/metrics/mqls_entered/", f"/contacts/{ContactFactory().pk}/"):
        response = client.get(page, {"offset": offset})

        assert response.status_code == 400, (page, response.status_code)
        html = response.content.decode()
        assert "offset" in html and "<nav" in html, page
