"""The playbook API: versions with sign-off status, YAML export/import, drafts, sign-off and diffs."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from django.core.serializers.json import DjangoJSONEncoder

from smarketing.playbook.models import PlaybookSignoff, PlaybookVersion
from smarketing.playbook.selectors import default_playbook_data


def put(api, path: str, body, role: str = "revops", content_type: str = "application/json"):
    data = body if isinstance(body, str) else json.dumps(body, cls=DjangoJSONEncoder)
    return api.client.put(path, data, content_type=content_type,
                          headers={"Authorization": f"Bearer {api.tokens[role]}"})


def post_yaml(api, path: str, text: str, role: str = "revops"):
    return api.client.post(path, text, content_type="application/yaml",
                           headers={"Authorization": f"Bearer {api.tokens[role]}"})


def edited(mutate) -> dict:
    data = copy.deepcopy(default_playbook_data())
    mutate(data)
    return data


def raise_threshold(d: dict) -> None:
    d["scoring"]["mql_threshold"] = 70


def test_active_version_and_list_show_sign_off_per_side(api, active_playbook):
    active = api.get("/api/playbook/active", role="viewer")
    versions = api.get("/api/playbook/versions", role="viewer")

    assert active.status_code == 200
    body = active.json()
    assert (body["number"], body["status"], body["bootstrap"]) == (1, "active", True)
    assert body["content"]["scoring"]["mql_threshold"] == 60
    assert body["signoff"] == {"marketing": {"signed": False, "by": None, "at": None, "comment": ""},
                               "sales": {"signed": False, "by": None, "at": None, "comment": ""}}
    assert [v["number"] for v in versions.json()] == [1]
    assert "content" not in versions.json()[0]


def test_no_active_playbook_is_409(api):
    response = api.get("/api/playbook/active")

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"


def test_export_is_yaml_that_round_trips(api, active_playbook):
    response = api.get("/api/playbook/versions/1/export", role="viewer")

    assert response.status_code == 200, response.json()
    assert response["Content-Type"].startswith("application/yaml")
    assert 'filename="playbook-v1.yaml"' in response["Content-Disposition"]
    assert yaml.safe_load(response.content) == active_playbook.content
    assert api.get("/api/playbook/active/export").content == response.content


def test_draft_from_json_is_based_on_the_active_version_and_awaits_both_sides(api, active_playbook):
    response = api.post("/api/playbook/versions", {"content": edited(raise_threshold), "notes": "stricter MQL"},
                        role="marketing")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["number"], body["status"], body["based_on"], body["created_by"]) == (2, "draft", 1, "marketing1")
    assert body["awaiting"] == ["marketing", "sales"]
    assert body["content"]["scoring"]["mql_threshold"] == 70
    assert PlaybookVersion.objects.get(number=1).status == "active"


def test_draft_from_a_yaml_body(api, active_playbook):
    text = yaml.safe_dump(edited(raise_threshold))

    response = api.client.post("/api/playbook/versions?notes=from%20file", text, content_type="application/yaml",
                               headers={"Authorization": f"Bearer {api.tokens['sales']}"})

    assert response.status_code == 201, response.json()
    assert response.json()["notes"] == "from file"
    assert PlaybookVersion.objects.get(number=2).content["scoring"]["mql_threshold"] == 70


def test_invalid_playbook_lists_every_bad_field_path_and_writes_nothing(api, active_playbook):
    def break_three(d: dict) -> None:
        d["scoring"]["mql_threshold"] = -5
        d["scoring"]["fit_rules"][2]["points"] = 500
        d["sla"]["calendar"]["timezone"] = "Mars/Olympus"

    response = api.post("/api/playbook/versions", {"content": edited(break_three)})

    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert {d["field"] for d in body["details"]} == {"scoring.mql_threshold", "scoring.fit_rules.2.points",
                                                    "sla.calendar.timezone"}
    assert PlaybookVersion.objects.count() == 1


def test_an_unknown_rejection_disposition_is_422_naming_its_path(api, active_playbook):
    response = api.post("/api/playbook/versions", {"content": edited(
        lambda d: d["handoff"]["rejection_reasons"][0].__setitem__("disposition", "nurture"))})

    assert response.status_code == 422
    assert response.json()["field"] == "handoff.rejection_reasons.0.disposition"
    assert "recycled" in response.json()["message"] and "disqualified" in response.json()["message"]
    assert PlaybookVersion.objects.count() == 1


@pytest.mark.parametrize(("text", "field"), [
    ("name: [unclosed\n", "(yaml)"),
    ("- just\n- a list\n", "(root)"),
])
def test_unreadable_yaml_is_422(api, active_playbook, text, field):
    response = post_yaml(api, "/api/playbook/versions", text)

    assert response.status_code == 422
    assert response.json()["field"] == field
    assert PlaybookVersion.objects.count() == 1


@pytest.mark.parametrize(("body", "field"), [
    ({"notes": "no content"}, "content"),
    ({"content": "not a mapping"}, "content"),
    ({"content": {}, "based_on": 77}, "based_on"),
])
def test_bad_json_envelope_is_422_naming_the_field(api, active_playbook, body, field):
    response = api.post("/api/playbook/versions", body)

    assert response.status_code == 422
    assert field in {d["field"] for d in response.json().get("details", [])} | {response.json().get("field")}
    assert PlaybookVersion.objects.count() == 1


def test_update_draft_makes_earlier_signoffs_stale(api, active_playbook):
    api.post("/api/playbook/versions", {"content": edited(raise_threshold)})
    signed = api.post("/api/playbook/versions/2/signoff", {"comment": "fine by marketing"}, role="marketing")
    assert signed.json()["signoff"]["marketing"]["signed"] is True

    def threshold_75(d: dict) -> None:
        d["scoring"]["mql_threshold"] = 75

    updated = put(api, "/api/playbook/versions/2", {"content": edited(threshold_75), "notes": "75 after all"})

    assert updated.status_code == 200, updated.json()
    body = updated.json()
    assert body["content"]["scoring"]["mql_threshold"] == 75
    assert body["notes"] == "75 after all"
    assert body["signoff"]["marketing"]["signed"] is False
    assert body["awaiting"] == ["marketing", "sales"]
    assert [s["current"] for s in body["signoffs"]] == [False]


def test_update_draft_with_yaml(api, active_playbook):
    api.post("/api/playbook/versions", {"content": edited(raise_threshold)})

    response = put(api, "/api/playbook/versions/2?notes=yaml", yaml.safe_dump(default_playbook_data()),
                   content_type="text/yaml")

    assert response.status_code == 200, response.json()
    assert response.json()["content"]["scoring"]["mql_threshold"] == 60
    assert response.json()["notes"] == "yaml"


def test_active_version_cannot_be_edited(api, active_playbook):
    response = put(api, "/api/playbook/versions/1", {"content": edited(raise_threshold)})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert PlaybookVersion.objects.get(number=1).content["scoring"]["mql_threshold"] == 60


def test_invalid_update_keeps_the_draft(api, active_playbook):
    api.post("/api/playbook/versions", {"content": edited(raise_threshold)})

    def bad(d: dict) -> None:
        d["routing"]["rules"][0]["when"] = []

    response = put(api, "/api/playbook/versions/2", {"content": edited(bad)})

    assert response.status_code == 422
    assert "routing.rules.0.when" in {d["field"] for d in response.json()["details"]}
    assert PlaybookVersion.objects.get(number=2).content["scoring"]["mql_threshold"] == 70


def test_marketing_then_sales_sign_off_activates_the_draft(api, active_playbook):
    # given a draft
    api.post("/api/playbook/versions", {"content": edited(raise_threshold)})

    # when marketing signs, it is still a draft waiting for sales
    first = api.post("/api/playbook/versions/2/signoff", {}, role="marketing").json()
    assert (first["status"], first["awaiting"]) == ("draft", ["sales"])

    # and when sales signs too, it becomes active and v1 is superseded
    second = api.post("/api/playbook/versions/2/signoff", {"comment": "agreed"}, role="sales").json()
    assert second["status"] == "active"
    assert second["signoff"]["sales"] == {**second["signoff"]["sales"], "signed": True, "by": "sales1",
                                          "comment": "agreed"}
    assert api.get("/api/playbook/active").json()["number"] == 2
    assert PlaybookVersion.objects.get(number=1).status == "superseded"


def test_signoff_without_a_body_is_accepted(api, active_playbook):
    api.post("/api/playbook/versions", {"content": edited(raise_threshold)})

    response = api.client.generic("POST", "/api/playbook/versions/2/signoff", b"",
                                  headers={"Authorization": f"Bearer {api.tokens['sales']}"})

    assert response.status_code == 200, response.json()
    assert response.json()["signoff"]["sales"]["signed"] is True


@pytest.mark.parametrize(("role", "status"), [("revops", 403), ("viewer", 403)])
def test_only_marketing_and_sales_sign_off(api, active_playbook, role, status):
    api.post("/api/playbook/versions", {"content": edited(raise_threshold)})

    response = api.post("/api/playbook/versions/2/signoff", {}, role=role)

    assert response.status_code == status
    assert response.json()["code"] == "forbidden"
    assert PlaybookSignoff.objects.count() == 0


def test_signing_an_active_version_is_409(api, active_playbook):
    response = api.post("/api/playbook/versions/1/signoff", {}, role="sales")

    assert response.status_code == 409
    assert PlaybookSignoff.objects.count() == 0


def test_diff_names_changed_terms(api, active_playbook):
    def changes(d: dict) -> None:
        d["scoring"]["mql_threshold"] = 70
        d["scoring"]["fit_rules"] = [r for r in d["scoring"]["fit_rules"] if r["id"] != "fit-free-email"]
        d["goals"].append({"period": "2027", "revenue": 15000000})

    api.post("/api/playbook/versions", {"content": edited(changes)})

    body = api.get("/api/playbook/diff", role="viewer", a=1, b=2).json()

    found = {(c["path"], c["kind"]) for c in body["changes"]}
    assert ("scoring.mql_threshold", "changed") in found
    assert ("scoring.fit_rules[fit-free-email]", "removed") in found
    assert ("goals.3", "added") in found
    assert "-  mql_threshold: 60" in body["unified"] or "mql_threshold" in body["unified"]
    assert (body["from_version"], body["to_version"]) == (1, 2)


def test_diff_with_a_missing_version_is_404(api, active_playbook):
    response = api.get("/api/playbook/diff", a=1, b=9)

    assert response.status_code == 404
    assert "9" in response.json()["message"]
