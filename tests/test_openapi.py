"""The API describes itself: /api/openapi.json is a valid OpenAPI document listing every endpoint; /api/docs renders."""

from __future__ import annotations

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
