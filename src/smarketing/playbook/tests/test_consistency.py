"""The playbook states each term once: one MQL threshold, terms that do not contradict each other, finite numbers."""

from __future__ import annotations

import copy
import importlib
import json
from datetime import UTC, datetime

import pytest
import yaml
from django.apps import apps
from django.core.serializers.json import DjangoJSONEncoder

from smarketing.campaigns.models import Touchpoint
from smarketing.cli import main
from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.models import StageChange
from smarketing.lifecycle.services_handoff import mql_qualify
from smarketing.playbook import schema
from smarketing.playbook.enums import Side, VersionStatus
from smarketing.playbook.models import PlaybookSignoff, PlaybookVersion
from smarketing.playbook.selectors import default_playbook_data
from smarketing.playbook.services import content_sha, playbook_draft_create, playbook_sign_off, signoff_sides
from smarketing.scoring.selectors import contact_score_explain
from smarketing.testing.factories import AccountFactory, CampaignFactory, ContactFactory

NOW = datetime(2026, 11, 24, 15, tzinfo=UTC)  # a Tuesday, 10:00 in New York
migration = importlib.import_module("smarketing.playbook.migrations.0003_mql_threshold_stated_once")


def edited(mutate) -> dict:
    data = copy.deepcopy(default_playbook_data())
    mutate(data)
    return data


def mql_stage(data: dict) -> dict:
    return next(s for s in data["stages"] if s["key"] == "mql")


def restate_threshold(value: float, op: str = ">="):
    def mutate(d: dict) -> None:
        mql_stage(d)["entry_criteria"].insert(0, {"field": "score.total", "op": op, "value": value})

    return mutate


def test_the_shipped_default_states_the_threshold_once_and_the_mql_test_reads_it():
    data = default_playbook_data()
    assert not [c for c in mql_stage(data)["entry_criteria"] if c["field"] == "score.total"]
    terms = schema.parse(data)
    test = terms.entry_criteria(Stage.MQL)
    assert (test[0].field, test[0].op, test[0].value) == ("score.total", ">=", 60)
    assert [(c.field, c.value) for c in test[1:]] == [("score.fit", 10)]


def test_a_criterion_that_restates_the_threshold_is_dropped_not_stored_twice():
    terms = schema.parse(edited(restate_threshold(60)))
    assert [c.field for c in terms.stage(Stage.MQL).entry_criteria] == ["score.fit"]


def _two_goals_for_q4(d: dict) -> None:
    d["goals"].append({"period": "2026-Q4", "revenue": 1, "currency": "USD"})


def _second_lead_stage(d: dict) -> None:
    d["stages"].append({**d["stages"][0], "name": "Lead again"})


def _no_recycled_stage(d: dict) -> None:
    d["stages"] = [s for s in d["stages"] if s["key"] != "recycled"]


@pytest.mark.parametrize(("mutate", "field"), [
    (restate_threshold(55), "stages.1.entry_criteria.0"),
    (restate_threshold(60, ">"), "stages.1.entry_criteria.0"),
    (lambda d: d["sla"]["sales"].update(first_touch_business_hours=20, decision_business_days=2),
     "sla.sales.decision_business_days"),
    (_second_lead_stage, "stages.8.key"),
    (_no_recycled_stage, "handoff.rejection_reasons.0.disposition"),
    (lambda d: d["handoff"]["rejection_reasons"][2].update(key="no_budget"), "handoff.rejection_reasons.2.key"),
    (lambda d: d["scoring"]["engagement_rules"][0].update(id="fit-industry"), "scoring.engagement_rules.0.id"),
    (lambda d: d["scoring"]["fit_rules"][1].update(id="fit-industry"), "scoring.fit_rules.1.id"),
    (lambda d: d["scoring"]["fit_rules"][0]["when"].append({"field": "score.engagement", "op": ">", "value": 5}),
     "scoring.fit_rules.0.when.1.field"),
    (lambda d: d["routing"]["rules"][1].update(id="route-enterprise"), "routing.rules.1.id"),
    (_two_goals_for_q4, "goals.3.period"),
    (lambda d: d["ideal_journeys"]["new_customer"].append({"kind": "stage:churned"}), "ideal_journeys.new_customer.10.kind"),
])
def test_contradictory_terms_are_refused_naming_the_field(mutate, field):
    with pytest.raises(schema.PlaybookInvalid) as exc:
        schema.parse(edited(mutate))
    assert field in [e["field"] for e in exc.value.errors], exc.value.errors


def test_the_threshold_contradiction_names_both_terms():
    with pytest.raises(schema.PlaybookInvalid) as exc:
        schema.parse(edited(lambda d: (restate_threshold(55)(d), d["scoring"].update(mql_threshold=50))))
    [problem] = exc.value.errors
    assert problem["field"] == "stages.1.entry_criteria.0"
    assert "scoring.mql_threshold (50)" in problem["message"] and "score.total >= 55" in problem["message"]


@pytest.mark.parametrize(("mutate", "field"), [
    (lambda d: d["scoring"].update(mql_threshold=float("nan")), "scoring.mql_threshold"),
    (lambda d: d["scoring"].update(engagement_half_life_days=float("inf")), "scoring.engagement_half_life_days"),
    (lambda d: d["goals"][0].update(revenue=float("inf")), "goals.0.revenue"),
    (lambda d: d["scoring"]["fit_rules"][1]["when"][0].update(value=float("-inf")), "scoring.fit_rules.1.when.0.value"),
    (lambda d: d["routing"]["rules"][0]["when"][0].update(value=[1.0, float("nan")]),
     "routing.rules.0.when.0.value.1"),
    (lambda d: d["sla"]["marketing"].update(min_acceptance_rate=float("nan")), "sla.marketing.min_acceptance_rate"),
])
def test_non_finite_numbers_are_refused_anywhere_naming_the_field(mutate, field):
    with pytest.raises(schema.PlaybookInvalid) as exc:
        schema.parse(edited(mutate))
    assert [e["field"] for e in exc.value.errors] == [field]
    assert "finite" in exc.value.errors[0]["message"]


def test_the_service_refuses_a_contradictory_draft_and_writes_nothing(active_playbook):
    with pytest.raises(ValidationFailed) as exc:
        playbook_draft_create(content=edited(lambda d: (restate_threshold(55)(d),
                                                        d["scoring"].update(mql_threshold=50))))
    assert exc.value.field == "stages.1.entry_criteria.0"
    assert [d["field"] for d in exc.value.details] == ["stages.1.entry_criteria.0"]
    assert PlaybookVersion.objects.count() == 1


def test_the_api_refuses_a_contradictory_draft_with_422_naming_the_field(api, active_playbook):
    body = {"content": edited(lambda d: d["sla"]["sales"].update(first_touch_business_hours=40)), "notes": "x"}
    response = api.client.post("/api/playbook/versions", json.dumps(body, cls=DjangoJSONEncoder),
                               content_type="application/json",
                               headers={"Authorization": f"Bearer {api.tokens['marketing']}"})
    assert response.status_code == 422
    assert "sla.sales.decision_business_days" in [d["field"] for d in response.json()["details"]]
    assert PlaybookVersion.objects.count() == 1


def test_the_api_refuses_nan_in_a_yaml_body_naming_the_field(api, active_playbook):
    text = yaml.safe_dump(default_playbook_data(), sort_keys=False).replace("mql_threshold: 60",
                                                                          "mql_threshold: .nan")
    response = api.client.post("/api/playbook/versions", text, content_type="application/yaml",
                               headers={"Authorization": f"Bearer {api.tokens['marketing']}"})
    assert response.status_code == 422
    assert [d["field"] for d in response.json()["details"]] == ["scoring.mql_threshold"]


def test_the_cli_refuses_a_contradictory_file_with_exit_2_naming_the_field(capsys, tmp_path, active_playbook):
    path = tmp_path / "two-thresholds.yaml"
    path.write_text(yaml.safe_dump(edited(restate_threshold(65)), sort_keys=False), encoding="utf-8")
    with pytest.raises(SystemExit) as exc:
        main(["playbook", "import", str(path)])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert "  stages.1.entry_criteria.0: score.total >= 65 contradicts scoring.mql_threshold (60)" in err
    assert "Traceback" not in err and PlaybookVersion.objects.count() == 1


def test_sign_off_revalidates_stored_content_and_refuses_an_invalid_one(users, active_playbook):
    # given a draft stored around the services, stating the threshold twice and differently
    content = schema.parse(default_playbook_data()).model_dump(mode="json")
    restate_threshold(55)(content)
    content["scoring"]["mql_threshold"] = 50.0
    draft = PlaybookVersion.objects.create(number=2, content=content, content_sha=content_sha(content))
    # when marketing tries to sign it
    with pytest.raises(ValidationFailed) as exc:
        playbook_sign_off(version=draft, user=users["marketing"])
    # then it is refused by field, no signature is recorded and v1 stays active
    assert exc.value.field == "stages.1.entry_criteria.0"
    assert not PlaybookSignoff.objects.exists()
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT and active_playbook.pk == PlaybookVersion.objects.get(
        status=VersionStatus.ACTIVE).pk


def _contact_scoring_52():
    """A champion (12) at a mid-size software company (15 + 15) who viewed pricing just now (10): 52 points."""
    account = AccountFactory(industry="Software", employees=800, region="EMEA")
    contact = ContactFactory(account=account, buying_role="champion")
    Touchpoint.objects.create(contact=contact, account=account, campaign=CampaignFactory(), channel="web",
                              kind="pricing_view", occurred_at=NOW)
    return contact


def test_a_signed_off_threshold_change_changes_qualification(users, active_playbook):
    # given a contact scoring 52 under the active playbook, whose MQL threshold is 60
    clock.freeze(NOW)
    contact = _contact_scoring_52()
    before = mql_qualify(contact=contact)
    assert not before.qualified and before.score["total"] == 52
    assert before.unmet == ["score.total 52.00 is below the MQL threshold 60"]
    # when both teams sign off a draft with mql_threshold: 50
    draft = playbook_draft_create(content=edited(lambda d: d["scoring"].update(mql_threshold=50)),
                                  created_by=users["marketing"], based_on=active_playbook)
    playbook_sign_off(version=draft, user=users["marketing"])
    playbook_sign_off(version=draft, user=users["sales"])
    draft.refresh_from_db()
    assert draft.status == VersionStatus.ACTIVE
    # then the score explanation and qualification both read the new threshold
    explained = contact_score_explain(contact_id=contact.pk)
    assert (explained["mql_threshold"], explained["qualifies_as_mql"]) == (50, True)
    after = mql_qualify(contact=contact)
    assert after.qualified
    change = StageChange.objects.get(contact=contact, to_stage=Stage.MQL)
    assert change.details["threshold"] == 50 and change.playbook_version_id == draft.pk


def test_the_demo_qualifies_at_the_same_threshold():
    import numpy as np

    from smarketing.demo.qualify import first_mql
    from smarketing.scoring.rules import facts_from

    facts = [facts_from({"buying_role": "champion", "email": "a@corp.example"},
                        {"industry": "Software", "employees": 800})]
    touch = (np.zeros(1, dtype=np.int64), np.zeros(1), np.asarray(["pricing_view"], dtype=object))
    at_60 = first_mql(schema.parse(default_playbook_data()), facts, *touch)
    at_50 = first_mql(schema.parse(edited(lambda d: d["scoring"].update(mql_threshold=50))), facts, *touch)
    assert at_60.touch_index.tolist() == [-1]
    assert at_50.touch_index.tolist() == [0] and at_50.total.tolist() == [52]


def _old_shaped(threshold: float, criterion: float) -> dict:
    data = schema.parse(default_playbook_data()).model_dump(mode="json")
    data["scoring"]["mql_threshold"] = threshold
    mql_stage(data)["entry_criteria"].insert(0, {"field": "score.total", "op": ">=", "value": criterion})
    return data


def test_the_migration_states_the_threshold_once_and_keeps_signatures_valid(users):
    # given an active version signed by both sides whose MQL stage said score.total >= 55 next to a 50 threshold,
    # and a draft with a stale marketing signature (on earlier content)
    old = _old_shaped(50.0, 55)
    v1 = PlaybookVersion.objects.create(number=1, status=VersionStatus.ACTIVE, content=old,
                                        content_sha=content_sha(old), activated_at=NOW)
    for role, side in (("marketing", Side.MARKETING), ("sales", Side.SALES)):
        PlaybookSignoff.objects.create(version=v1, user=users[role], side=side, content_sha=v1.content_sha,
                                       signed_at=NOW)
    draft_content = _old_shaped(60.0, 60)
    v2 = PlaybookVersion.objects.create(number=2, content=draft_content, content_sha=content_sha(draft_content))
    PlaybookSignoff.objects.create(version=v2, user=users["marketing"], side=Side.MARKETING, content_sha="0" * 64,
                                   signed_at=NOW)
    current = schema.parse(default_playbook_data()).model_dump(mode="json")
    v3 = PlaybookVersion.objects.create(number=3, content=current, content_sha=content_sha(current))
    # when the data migration runs
    migration.forwards(apps, None)
    # then v1 states the bar it qualified with (the higher of the two) once, and its signatures still count
    v1.refresh_from_db()
    assert v1.content["scoring"]["mql_threshold"] == 55.0
    assert [c["field"] for c in mql_stage(v1.content)["entry_criteria"]] == ["score.fit"]
    assert v1.content_sha == content_sha(v1.content)
    assert signoff_sides(v1) == {Side.MARKETING, Side.SALES}
    assert schema.parse(v1.content).entry_criteria(Stage.MQL)[0].value == 55
    # and every other term is unchanged
    assert {k: v for k, v in v1.content.items() if k not in ("stages", "scoring")} == {
        k: v for k, v in old.items() if k not in ("stages", "scoring")}
    # and the stale signature on the draft stays stale, while a version already stating it once is untouched
    v2.refresh_from_db()
    assert v2.content["scoring"]["mql_threshold"] == 60.0 and signoff_sides(v2) == set()
    v3.refresh_from_db()
    assert v3.content == current and v3.content_sha == content_sha(current)


def test_the_playbook_page_states_the_threshold_from_its_one_home(client, users, active_playbook):
    # given a signed-off change of the MQL threshold to 50
    draft = playbook_draft_create(content=edited(lambda d: d["scoring"].update(mql_threshold=50)))
    playbook_sign_off(version=draft, user=users["marketing"])
    playbook_sign_off(version=draft, user=users["sales"])
    # when anyone reads the playbook page
    client.force_login(users["viewer"])
    html = client.get("/playbook/").content.decode()
    # then the heading and the MQL stage's entry test both say 50, and nothing says 60
    assert "MQL at 50 points" in html
    assert "<code>Score total &gt;= 50</code> (the MQL threshold)" in html
    assert "total &gt;= 60" not in html and "MQL at 60" not in html


def test_a_stored_version_signed_under_older_rules_still_reads(active_playbook):
    # given a superseded version stored with two goals for one quarter (refused in new drafts today)
    from smarketing.playbook.selectors import playbook_terms

    content = schema.parse(default_playbook_data()).model_dump(mode="json")
    _two_goals_for_q4(content)
    old = PlaybookVersion.objects.create(number=2, status=VersionStatus.SUPERSEDED, content=content,
                                         content_sha=content_sha(content))
    # when its terms are read (pages, history stamped with it)
    terms = playbook_terms(old)
    # then they read as stored, while a new draft with the same terms is refused
    assert [g.period for g in terms.goals].count("2026-Q4") == 2
    with pytest.raises(ValidationFailed) as exc:
        playbook_draft_create(content=content)
    assert exc.value.field == "goals.3.period"
