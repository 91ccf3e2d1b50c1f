"""Text at the API's edge: a NUL byte, another control character, a lone surrogate or a 2 MB value in any body
field, key or query parameter is a 422 naming the field (PostgreSQL answered 500 to a NUL), and nothing is written."""

from __future__ import annotations

import json
from typing import Any

import pytest

from smarketing.campaigns.models import Touchpoint
from smarketing.core.validation import TEXT_MAX_CHARS, hostile_value, text_problem
from smarketing.crm.models import Account
from smarketing.testing.factories import ContactFactory

AT = "2026-10-06T14:00:00Z"


def _post_raw(api: Any, path: str, raw: str, role: str = "revops") -> Any:
    return api.client.post(path, raw, content_type="application/json",
                           headers={"Authorization": f"Bearer {api.tokens[role]}"})


@pytest.mark.parametrize(("value", "problem"), [
    ("a\x00b", "a NUL byte at character 2"),
    ("bell\x07", "the control character U+0007 at character 5"),
    ("\x1b[31mred", "the control character U+001B at character 1"),
])
def test_a_control_character_in_a_body_field_is_a_422_naming_it(api, value, problem):
    contact: Any = ContactFactory()
    body = {"contact_id": contact.pk, "channel": "email", "kind": "email_open", "occurred_at": AT,
            "source": "mailer", "source_id": value}

    response = api.post("/api/touchpoints", body, role="marketing")

    assert response.status_code == 422
    out = response.json()
    assert (out["code"], out["field"]) == ("validation_error", "source_id")
    assert problem in out["message"]
    assert out["details"][0]["field"] == "source_id"
    assert not Touchpoint.objects.exists()


def test_a_lone_surrogate_escaped_in_json_is_refused(api):
    response = _post_raw(api, "/api/accounts", '{"name": "Acme \\ud800 Inc"}')

    assert response.status_code == 422
    assert response.json()["field"] == "name"
    assert "lone surrogate (U+D800)" in response.json()["message"]
    assert not Account.objects.exists()


def test_a_2_mb_text_field_is_refused_by_name(api):
    response = api.post("/api/accounts", {"name": "Acme", "industry": "x" * 2_000_000})

    assert response.status_code == 422
    assert response.json()["field"] == "industry"
    assert "2,000,000 characters long" in response.json()["message"]
    assert not Account.objects.exists()


def test_a_nested_value_and_a_key_are_named_by_their_path(api):
    nested = {"name": "Acme", "tags": [{"ok": "fine"}, {"note": "bad\x00"}]}
    keyed = {"name": "Acme", "extra": {"k\x00": 1}}

    assert hostile_value(nested) == ("tags.1.note", text_problem("bad\x00"))
    found = hostile_value(keyed)
    assert found is not None and found[0] == "extra" and found[1].startswith("a key contains a NUL byte")
    response = _post_raw(api, "/api/accounts", json.dumps(nested))
    assert response.status_code == 422 and response.json()["field"] == "tags.1.note"


def test_a_nul_in_a_query_parameter_is_a_422_naming_it(api):
    response = api.get("/api/team/users", q="ana\x00")

    assert response.status_code == 422
    assert response.json()["field"] == "q"
    assert "NUL" in response.json()["message"]


def test_tabs_and_line_breaks_pass_and_are_kept(api):
    response = api.post("/api/accounts", {"name": "Acme", "industry": "line one\r\nline\ttwo\n"})

    assert response.status_code == 201
    assert Account.objects.get().industry == "line one\r\nline\ttwo\n"


def test_text_problem_bounds():
    assert text_problem("x" * TEXT_MAX_CHARS) is None
    assert "at most 100,000" in (text_problem("x" * (TEXT_MAX_CHARS + 1)) or "")
    assert text_problem("Ümlaut — ok ✓") is None
