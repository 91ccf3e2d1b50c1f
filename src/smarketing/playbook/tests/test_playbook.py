import copy

import pytest
import yaml

from smarketing.core.errors import Conflict, PermissionDenied, ValidationFailed
from smarketing.crm.models import Contact
from smarketing.lifecycle.services import stage_change_record
from smarketing.playbook import schema
from smarketing.playbook.selectors import default_playbook_data, playbook_to_yaml, playbook_version_active_get
from smarketing.playbook.services import (
    playbook_bootstrap,
    playbook_draft_create,
    playbook_draft_update,
    playbook_import_yaml,
    playbook_sign_off,
)
from smarketing.testing.factories import ContactFactory


def test_shipped_default_playbook_is_valid():
    terms = schema.parse(default_playbook_data())
    assert terms.scoring.mql_threshold == 60
    assert terms.stage("mql") is not None


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["scoring"].__setitem__("mql_threshold", -5), "scoring.mql_threshold"),
        (lambda d: d["scoring"]["fit_rules"][2].__setitem__("points", 500), "scoring.fit_rules.2.points"),
        (lambda d: d["sla"]["calendar"].__setitem__("timezone", "Mars/Olympus"), "sla.calendar.timezone"),
        (lambda d: d["scoring"]["engagement_rules"][0].__setitem__("kind", "telepathy"), "scoring.engagement_rules.0.kind"),
        (lambda d: d.pop("handoff"), "handoff"),
        (lambda d: d["stages"][1]["entry_criteria"][0].__setitem__("field", "salary"),
         "stages.1.entry_criteria.0.field"),
        (lambda d: d.__setitem__("surprise", 1), "surprise"),
        (lambda d: d["handoff"]["rejection_reasons"][3].__setitem__("disposition", "recycle_later"),
         "handoff.rejection_reasons.3.disposition"),
    ],
)
def test_invalid_playbook_names_the_field(mutate, field):
    data = copy.deepcopy(default_playbook_data())
    mutate(data)
    with pytest.raises(schema.PlaybookInvalid) as exc:
        schema.parse(data)
    assert field in [e["field"] for e in exc.value.errors]
    assert field in str(exc.value)


def test_shipped_default_playbook_states_every_rejection_disposition():
    # the shipped YAML says where each rejection sends the lead, rather than leaving it to the key's wording
    reasons = default_playbook_data()["handoff"]["rejection_reasons"]
    assert all(r.get("disposition") in {"recycled", "disqualified"} for r in reasons)
    assert {r["key"] for r in reasons if r["disposition"] == "recycled"} == {"no_budget", "bad_timing"}


@pytest.mark.parametrize(("key", "disposition"), [("bad_timing", "recycled"), ("no_budget", "recycled"),
                                                  ("nurture_later", "recycled"), ("no_need", "disqualified"),
                                                  ("competitor", "disqualified")])
def test_a_reason_without_a_disposition_keeps_what_its_key_implied(key, disposition):
    # given a playbook written before reasons stated their disposition
    data = copy.deepcopy(default_playbook_data())
    data["handoff"]["rejection_reasons"] = [{"key": key, "label": key}]
    # when it is read
    reason = schema.parse(data).handoff.rejection_reasons[0]
    # then the reason gets the disposition its key implied, and stating it overrides that
    assert reason.disposition == disposition
    other = "disqualified" if disposition == "recycled" else "recycled"
    data["handoff"]["rejection_reasons"][0]["disposition"] = other
    assert schema.parse(data).handoff.rejection_reasons[0].disposition == other


def test_a_draft_stores_each_reasons_disposition_explicitly(db):
    data = copy.deepcopy(default_playbook_data())
    for r in data["handoff"]["rejection_reasons"]:
        r.pop("disposition")

    version = playbook_draft_create(content=data)

    assert {r["key"]: r["disposition"] for r in version.content["handoff"]["rejection_reasons"]}["bad_timing"] == (
        "recycled")
    assert all("disposition" in r for r in version.content["handoff"]["rejection_reasons"])


def test_invalid_draft_writes_nothing(db):
    from smarketing.playbook.models import PlaybookVersion

    bad = copy.deepcopy(default_playbook_data())
    bad["scoring"]["engagement_half_life_days"] = 0
    with pytest.raises(ValidationFailed) as exc:
        playbook_draft_create(content=bad)
    assert exc.value.field == "scoring.engagement_half_life_days"
    assert PlaybookVersion.objects.count() == 0


def test_yaml_syntax_error_names_the_line(db):
    with pytest.raises(ValidationFailed) as exc:
        playbook_import_yaml(text="name: x\nstages: [\n  - oops: : :\n")
    assert "line" in exc.value.message


def test_draft_becomes_active_only_after_marketing_and_sales_sign(users, active_playbook):
    draft = playbook_draft_create(content=default_playbook_data(), created_by=users["revops"])
    playbook_sign_off(version=draft, user=users["marketing"])
    draft.refresh_from_db()
    assert draft.status == "draft"
    assert playbook_version_active_get() == active_playbook

    playbook_sign_off(version=draft, user=users["sales"])
    draft.refresh_from_db()
    active_playbook.refresh_from_db()
    assert draft.status == "active"
    assert active_playbook.status == "superseded"


def test_only_marketing_and_sales_users_sign(users, active_playbook):
    draft = playbook_draft_create(content=default_playbook_data())
    for role in ("revops", "viewer"):
        with pytest.raises(PermissionDenied):
            playbook_sign_off(version=draft, user=users[role])


def test_editing_a_draft_voids_earlier_signatures(users, active_playbook):
    draft = playbook_draft_create(content=default_playbook_data())
    playbook_sign_off(version=draft, user=users["marketing"])
    changed = copy.deepcopy(default_playbook_data())
    changed["scoring"]["mql_threshold"] = 70
    playbook_draft_update(version=draft, content=changed)
    playbook_sign_off(version=draft, user=users["sales"])
    draft.refresh_from_db()
    assert draft.status == "draft", "marketing signed other content; its signature must not count"
    playbook_sign_off(version=draft, user=users["marketing"])
    draft.refresh_from_db()
    assert draft.status == "active"


def test_active_version_cannot_be_edited_or_signed(users, active_playbook):
    with pytest.raises(Conflict):
        playbook_draft_update(version=active_playbook, content=default_playbook_data())
    with pytest.raises(Conflict):
        playbook_sign_off(version=active_playbook, user=users["sales"])


def test_stage_change_is_stamped_with_the_active_version(users, active_playbook):
    contact = ContactFactory()
    first = stage_change_record(contact=contact, to_stage="mql", reason="score 72 >= 60")
    assert first.playbook_version == active_playbook
    assert first.from_stage == "lead"

    draft = playbook_draft_create(content=default_playbook_data())
    playbook_sign_off(version=draft, user=users["marketing"])
    playbook_sign_off(version=draft, user=users["sales"])
    second = stage_change_record(contact=contact, to_stage="sal", actor=users["sales"], actor_kind="user")
    assert second.playbook_version.number == draft.number
    assert second.from_stage == "mql"
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "sal"


def test_stage_change_without_active_playbook_explains_what_to_do(db):
    contact = ContactFactory()
    with pytest.raises(Conflict) as exc:
        stage_change_record(contact=contact, to_stage="mql")
    assert "sign" in exc.value.message


def test_stage_history_is_append_only(active_playbook):
    change = stage_change_record(contact=ContactFactory(), to_stage="mql")
    change.reason = "rewritten"
    with pytest.raises(TypeError):
        change.save()


def test_export_then_import_round_trips(active_playbook):
    text = playbook_to_yaml(active_playbook)
    again = playbook_import_yaml(text=text)
    assert again.content == active_playbook.content
    assert again.content_sha == active_playbook.content_sha
    assert again.status == "draft"
    assert yaml.safe_load(text)["name"] == active_playbook.content["name"]


def test_bootstrap_is_idempotent(db):
    assert playbook_bootstrap().pk == playbook_bootstrap().pk
