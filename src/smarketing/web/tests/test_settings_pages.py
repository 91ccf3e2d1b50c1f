"""The Settings area (RevOps only): users and roles, reporting line, routing availability, tokens, webhooks (product
JSON or Slack, test send, disable), the overview, and each user's notification email choice on /me/."""

from __future__ import annotations

import json
from datetime import date

import pytest

from smarketing.lifecycle.models import WebhookEndpoint
from smarketing.team.models import ApiToken, User
from smarketing.team.services import api_token_authenticate, api_token_create

PAGES = ["/settings/", "/settings/users/", "/settings/tokens/", "/settings/webhooks/"]


@pytest.mark.parametrize("path", PAGES)
def test_settings_pages_are_revops_only_and_refuse_others_with_the_layout(db, login, path):
    assert login("revops").get(path).status_code == 200
    for role in ("marketing", "sales", "viewer"):
        refused = login(role).get(path)
        html = refused.content.decode()
        assert refused.status_code == 403 and "<nav" in html and "RevOps" in html, role


def test_the_navigation_offers_settings_to_revops_only(db, login):
    assert 'href="/settings/"' in login("revops").get("/me/").content.decode()
    assert 'href="/settings/"' not in login("sales").get("/me/").content.decode()


def test_revops_create_a_user_and_errors_show_by_field(db, login, users):
    client = login("revops")
    bad = client.post("/settings/users/", {"username": "sales1", "email": "not-an-email", "role": "sales",
                                           "password": "pw"})
    html = bad.content.decode()
    assert bad.status_code == 422
    assert 'data-field="email"' in html and "Enter a valid email address." in html
    good = client.post("/settings/users/", {"username": "rita", "email": "rita@corp.example", "role": "sales",
                                            "first_name": "Rita", "password": "a-long-password-1",
                                            "manager": users["sales"].pk})
    rita = User.objects.get(username="rita")
    assert good.status_code == 302 and good["Location"] == f"/settings/users/{rita.pk}/"
    assert (rita.role, rita.manager_id, rita.email) == ("sales", users["sales"].pk, "rita@corp.example")
    assert rita.check_password("a-long-password-1")
    taken = client.post("/settings/users/", {"username": "rita", "email": "r2@corp.example", "role": "sales",
                                             "password": "another-password-2"})
    assert taken.status_code == 422 and "user &#x27;rita&#x27; already exists" in taken.content.decode()


def test_revops_change_role_manager_routing_and_deactivate(db, login, users):
    client = login("revops")
    seller = users["sales"]
    url = f"/settings/users/{seller.pk}/"
    assert client.post(url, {"action": "manager", "manager-manager": users["marketing"].pk}).status_code == 302
    assert client.post(url, {"action": "routing", "routing-team_name": "EMEA", "routing-capacity_per_week": "25",
                             "routing-out_of_office_until": "2026-12-24"}).status_code == 302
    assert client.post(url, {"action": "role", "role-role": "marketing"}).status_code == 302
    seller.refresh_from_db()
    assert (seller.manager_id, seller.team_name, seller.capacity_per_week, seller.out_of_office_until, seller.role) == (
        users["marketing"].pk, "EMEA", 25, date(2026, 12, 24), "marketing")
    # a reporting loop and a negative capacity are refused beside their fields
    loop = client.post(f"/settings/users/{users['marketing'].pk}/", {"action": "manager", "manager-manager": seller.pk})
    assert loop.status_code == 422 and "would make a reporting loop" in loop.content.decode()
    negative = client.post(url, {"action": "routing", "routing-capacity_per_week": "-3"})
    assert negative.status_code == 422 and 'data-field="capacity_per_week"' in negative.content.decode()
    # deactivating stops the user's tokens
    _, secret = api_token_create(user=seller, name="t")
    assert client.post(url, {"action": "active", "active-active": "0"}).status_code == 302
    seller.refresh_from_db()
    assert not seller.is_active and api_token_authenticate(secret) is None


def test_an_admin_cannot_deactivate_or_demote_themselves_on_the_page(db, login, users):
    client = login("revops")
    url = f"/settings/users/{users['revops'].pk}/"
    refused = client.post(url, {"action": "active", "active-active": "0"})
    demoted = client.post(url, {"action": "role", "role-role": "viewer"})
    assert refused.status_code == demoted.status_code == 422
    assert "you cannot deactivate yourself" in refused.content.decode()
    users["revops"].refresh_from_db()
    assert users["revops"].is_active and users["revops"].role == "revops"


def test_revops_issue_a_token_for_a_viewer_shown_once_and_revoke_it(db, login, users):
    client = login("revops")
    made = client.post("/settings/tokens/", {"user": users["viewer"].pk, "name": "dashboard", "days": "30"})
    html = made.content.decode()
    token = ApiToken.objects.get(name="dashboard")
    assert made.status_code == 201 and token.user == users["viewer"] and token.expires_at is not None
    secret = html.split('id="new-secret"')[1].split("<code>")[1].split("</code>")[0]
    assert api_token_authenticate(secret) == users["viewer"]
    assert secret not in client.get("/settings/tokens/").content.decode()  # never shown again
    assert client.post(f"/settings/tokens/{token.pk}/revoke/").status_code == 302
    assert api_token_authenticate(secret) is None
    missing = client.post("/settings/tokens/", {"name": "x", "days": "0"})
    assert missing.status_code == 422 and 'data-field="user"' in missing.content.decode()


def test_revops_add_a_slack_webhook_test_it_and_disable_it(db, login, settings):
    from smarketing.lifecycle.tests.conftest import Receiver

    settings.SMARKETING_WEBHOOK_ALLOW = ("127.0.0.1",)
    receiver = Receiver()
    try:
        client = login("revops")
        refused = client.post("/settings/webhooks/", {"url": "http://10.1.2.3/hook", "format": "slack"})
        assert refused.status_code == 422 and "private address" in refused.content.decode()
        made = client.post("/settings/webhooks/", {"url": receiver.url, "format": "slack",
                                                   "event_types": ["sla.breached"]})
        endpoint = WebhookEndpoint.objects.get()
        assert made.status_code == 201 and endpoint.format == "slack" and endpoint.event_types == ["sla.breached"]
        assert len(endpoint.secret) >= 16 and endpoint.secret in made.content.decode()  # generated, shown once
        tested = client.post(f"/settings/webhooks/{endpoint.pk}/test/", follow=True)
        assert "it answered HTTP 200" in tested.content.decode()
        assert set(json.loads(receiver.requests[0]["body"])) == {"text", "blocks"}
        assert client.post(f"/settings/webhooks/{endpoint.pk}/active/", {"active": "0"}).status_code == 302
        endpoint.refresh_from_db()
        assert not endpoint.active
    finally:
        receiver.close()


def test_every_user_chooses_their_notification_emails_on_their_profile(db, login, users):
    client = login("viewer")
    assert 'name="email_notifications" value="digest" checked' in client.get("/me/").content.decode()
    saved = client.post("/me/notifications/", {"email_notifications": "off"}, follow=True)
    assert "Notification emails: No email." in saved.content.decode()
    users["viewer"].refresh_from_db()
    assert users["viewer"].email_notifications == "off"


def test_the_overview_says_whether_email_is_on(db, login, settings):
    from smarketing.settings.env import Smtp

    assert "No SMTP server is set" in login("revops").get("/settings/").content.decode()
    settings.SMARKETING_SMTP = Smtp(host="mail.example.com", port=587, user="", password="",
                                    sender="smk@example.com", tls="starttls")
    assert "mail.example.com:587" in login("revops").get("/settings/").content.decode()
