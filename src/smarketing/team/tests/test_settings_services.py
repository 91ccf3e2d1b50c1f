"""What the Settings area does, in the services and the API: tokens issued for another user by RevOps, the
notification email choice (own, viewers too), and the guards that keep an admin from locking themselves out."""

from __future__ import annotations

from datetime import date

import pytest

from smarketing.core.errors import PermissionDenied, ValidationFailed
from smarketing.team.models import ApiToken
from smarketing.team.services import (
    api_token_authenticate,
    api_token_create,
    user_active_set,
    user_capacity_set,
    user_manager_set,
    user_out_of_office_set,
    user_role_set,
)


def test_revops_issue_a_token_for_a_viewer_through_the_api_and_it_works(api, users):
    made = api.post("/api/team/tokens", {"name": "dashboard", "user_id": users["viewer"].pk})
    assert made.status_code == 201, made.json()
    body = made.json()
    assert (body["username"], body["name"]) == ("viewer1", "dashboard")
    assert api_token_authenticate(body["secret"]) == users["viewer"]


def test_only_revops_issue_tokens_for_others(api, users):
    refused = api.post("/api/team/tokens", {"name": "x", "user_id": users["viewer"].pk}, role="marketing")
    missing = api.post("/api/team/tokens", {"name": "x", "user_id": 987654})
    own = api.post("/api/team/tokens", {"name": "mine", "user_id": users["marketing"].pk}, role="marketing")
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    assert (missing.status_code, missing.json()["field"]) == (422, "user_id")
    assert own.status_code == 201
    assert not ApiToken.objects.filter(user=users["viewer"], name="x").exists()


def test_a_deactivated_user_gets_no_new_token(users):
    user_active_set(user=users["viewer"], active=False)
    with pytest.raises(ValidationFailed) as err:
        api_token_create(user=users["viewer"], name="late", by=users["revops"])
    assert err.value.field == "user_id"


def test_each_user_chooses_their_notification_emails_a_viewer_too(api, users):
    before = api.get("/api/team/me", role="viewer").json()
    changed = api.patch("/api/team/me", {"email_notifications": "immediate"}, role="viewer")
    wrong = api.patch("/api/team/me", {"email_notifications": "hourly"}, role="viewer")
    assert before["email_notifications"] == "digest"
    assert changed.status_code == 200 and changed.json()["email_notifications"] == "immediate"
    assert wrong.status_code == 422
    users["viewer"].refresh_from_db()
    assert users["viewer"].email_notifications == "immediate"
    by_admin = api.patch(f"/api/team/users/{users['sales'].pk}", {"email_notifications": "off"})
    assert by_admin.json()["email_notifications"] == "off"


def test_the_settings_services_change_one_thing_each(users):
    seller, boss = users["sales"], users["marketing"]
    user_manager_set(user=seller, manager=boss)
    user_out_of_office_set(user=seller, until=date(2026, 12, 24))
    user_capacity_set(user=seller, per_week=30)
    user_role_set(user=users["viewer"], role="marketing", by=users["revops"])
    seller.refresh_from_db()
    users["viewer"].refresh_from_db()
    assert (seller.manager_id, seller.out_of_office_until, seller.capacity_per_week) == (
        boss.pk, date(2026, 12, 24), 30)
    assert users["viewer"].role == "marketing"
    with pytest.raises(ValidationFailed) as loop:
        user_manager_set(user=boss, manager=seller)
    assert loop.value.field == "manager_id"
    with pytest.raises(ValidationFailed) as negative:
        user_capacity_set(user=seller, per_week=-1)
    assert negative.value.field == "capacity_per_week"


def test_an_admin_cannot_demote_or_deactivate_themselves(users):
    admin = users["revops"]
    for change in (lambda: user_role_set(user=admin, role="viewer", by=admin),
                   lambda: user_active_set(user=admin, active=False, by=admin)):
        with pytest.raises(ValidationFailed, match="yourself"):
            change()
    admin.refresh_from_db()
    assert admin.role == "revops" and admin.is_active


def test_a_non_admin_cannot_issue_for_others_in_the_service(users):
    with pytest.raises(PermissionDenied):
        api_token_create(user=users["viewer"], name="x", by=users["sales"])


def test_the_api_keeps_an_admin_from_demoting_or_deactivating_themselves(api, users):
    me = users["revops"].pk
    demote = api.patch(f"/api/team/users/{me}", {"role": "viewer"})
    deactivate = api.patch(f"/api/team/users/{me}", {"is_active": False})
    same_role = api.patch(f"/api/team/users/{me}", {"role": "revops", "capacity_per_week": 3})
    assert (demote.status_code, demote.json()["field"]) == (422, "role")
    assert (deactivate.status_code, deactivate.json()["field"]) == (422, "is_active")
    assert same_role.status_code == 200
