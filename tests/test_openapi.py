"""The API describes itself: /api/openapi.json is a valid OpenAPI document listing every endpoint; /api/docs renders."""

from __future__ import annotations

import json
from typing import Any

import pytest
from openapi_spec_validator import validate

EXPECTED = {
    ("get", "/api/accounts"), ("post", "/api/accounts"), ("get", "/api/accounts/{account_id}"),
    ("patch", "/api/accounts/{account_id}"),
    ("get", "/api/contacts"), ("post", "/api/contacts"), ("get", "/api/contacts/{contact_id}"),
    ("patch", "/api/contacts/{contact_id}"),
    ("get", "/api/opportunities"), ("post", "/api/opportunities"), ("get", "/api/opportunities/{opportunity_id}"),
    ("patch", "/api/opportunities/{opportunity_id}"),
    ("get", "/api/campaigns"), ("post", "/api/campaigns"), ("get", "/api/campaigns/{campaign_id}"),
    ("patch", "/api/campaigns/{campaign_id}"),
    ("get", "/api/touchpoints"), ("post", "/api/touchpoints"),
    ("get", "/api/stage-changes"), ("post", "/api/stage-changes"),
    ("get", "/api/feedback"), ("post", "/api/feedback"),
    ("get", "/api/team/me"), ("get", "/api/team/tokens"), ("post", "/api/team/tokens"),
    ("delete", "/api/team/tokens/{token_id}"),
    ("get", "/api/playbook/versions"), ("post", "/api/playbook/versions"), ("get", "/api/playbook/versions/{number}"),
    ("put", "/api/playbook/versions/{number}"), ("get", "/api/playbook/versions/{number}/export"),
    ("post", "/api/playbook/versions/{number}/signoff"), ("get", "/api/playbook/active"),
    ("get", "/api/playbook/active/export"), ("get", "/api/playbook/diff"),
}
METHODS = {"get", "post", "put", "patch", "delete"}


@pytest.fixture(scope="module")
def spec(django_db_blocker) -> dict[str, Any]:
    from django.test import Client

    with django_db_blocker.unblock():
        response = Client().get("/api/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m, path, op) for path, item in spec["paths"].items() for m, op in item.items() if m in METHODS]


def test_openapi_document_is_valid(spec):
    validate(spec)  # raises on any violation of the OpenAPI 3.1 schema

    assert spec["openapi"].startswith("3.1")
    assert spec["info"]["title"] == "smarketing API"


def test_every_expected_endpoint_is_listed(spec):
    listed = {(m, path) for m, path, _ in operations(spec)}

    assert listed >= EXPECTED, sorted(EXPECTED - listed)


def test_every_operation_requires_the_bearer_token(spec):
    schemes = spec["components"]["securitySchemes"]
    bearer = [name for name, s in schemes.items() if s.get("type") == "http" and s.get("scheme") == "bearer"]

    assert bearer
    unsecured = [(m, p) for m, p, op in operations(spec) if not op.get("security")]
    assert unsecured == []


def test_operation_ids_are_unique(spec):
    ids = [op["operationId"] for _, _, op in operations(spec)]

    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ["AccountIn", "AccountPatch", "AccountOut", "ContactIn", "ContactPatch",
                                  "ContactOut", "OpportunityIn", "OpportunityPatch", "OpportunityOut",
                                  "CampaignIn", "CampaignPatch", "CampaignOut", "TouchpointIn", "TouchpointOut",
                                  "StageChangeIn", "StageChangeOut", "FeedbackIn", "FeedbackOut", "ErrorOut",
                                  "AccountPage", "PlaybookVersionOut", "PlaybookVersionDetailOut"])
def test_schemas_follow_the_naming_convention(spec, name):
    assert name in spec["components"]["schemas"]


def test_writes_document_their_error_responses(spec):
    for method, path, op in operations(spec):
        if (method, path) in EXPECTED and method != "get":
            codes = set(op["responses"])
            assert {"401", "403", "422"} <= codes, (method, path, codes)


def test_contact_stage_is_not_offered_as_input(spec):
    assert "lifecycle_stage" not in spec["components"]["schemas"]["ContactIn"]["properties"]
    assert "lifecycle_stage" in spec["components"]["schemas"]["ContactOut"]["properties"]


def test_docs_page_renders(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger" in html.lower()
    assert "openapi.json" in html


def test_an_unknown_api_path_is_a_json_404(client):
    response = client.get("/api/no-such-thing")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "/api/docs" in response.json()["message"]


# ------------------------------------------------------------------------------------- the contract, operation by operation
#
# Every operation of the generated schema documents the errors the API can answer with, and answers with each
# when provoked: 401 without a token, 403 for a viewer on a write, 422 for a bad body or query parameter, 404 for
# an id that does not exist. A new operation without its declarations fails here.

from smarketing.api import api as ninja_api  # noqa: E402

SCHEMA = ninja_api.get_openapi_schema()
OPERATIONS = sorted((m, path, op) for path, item in SCHEMA["paths"].items() for m, op in item.items()
                    if m in METHODS)
MISSING_ID = "999999999"
TYPED = {"integer", "number", "boolean"}


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMA["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _param_schema(param: dict[str, Any]) -> dict[str, Any]:
    schema = _resolve(param.get("schema", {}))
    for choice in schema.get("anyOf", []):
        if _resolve(choice).get("type") != "null":
            return _resolve(choice)
    return schema


def _bad_query(op: dict[str, Any]) -> dict[str, str] | None:
    """A query string with one typed parameter set to a value of the wrong type, or None if there is none."""
    for param in op.get("parameters", []):
        schema = _param_schema(param)
        if param["in"] != "query":
            continue
        if schema.get("type") in TYPED or schema.get("format") in ("date", "date-time") or "enum" in schema:
            return {param["name"]: "not-a-valid-value"}
    return None


def expected_errors(method: str, path: str, op: dict[str, Any]) -> set[str]:
    """The error statuses this operation can answer with, from its shape."""
    codes = {"401"}
    if method != "get":
        codes.add("403")
    if "{" in path:
        codes.add("404")
    if "requestBody" in op or _bad_query(op) is not None:
        codes.add("422")
    return codes


def _example(schema: dict[str, Any]) -> Any:
    """The smallest valid value of a JSON schema: required properties only, first enum member, …"""
    schema = _resolve(schema)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            choices = [c for c in schema[key] if _resolve(c).get("type") != "null"]
            return _example(choices[0]) if choices else None
    if "allOf" in schema:
        return _example(schema["allOf"][0])
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: _example(prop) for name, prop in schema.get("properties", {}).items()
                if name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return max(schema.get("minimum", 1), 1)
    if kind == "boolean":
        return True
    if schema.get("format") == "date-time":
        return "2026-11-24T15:00:00Z"
    if schema.get("format") == "date":
        return "2026-11-24"
    return "x" * max(schema.get("minLength", 1), 1)


def _wrong(schema: dict[str, Any]) -> Any:
    """A value of the wrong type for a property (a number where text is expected, text for anything else)."""
    schema = _param_schema({"schema": schema})
    if "enum" in schema or "const" in schema:
        return "no-such-choice"
    return 12345 if schema.get("type") == "string" and not schema.get("format") else "not-a-valid-value"


def _body_schema(op: dict[str, Any]) -> dict[str, Any]:
    """The request body's schema: JSON's, else (an upload) the form's, which the walk sends as JSON all the same."""
    content = op["requestBody"]["content"]
    return dict((content.get("application/json") or next(iter(content.values())))["schema"])


def _bad_body(op: dict[str, Any]) -> Any:
    """A body with every field of the wrong type (or, without fields, not even an object)."""
    schema = _resolve(_body_schema(op))
    properties = schema.get("properties", {})
    return {name: _wrong(prop) for name, prop in properties.items()} if properties else ["not", "an", "object"]


def _body(op: dict[str, Any]) -> Any:
    if "requestBody" not in op:
        return None
    return _example(_body_schema(op))


def _required_query(op: dict[str, Any]) -> dict[str, str]:
    return {p["name"]: str(_example(_param_schema(p))) for p in op.get("parameters", [])
            if p["in"] == "query" and p.get("required")}


def _fill(path: str, ident: str) -> str:
    return "".join(part if i % 2 == 0 else ident for i, part in enumerate(path.replace("{", "}").split("}")))


def _call(client: Any, method: str, path: str, *, token: str | None = None, body: Any = None,
          query: dict[str, str] | None = None, ident: str = MISSING_ID) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    url = _fill(path, ident)
    if query:
        from urllib.parse import urlencode

        url = f"{url}?{urlencode(query)}"
    if method == "get":
        return client.get(url, headers=headers)
    data = "" if body is None else json.dumps(body)
    return getattr(client, method)(url, data, content_type="application/json", headers=headers)


@pytest.fixture
def tokens(db) -> dict[str, str]:
    from smarketing.playbook.services import playbook_bootstrap
    from smarketing.team.services import api_token_create, user_create

    playbook_bootstrap()
    return {role: api_token_create(user=user_create(username=f"{role}1", password="pw", role=role,
                                                    email=f"{role}1@example.com"), name="test")[1]
            for role in ("viewer", "revops")}


def _ids(ops: list[tuple[str, str, dict[str, Any]]]) -> list[str]:
    return [f"{m.upper()} {p}" for m, p, _ in ops]


def test_the_schema_walk_sees_every_router():
    tags = {tag for _, _, op in OPERATIONS for tag in op.get("tags", [])}

    assert {"team", "playbook", "crm", "campaigns", "lifecycle", "feedback", "scoring", "analytics"} <= tags
    assert len(OPERATIONS) > len(EXPECTED)


@pytest.mark.parametrize(("method", "path", "op"), OPERATIONS, ids=_ids(OPERATIONS))
def test_every_operation_documents_the_errors_it_can_answer_with(method, path, op):
    responses = {str(code): r for code, r in op["responses"].items()}  # the generated schema keys them by int
    missing = expected_errors(method, path, op) - set(responses)

    assert not missing, f"{method.upper()} {path} does not document {sorted(missing)}"
    for code in expected_errors(method, path, op):
        content = responses[code].get("content", {}).get("application/json", {}).get("schema", {})
        assert content.get("$ref", "").endswith("/ErrorOut"), (method, path, code)


def test_every_operation_answers_401_without_a_token(client):
    wrong = []
    for method, path, _ in OPERATIONS:
        response = _call(client, method, path)
        if response.status_code != 401 or response.json().get("code") != "unauthenticated":
            wrong.append(f"{method.upper()} {path}: {response.status_code}")

    assert wrong == []


# Writes every signed-in user makes on their own records (revoking their own token, reading their own
# notifications, their own preferences): a viewer may call them, and another user's record is not found to them.
SELF_SERVICE = {("delete", "/api/team/tokens/{token_id}"), ("post", "/api/notifications/{notification_id}/read"),
                ("post", "/api/notifications/read-all"), ("patch", "/api/team/me")}


def test_every_write_answers_403_to_a_viewer(client, tokens):
    wrong = []
    for method, path, op in OPERATIONS:
        if method == "get" or (method, path) in SELF_SERVICE:
            continue
        response = _call(client, method, path, token=tokens["viewer"], body=_body(op))
        if response.status_code != 403 or response.json().get("code") != "forbidden":
            wrong.append(f"{method.upper()} {path}: {response.status_code}")

    assert wrong == []


def test_self_service_writes_answer_a_viewer_but_not_on_others_records(client, tokens):
    listed = {(method, path) for method, path, _ in OPERATIONS}
    for method, path, op in OPERATIONS:
        if (method, path) not in SELF_SERVICE or "{" not in path:
            continue
        # a record that is not theirs is not found (another user's is covered by tests/test_roles_matrix_api.py)
        response = _call(client, method, path, token=tokens["viewer"], body=_body(op))
        assert response.status_code == 404, f"{method.upper()} {path}: {response.status_code}"
    assert ("delete", "/api/team/tokens/{token_id}") in listed


def test_every_operation_with_a_body_or_typed_query_answers_422_to_a_bad_one(client, tokens):
    wrong = []
    for method, path, op in OPERATIONS:
        if "requestBody" in op:
            # Why id 1: an endpoint may look its record up before it reads the body (the playbook's v1 exists)
            response = _call(client, method, path, token=tokens["revops"], body=_bad_body(op), ident="1")
        elif (query := _bad_query(op)) is not None:
            response = _call(client, method, path, token=tokens["revops"], body=_body(op), query=query, ident="1")
        else:
            continue
        if response.status_code != 422 or response.json().get("code") != "validation_error":
            wrong.append(f"{method.upper()} {path}: {response.status_code}")

    assert wrong == [], "\n".join(wrong)


def test_every_operation_on_a_missing_id_answers_404(client, tokens):
    wrong = []
    for method, path, op in OPERATIONS:
        if "{" not in path:
            continue
        response = _call(client, method, path, token=tokens["revops"], body=_body(op), query=_required_query(op))
        if response.status_code != 404 or response.json().get("code") != "not_found":
            wrong.append(f"{method.upper()} {path}: {response.status_code} {response.content[:200]!r}")

    assert wrong == [], "\n".join(wrong)
