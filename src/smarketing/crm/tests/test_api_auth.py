"""Token auth on every endpoint: no, unknown or revoked token → 401; a viewer writing → 403; nothing written."""

from __future__ import annotations

import pytest
from django.test import Client

from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.models import PlaybookVersion
from smarketing.team.models import ApiToken
from smarketing.team.services import api_token_create, api_token_revoke
from smarketing.testing.factories import AccountFactory, CampaignFactory, ContactFactory

READS = ["/api/accounts", "/api/contacts", "/api/opportunities", "/api/campaigns", "/api/touchpoints",
         "/api/stage-changes", "/api/feedback", "/api/team/me", "/api/team/tokens", "/api/playbook/versions",
         "/api/playbook/active", "/api/playbook/active/export", "/api/accounts/1"]

TABLES = [Account, Contact, Opportunity, Campaign, Touchpoint, StageChange, FeedbackItem, PlaybookVersion, ApiToken]


def row_counts() -> dict[str, int]:
    return {model.__name__: model._default_manager.count() for model in TABLES}


@pytest.fixture
def world(active_playbook):
    """One of everything a write could point at."""
    account = AccountFactory()
    contact = ContactFactory(account=account)
    campaign = CampaignFactory()
    return {"account": account, "contact": contact, "campaign": campaign}


def valid_writes(world) -> list[tuple[str, str, dict]]:
    """A valid request for every write endpoint (so a 403 is about the role, not the payload)."""
    a, c, cp = world["account"].pk, world["contact"].pk, world["campaign"].pk
    when = "2026-03-02T10:00:00Z"
    return [
        ("post", "/api/accounts", {"name": "New Co"}),
        ("patch", f"/api/accounts/{a}", {"name": "Renamed"}),
        ("post", "/api/contacts", {"email": "new@corp.example"}),
        ("patch", f"/api/contacts/{c}", {"title": "CFO"}),
        ("post", "/api/opportunities", {"name": "Deal", "account_id": a}),
        ("post", "/api/campaigns", {"name": "Q3 webinar", "channel": "webinar", "start_date": "2026-07-01"}),
        ("patch", f"/api/campaigns/{cp}", {"budget": 5}),
        ("post", "/api/touchpoints", {"contact_id": c, "channel": "email", "kind": "email_open", "occurred_at": when}),
        ("post", "/api/stage-changes", {"contact_id": c, "to_stage": "mql"}),
        ("post", "/api/feedback", {"contact_id": c, "kind": "praise", "text": "Love the reports"}),
        ("post", "/api/team/tokens", {"name": "bi"}),
        ("post", "/api/playbook/versions", {"content": active_content()}),
    ]


def active_content() -> dict:
    return PlaybookVersion.objects.get(status="active").content


def call(client: Client, method: str, path: str, body: dict, token: str | None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return getattr(client, method)(path, body, content_type="application/json", headers=headers)


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("token", [None, "smk_not-a-real-token", "garbage", ""])
def test_reads_without_a_valid_token_are_401(db, path, token):
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}

    response = Client().get(path, headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_a_revoked_token_is_401(users):
    token, secret = api_token_create(user=users["sales"], name="old")
    client = Client()
    assert client.get("/api/team/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    api_token_revoke(token_id=token.pk)
    response = client.get("/api/team/me", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 401
    assert response.json()["code"] == "unauthenticated"


def test_an_inactive_user_token_is_401(users):
    _, secret = api_token_create(user=users["marketing"], name="t")
    users["marketing"].is_active = False
    users["marketing"].save()

    response = Client().get("/api/accounts", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 401


def test_every_write_without_a_token_is_401_and_writes_nothing(api, world):
    before = row_counts()

    statuses = {path: call(api.client, m, path, body, None).status_code for m, path, body in valid_writes(world)}

    assert set(statuses.values()) == {401}, statuses
    assert row_counts() == before


def test_every_write_by_a_viewer_is_403_and_writes_nothing(api, world):
    before = row_counts()

    responses = [(path, call(api.client, m, path, body, api.tokens["viewer"]))
                 for m, path, body in valid_writes(world)]

    assert {p: r.status_code for p, r in responses} == {p: 403 for p, _ in responses}
    assert {r.json()["code"] for _, r in responses} == {"forbidden"}
    assert row_counts() == before
    world["account"].refresh_from_db()
    assert world["account"].name != "Renamed"


def test_the_same_writes_succeed_for_a_writer(api, world):
    # the control for the 403 test: the payloads are valid, so the role was the only reason
    responses = {path: call(api.client, m, path, body, api.tokens["marketing"]).status_code
                 for m, path, body in valid_writes(world)}

    assert set(responses.values()) <= {200, 201}, responses


@pytest.mark.parametrize("role", ["viewer", "sales"])
def test_viewers_and_writers_can_read(api, world, role):
    for path in READS[:-1]:
        response = api.get(path, role=role)
        assert response.status_code == 200, (path, response.content[:200])
