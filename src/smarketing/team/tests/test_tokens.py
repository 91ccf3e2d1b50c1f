"""API tokens that expire, and every user (a viewer too) revoking their own: API, CLI and the profile page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from typer.testing import CliRunner

from smarketing.core import clock
from smarketing.team.models import ApiToken
from smarketing.team.services import api_token_authenticate, api_token_create

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


def _me(secret: str) -> object:
    return Client().get("/api/team/me", headers={"Authorization": f"Bearer {secret}"})


def test_token_with_expiry_works_until_then_and_is_a_401_after(api):
    # given a token issued through the API that expires in an hour
    clock.freeze(NOW)
    created = api.post("/api/team/tokens", {"name": "one hour", "expires_at": "2026-11-20T16:00:00Z"}, role="sales")
    assert created.status_code == 201
    assert created.json()["expires_at"].startswith("2026-11-20T16:00:00")
    secret = created.json()["secret"]

    # when it is used before and after that moment
    clock.freeze(NOW + timedelta(minutes=59))
    before = _me(secret)
    clock.freeze(NOW + timedelta(hours=1))
    after = _me(secret)

    # then it authenticates until then, and nobody (401 JSON) from then on, listed as inactive
    assert before.status_code == 200
    assert before.json()["username"] == "sales1"
    assert after.status_code == 401
    assert after.json()["code"] == "unauthenticated"
    listed = {t["name"]: t for t in api.get("/api/team/tokens", role="sales").json()}
    assert listed["one hour"]["active"] is False
    assert listed["one hour"]["revoked_at"] is None


@pytest.mark.parametrize(("expires_at", "problem"), [
    ("2026-11-20T14:00:00Z", "not in the future"),
    ("2040-01-01T00:00:00Z", "more than five years"),
    ("2026-12-01T00:00:00", "time zone"),
])
def test_expiry_in_the_past_too_far_or_without_zone_is_refused(api, expires_at, problem):
    clock.freeze(NOW)
    before = ApiToken.objects.count()

    response = api.post("/api/team/tokens", {"name": "x", "expires_at": expires_at}, role="marketing")

    assert response.status_code == 422
    assert response.json()["field"] == "expires_at"
    assert problem in response.json()["message"] or problem == "time zone"
    assert ApiToken.objects.count() == before


def test_token_without_expiry_never_expires(users):
    clock.freeze(NOW)
    _, secret = api_token_create(user=users["marketing"], name="forever")

    clock.freeze(NOW + timedelta(days=3650))

    assert api_token_authenticate(secret) == users["marketing"]


def test_viewer_revokes_their_own_token_but_not_anyone_elses(api, users):
    # given a viewer with a second token, and a seller's token
    own, own_secret = api_token_create(user=users["viewer"], name="bi tool")
    theirs, _ = api_token_create(user=users["sales"], name="not yours")

    # when the viewer revokes both through the API
    mine = api.delete(f"/api/team/tokens/{own.pk}", role="viewer")
    other = api.delete(f"/api/team/tokens/{theirs.pk}", role="viewer")

    # then their own is revoked and stops working; the other is not found and still works
    assert mine.status_code == 200
    assert mine.json()["active"] is False
    assert _me(own_secret).status_code == 401
    assert other.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    # and the viewer is still read-only elsewhere
    assert api.post("/api/touchpoints", {}, role="viewer").status_code == 403


def test_cli_issues_an_expiring_token_lists_and_revokes_it(users):
    from smarketing.cli import build_app

    clock.freeze(NOW)
    runner = CliRunner()
    issued = runner.invoke(build_app(), ["token", "viewer1", "--name", "nightly", "--days", "30"])
    assert issued.exit_code == 0, issued.output
    secret = issued.output.strip()
    token = ApiToken.objects.get(name="nightly")
    assert token.expires_at == NOW + timedelta(days=30)
    assert api_token_authenticate(secret) == users["viewer"]

    listed = runner.invoke(build_app(), ["token", "viewer1", "--list"])
    assert f"{token.pk}\t{token.prefix}…\tnightly\tactive\texpires 2026-12-20 15:00 UTC" in listed.output

    wrong_user = runner.invoke(build_app(), ["token", "sales1", "--revoke", str(token.pk)])
    assert wrong_user.exit_code != 0
    assert "user 'sales1' has no API token" in str(wrong_user.exception)
    revoked = runner.invoke(build_app(), ["token", "viewer1", "--revoke", str(token.pk)])
    assert revoked.exit_code == 0, revoked.output
    assert api_token_authenticate(secret) is None


def test_profile_page_lists_your_tokens_and_revokes_one(users):
    # given a viewer signed in with two tokens, and a seller's token
    keep, _ = api_token_create(user=users["viewer"], name="keep me")
    drop, drop_secret = api_token_create(user=users["viewer"], name="drop me")
    theirs, _ = api_token_create(user=users["sales"], name="seller's script")
    browser = Client()
    browser.force_login(users["viewer"])

    # when they open their profile
    page = browser.get("/me/")

    # then it lists their tokens only (never a secret), each active one with a revoke button
    html = page.content.decode()
    assert page.status_code == 200
    assert "keep me" in html and "drop me" in html and "seller&#x27;s script" not in html
    assert drop_secret not in html
    assert f'action="/me/tokens/{drop.pk}/revoke/"' in html

    # when they revoke one, and try another user's
    done = browser.post(f"/me/tokens/{drop.pk}/revoke/", follow=True)
    other = browser.post(f"/me/tokens/{theirs.pk}/revoke/")

    # then theirs is revoked, the page says so, the other user's token stands
    assert done.status_code == 200
    assert "is revoked" in done.content.decode()
    assert api_token_authenticate(drop_secret) is None
    assert other.status_code == 404
    theirs.refresh_from_db()
    keep.refresh_from_db()
    assert theirs.revoked_at is None and keep.revoked_at is None
    # and a viewer cannot issue one from the page
    assert browser.post("/me/", {"name": "x", "days": "30"}).status_code == 403


def test_profile_page_issues_an_expiring_token_shown_once(users):
    clock.freeze(NOW)
    browser = Client()
    browser.force_login(users["marketing"])

    issued = browser.post("/me/", {"name": "sheet sync", "days": "7"})
    refused = browser.post("/me/", {"name": "", "days": "7"})

    token = ApiToken.objects.get(name="sheet sync")
    assert issued.status_code == 201
    assert token.expires_at == NOW + timedelta(days=7)
    secret = issued.content.decode().split('id="new-secret"')[1].split("<code>")[1].split("</code>")[0]
    assert api_token_authenticate(secret) == users["marketing"]
    assert secret not in Client().get("/me/").content.decode()
    assert refused.status_code == 422


def test_profile_page_needs_a_login():
    response = Client().get("/me/")

    assert response.status_code == 302
    assert "/login/" in response["Location"]


def test_every_page_links_your_name_to_your_profile(users):
    browser = Client()
    browser.force_login(users["viewer"])

    html = browser.get("/me/").content.decode()

    assert '<a href="/me/" title="Your profile and API tokens" aria-current="page">' in html
