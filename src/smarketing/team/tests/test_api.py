"""The team API: who am I, and API tokens (secret shown once, listed never, revocable)."""

from __future__ import annotations

from django.test import Client

from smarketing.team.models import ApiToken
from smarketing.team.services import api_token_create


def test_me_describes_the_token_user(api):
    body = api.get("/api/team/me", role="marketing").json()

    assert body["username"] == "marketing1"
    assert (body["role"], body["can_write"], body["is_admin"], body["playbook_side"]) == (
        "marketing", True, False, "marketing")
    assert api.get("/api/team/me", role="viewer").json()["can_write"] is False


def test_token_secret_is_returned_once_and_works(api):
    # when a seller issues a token for a script
    created = api.post("/api/team/tokens", {"name": "crm sync"}, role="sales")

    # then the response carries the secret, which authenticates as the seller
    assert created.status_code == 201
    secret = created.json()["secret"]
    assert secret.startswith("smk_") and secret.startswith(created.json()["prefix"])
    me = Client().get("/api/team/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json()["username"] == "sales1"

    # and listing tokens never shows it again; the database holds only a digest
    listed = api.get("/api/team/tokens", role="sales")
    assert secret not in listed.content.decode()
    assert all("secret" not in t for t in listed.json())
    assert "crm sync" in {t["name"] for t in listed.json()}
    assert not ApiToken.objects.filter(digest=secret).exists()


def test_token_list_shows_only_your_own(api, users):
    api_token_create(user=users["marketing"], name="marketing script")

    names = {t["name"] for t in api.get("/api/team/tokens", role="sales").json()}

    assert "marketing script" not in names


def test_admin_lists_every_users_tokens_others_may_not(api):
    everyone = api.get("/api/team/tokens", role="revops", all_users="true")
    refused = api.get("/api/team/tokens", role="sales", all_users="true")

    assert {t["username"] for t in everyone.json()} == {"marketing1", "sales1", "revops1", "viewer1"}
    assert refused.status_code == 403
    assert refused.json()["field"] == "all_users"


def test_revoked_token_stops_working_and_is_listed_as_inactive(api, users):
    token, secret = api_token_create(user=users["sales"], name="laptop")

    response = api.delete(f"/api/team/tokens/{token.pk}", role="sales")

    assert response.status_code == 200
    assert response.json()["active"] is False
    assert Client().get("/api/team/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    active_names = {t["name"] for t in api.get("/api/team/tokens", role="sales", include_revoked="false").json()}
    assert "laptop" not in active_names


def test_you_cannot_revoke_someone_elses_token_but_an_admin_can(api, users):
    token, _ = api_token_create(user=users["marketing"], name="theirs")

    by_sales = api.delete(f"/api/team/tokens/{token.pk}", role="sales")
    by_admin = api.delete(f"/api/team/tokens/{token.pk}", role="revops")

    assert by_sales.status_code == 404
    assert by_sales.json()["code"] == "not_found"
    assert by_admin.status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is not None


def test_viewer_cannot_issue_tokens(api):
    before = ApiToken.objects.count()

    response = api.post("/api/team/tokens", {"name": "bi"}, role="viewer")

    assert response.status_code == 403
    assert ApiToken.objects.count() == before


def test_token_name_is_required(api):
    before = ApiToken.objects.count()

    response = api.post("/api/team/tokens", {"name": ""})

    assert response.status_code == 422
    assert response.json()["field"] == "name"
    assert ApiToken.objects.count() == before
