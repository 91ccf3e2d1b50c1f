"""Password policy, login lockout (django-axes), API rate limits (429 `throttled`) and RevOps without superuser.

The test settings relax each of these so the suite can use short passwords and many requests; every test here
switches the production setting back on first.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from typer.testing import CliRunner

from smarketing.core.errors import ValidationFailed

PRODUCTION_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


@pytest.fixture
def production_passwords(settings):
    from smarketing.settings import base

    settings.AUTH_PASSWORD_VALIDATORS = base.AUTH_PASSWORD_VALIDATORS
    assert base.AUTH_PASSWORD_VALIDATORS == PRODUCTION_VALIDATORS


@pytest.fixture
def rate_limits(settings):
    cache.clear()
    settings.SMARKETING_API_RATE = "5/m"
    settings.SMARKETING_API_BAD_TOKEN_LIMIT = 3
    yield
    cache.clear()


def test_a_weak_password_is_refused_with_the_validators_messages(db, production_passwords):
    from smarketing.team.services import user_create

    with pytest.raises(ValidationFailed) as exc:
        user_create(username="weak", password="a", role="revops")

    assert exc.value.field == "password"
    assert "too short" in exc.value.message and "at least 12 characters" in exc.value.message


def test_createuser_refuses_a_weak_password(db, production_passwords):
    from smarketing.cli import build_app
    from smarketing.team.models import User

    result = CliRunner().invoke(build_app(), ["createuser", "weak", "--role", "revops", "--password", "a"])

    assert result.exit_code != 0
    assert "too short" in str(result.exception)
    assert not User.objects.filter(username="weak").exists()


def test_revops_users_are_not_superusers_unless_asked(db, production_passwords):
    from smarketing.cli import build_app
    from smarketing.team.models import User

    runner = CliRunner()
    plain = runner.invoke(build_app(), ["createuser", "rita", "--role", "revops", "--password", "correct horse battery"])
    root = runner.invoke(build_app(), ["createuser", "root", "--role", "revops", "--password", "staple battery horse",
                                       "--superuser"])

    assert plain.exit_code == 0 and root.exit_code == 0, (plain.output, root.output)
    rita, admin = User.objects.get(username="rita"), User.objects.get(username="root")
    assert rita.is_staff and not rita.is_superuser
    assert admin.is_superuser
    assert "superuser" in root.output


def test_a_revops_user_does_not_hold_the_sales_role(db, users):
    from smarketing.team.enums import Role
    from smarketing.team.roles import has_role

    assert not users["revops"].is_superuser
    assert not has_role(users["revops"], frozenset({Role.SALES}))


def test_the_admin_refuses_a_weak_password(db, users, production_passwords):
    client = Client()
    client.force_login(users["revops"])

    response = client.post("/admin/team/user/add/", {"username": "weakling", "password1": "a", "password2": "a",
                                                     "usable_password": "true"})

    assert response.status_code == 200  # the form again, with the validators' messages
    assert b"too short" in response.content


def test_ten_failed_logins_lock_the_username_and_address_out(db, users, settings):
    settings.AXES_ENABLED = True
    client = Client()

    for _ in range(10):
        client.post("/login/", {"username": "sales1", "password": "wrong"})
    locked = client.post("/login/", {"username": "sales1", "password": "pw"})

    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_a_good_login_before_the_limit_resets_the_count(db, users, settings):
    settings.AXES_ENABLED = True
    client = Client()

    for _ in range(9):
        client.post("/login/", {"username": "sales1", "password": "wrong"})
    response = client.post("/login/", {"username": "sales1", "password": "pw"})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(users["sales"].pk)


def test_a_token_beyond_its_rate_gets_429_throttled(api, rate_limits):
    answers = [api.get("/api/team/me", role="sales") for _ in range(6)]

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    assert answers[-1].json()["code"] == "throttled"
    assert int(answers[-1]["Retry-After"]) > 0
    assert api.get("/api/team/me", role="marketing").status_code == 200  # another token has its own budget


def test_an_address_sending_bad_tokens_is_throttled_even_with_a_good_one_after(api, rate_limits):
    bad = Client()
    answers = [bad.get("/api/team/me", headers={"Authorization": f"Bearer smk_guess{i}"}) for i in range(4)]

    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert answers[-1].json()["code"] == "throttled"
    assert api.get("/api/team/me", role="sales").status_code == 429


def test_pages_carry_a_content_security_policy(db, users):
    client = Client()
    client.force_login(users["viewer"])

    response = client.get("/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
