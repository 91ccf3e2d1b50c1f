"""Users provisioned through the API by RevOps: idempotent by email, role / manager / capacity / deactivation,
no usable password unless one is given (then the password policy applies)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.test import Client, override_settings

from smarketing.team.models import User
from smarketing.team.services import api_token_create, user_provision

MIN_LENGTH = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
               "OPTIONS": {"min_length": 12}}]


def test_create_then_repeat_by_email_in_any_case_updates_the_same_user(api, users):
    created = api.post("/api/team/users", {"email": "Rita.Rep@corp.example", "role": "sales", "first_name": "Rita",
                                           "capacity_per_week": 25, "manager_id": users["sales"].pk})
    repeat = api.post("/api/team/users", {"email": "rita.rep@CORP.example", "capacity_per_week": 40,
                                          "region": "EMEA"})

    assert (created.status_code, repeat.status_code) == (201, 200), created.json()
    assert created.json()["id"] == repeat.json()["id"]
    body = repeat.json()
    assert (body["username"], body["role"], body["first_name"], body["capacity_per_week"], body["region"]) == (
        "rita.rep@corp.example", "sales", "Rita", 40, "EMEA")
    assert (body["manager_id"], body["manager_username"], body["has_password"]) == (
        users["sales"].pk, "sales1", False)
    assert User.objects.filter(email__iexact="rita.rep@corp.example").count() == 1
    assert not User.objects.get(pk=body["id"]).has_usable_password()


def test_only_revops_may_create_or_change_users(api, users):
    by_sales = api.post("/api/team/users", {"email": "x@corp.example"}, role="sales")
    patch_by_marketing = api.patch(f"/api/team/users/{users['viewer'].pk}", {"role": "sales"}, role="marketing")
    by_viewer = api.post("/api/team/users", {"email": "x@corp.example"}, role="viewer")

    assert (by_sales.status_code, patch_by_marketing.status_code, by_viewer.status_code) == (403, 403, 403)
    assert by_sales.json()["code"] == "forbidden"
    assert not User.objects.filter(email="x@corp.example").exists()
    assert User.objects.get(pk=users["viewer"].pk).role == "viewer"


def test_patch_sets_role_manager_capacity_and_out_of_office(api, users):
    rep = user_provision(email="rep@corp.example", role="sales")[0]

    response = api.patch(f"/api/team/users/{rep.pk}", {"role": "revops", "manager_id": users["revops"].pk,
                                                       "capacity_per_week": 12,
                                                       "out_of_office_until": "2026-12-24"})

    assert response.status_code == 200, response.json()
    rep.refresh_from_db()
    assert (rep.role, rep.manager_id, rep.capacity_per_week, str(rep.out_of_office_until)) == (
        "revops", users["revops"].pk, 12, "2026-12-24")
    assert rep.is_staff and rep.user_permissions.count() == Permission.objects.count()
    demoted = api.patch(f"/api/team/users/{rep.pk}", {"role": "viewer", "manager_id": None})
    rep.refresh_from_db()
    assert demoted.json()["manager_id"] is None
    assert (rep.is_staff, rep.user_permissions.count()) == (False, 0)


def test_deactivated_users_tokens_stop_working(api):
    rep = user_provision(email="leaver@corp.example", role="sales")[0]
    _, secret = api_token_create(user=rep, name="script")
    client = Client()
    assert client.get("/api/team/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    response = api.patch(f"/api/team/users/{rep.pk}", {"is_active": False})

    assert response.json()["is_active"] is False
    assert client.get("/api/team/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_a_manager_loop_is_refused_naming_the_field(api):
    boss = user_provision(email="boss@corp.example", role="sales")[0]
    rep = user_provision(email="rep@corp.example", role="sales", manager=boss)[0]

    loop = api.patch(f"/api/team/users/{boss.pk}", {"manager_id": rep.pk})
    self_managed = api.patch(f"/api/team/users/{rep.pk}", {"manager_id": rep.pk})
    nobody = api.patch(f"/api/team/users/{rep.pk}", {"manager_id": 98765})

    assert (loop.status_code, loop.json()["field"]) == (422, "manager_id")
    assert (self_managed.status_code, self_managed.json()["field"]) == (422, "manager_id")
    assert (nobody.status_code, nobody.json()["field"]) == (422, "manager_id")
    boss.refresh_from_db()
    assert boss.manager_id is None


@pytest.mark.parametrize(("body", "field"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@corp.example", "role": "ceo"}, "role"),
    ({"email": "a@corp.example", "capacity_per_week": -1}, "capacity_per_week"),
    ({"email": "a@corp.example", "surprise": 1}, "surprise"),
])
def test_bad_user_is_422_naming_the_field(api, body, field):
    response = api.post("/api/team/users", body)

    assert response.status_code == 422
    assert field in {d["field"] for d in response.json().get("details", [])} | {response.json().get("field")}
    assert not User.objects.filter(email=body["email"]).exists()


@override_settings(AUTH_PASSWORD_VALIDATORS=MIN_LENGTH)
def test_a_given_password_must_pass_the_password_policy(api):
    short = api.post("/api/team/users", {"email": "pw@corp.example", "password": "short"})
    long = api.post("/api/team/users", {"email": "pw@corp.example", "password": "a long enough passphrase"})

    assert (short.status_code, short.json()["field"]) == (422, "password")
    assert long.status_code == 201
    assert long.json()["has_password"] is True
    assert User.objects.get(email="pw@corp.example").check_password("a long enough passphrase")


def test_user_list_pages_and_filters(api, users):
    user_provision(email="old@corp.example", role="sales", is_active=False)
    # the query parameter `role` clashes with the test client's own, so the request is made by hand
    viewer = {"Authorization": f"Bearer {api.tokens['viewer']}"}

    sellers = api.client.get("/api/team/users", {"role": "sales"}, headers=viewer).json()
    active_sellers = api.client.get("/api/team/users", {"role": "sales", "is_active": "true"}, headers=viewer).json()
    first = api.get("/api/team/users", role="viewer", limit=2).json()

    assert {u["username"] for u in sellers["items"]} == {"sales1", "old@corp.example"}
    assert {u["username"] for u in active_sellers["items"]} == {"sales1"}
    assert (first["total"], [u["username"] for u in first["items"]]) == (5, ["marketing1", "old@corp.example"])
