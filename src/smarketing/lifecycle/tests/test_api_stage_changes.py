"""The stage-change API: appends history stamped with the active playbook version."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.crm.models import Contact
from smarketing.lifecycle.models import StageChange
from smarketing.lifecycle.services import stage_change_record
from smarketing.playbook.services import playbook_draft_create, playbook_sign_off
from smarketing.testing.factories import AccountFactory, ContactFactory


def test_stage_change_moves_the_contact_and_is_stamped_with_the_active_version(api, active_playbook):
    # given a lead
    contact = ContactFactory()

    # when a sales user records that it became an MQL
    response = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql",
                                               "occurred_at": "2026-05-04T09:30:00Z", "reason": "demo request"},
                        role="sales")

    # then the history row names the move, the actor and the playbook version, and the contact moved
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["from_stage"], body["to_stage"]) == ("lead", "mql")
    assert body["playbook_version"] == active_playbook.number
    assert (body["actor_username"], body["actor_kind"]) == ("sales1", "user")
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "mql"
    assert StageChange.objects.get(pk=body["id"]).playbook_version_id == active_playbook.pk


def test_changes_after_a_new_version_is_signed_carry_the_new_version(api, users, active_playbook):
    contact = ContactFactory()
    api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql"})
    draft = playbook_draft_create(content=active_playbook.content, notes="v2")
    playbook_sign_off(version=draft, user=users["marketing"])
    playbook_sign_off(version=draft, user=users["sales"])

    response = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "sal"})

    versions = [c["playbook_version"] for c in api.get("/api/stage-changes", contact_id=contact.pk).json()["items"]]
    assert response.json()["playbook_version"] == draft.number == 2
    assert versions == [1, 2]


def test_account_stage_change(api, active_playbook):
    account = AccountFactory()

    response = api.post("/api/stage-changes", {"account_id": account.pk, "to_stage": "customer"})

    assert response.status_code == 201
    account.refresh_from_db()
    assert (account.lifecycle_stage, account.is_customer) == ("customer", True)


@pytest.mark.parametrize(("payload", "field"), [
    ({"to_stage": "mql"}, "contact_id"),
    ({"contact_id": "C", "account_id": "A", "to_stage": "mql"}, "contact_id"),
    ({"contact_id": "C", "to_stage": "hot"}, "to_stage"),
    ({"contact_id": 987654, "to_stage": "mql"}, "contact_id"),
    ({"contact_id": "C", "to_stage": "mql", "occurred_at": "2026-05-04T09:30:00"}, "occurred_at"),
    ({"contact_id": "C", "to_stage": "mql", "actor_kind": "robot"}, "actor_kind"),
    ({"contact_id": "C", "to_stage": "mql", "reason": "x" * 501}, "reason"),
])
def test_invalid_stage_change_is_422_and_moves_nothing(api, active_playbook, payload, field):
    contact = ContactFactory()
    account = AccountFactory()
    payload = {k: {"C": contact.pk, "A": account.pk}.get(v, v) if isinstance(v, str) else v
               for k, v in payload.items()}

    response = api.post("/api/stage-changes", payload)

    assert response.status_code == 422
    body = response.json()
    assert field in {d["field"] for d in body.get("details", [])} | {body.get("field")}
    assert StageChange.objects.count() == 0
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "lead"


def test_stage_change_without_an_active_playbook_is_409_and_moves_nothing(api):
    contact = ContactFactory()

    response = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql"})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "playbook" in response.json()["message"]
    assert StageChange.objects.count() == 0
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "lead"


def test_stage_change_list_filters(api, active_playbook):
    a, b = ContactFactory(), ContactFactory()
    for contact, stage, day in ((a, "mql", 1), (a, "sal", 5), (b, "mql", 9)):
        stage_change_record(contact=contact, to_stage=stage, occurred_at=datetime(2026, 6, day, tzinfo=UTC))

    mqls = api.get("/api/stage-changes", role="viewer", to_stage="mql").json()
    of_a = api.get("/api/stage-changes", contact_id=a.pk).json()
    june_early = api.get("/api/stage-changes", occurred_after="2026-06-01T00:00:00Z",
                         occurred_before="2026-06-06T00:00:00Z").json()

    assert mqls["total"] == 2
    assert [c["to_stage"] for c in of_a["items"]] == ["mql", "sal"]
    assert june_early["total"] == 2


# ------------------------------------------------------------------------------------- source keys (replays)


def test_replaying_a_source_key_returns_the_first_row_and_appends_nothing(api, active_playbook):
    # given a stage change recorded with the sender's key
    contact = ContactFactory()
    body = {"contact_id": contact.pk, "to_stage": "mql", "occurred_at": "2026-05-04T09:30:00Z",
            "source_key": "hubspot:evt-1"}
    first = api.post("/api/stage-changes", body)

    # when the sender retries the same request
    again = api.post("/api/stage-changes", body)

    # then the retry is a 200 with the first row, flagged as not created, and the history holds one row
    assert (first.status_code, first.json()["created"]) == (201, True)
    assert (again.status_code, again.json()["created"]) == (200, False)
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["source_key"] == "hubspot:evt-1"
    assert StageChange.objects.filter(contact=contact).count() == 1
    listed = api.get("/api/stage-changes", source_key="hubspot:evt-1").json()
    assert [c["id"] for c in listed["items"]] == [first.json()["id"]]


def test_a_replay_after_the_subject_moved_on_does_not_move_it_back(api, active_playbook):
    # given an MQL change with a key, then a later move to SAL
    contact = ContactFactory()
    mql = {"contact_id": contact.pk, "to_stage": "mql", "occurred_at": "2026-05-04T09:30:00Z", "source_key": "k-mql"}
    api.post("/api/stage-changes", mql)
    api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "sal"})

    # when the MQL change is delivered again, without its time (the sender's retry omits the default)
    response = api.post("/api/stage-changes", {k: v for k, v in mql.items() if k != "occurred_at"})

    # then it is recognised as the first row and the contact stays a SAL
    assert (response.status_code, response.json()["created"]) == (200, False)
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "sal"
    assert StageChange.objects.filter(contact=contact).count() == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"to_stage": "sal"}, "to_stage"),
    ({"occurred_at": "2026-05-05T09:30:00Z"}, "occurred_at"),
    ({"contact_id": "OTHER"}, "contact_id"),
])
def test_the_same_source_key_with_other_content_is_a_409_naming_the_field(api, active_playbook, change, field):
    # given a keyed stage change
    contact, other = ContactFactory(), ContactFactory()
    body = {"contact_id": contact.pk, "to_stage": "mql", "occurred_at": "2026-05-04T09:30:00Z", "source_key": "k1"}
    first = api.post("/api/stage-changes", body).json()

    # when the key is sent again with different content
    response = api.post("/api/stage-changes", {**body, **{k: other.pk if v == "OTHER" else v
                                                             for k, v in change.items()}})

    # then it is refused with a stable code, the differing field and the existing record; nothing is appended
    assert response.status_code == 409
    error = response.json()
    assert (error["code"], error["field"], error["record"]) == ("source_key_conflict", field,
                                                                f"stage_change:{first['id']}")
    assert "k1" in error["message"]
    assert StageChange.objects.count() == 1
    assert Contact.objects.get(pk=other.pk).lifecycle_stage == "lead"
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "mql"


def test_without_a_source_key_each_post_appends(api, active_playbook):
    contact = ContactFactory()
    bodies = [{"contact_id": contact.pk, "to_stage": stage, "occurred_at": at} for stage, at in (
        ("mql", "2026-05-04T09:30:00Z"), ("sal", "2026-05-05T09:30:00Z"), ("mql", "2026-05-06T09:30:00Z"))]

    statuses = [api.post("/api/stage-changes", body).status_code for body in bodies]

    assert statuses == [201, 201, 201]
    assert StageChange.objects.filter(contact=contact, source_key="").count() == 3


def test_a_change_to_the_stage_the_contact_is_in_is_refused(api, active_playbook):
    # given a contact recorded as a lead (its entry), then as an MQL
    contact = ContactFactory()
    entry = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "lead",
                                            "occurred_at": "2026-05-03T09:30:00Z"})
    lead_again = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "lead",
                                                 "occurred_at": "2026-05-03T10:00:00Z"})
    api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql", "occurred_at": "2026-05-04T09:30:00Z"})

    # when the same stage is posted again, now and as a backfill inside the MQL period
    again = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql"})
    backfill = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql",
                                               "occurred_at": "2026-05-04T12:00:00Z"})

    # then lead → lead and mql → mql are refused naming to_stage; nothing was appended for them
    assert entry.status_code == 201
    assert lead_again.status_code == 422 and "already in stage 'lead'" in lead_again.json()["message"]
    for response in (again, backfill):
        assert response.status_code == 422
        assert response.json()["field"] == "to_stage"
        assert "already in stage 'mql'" in response.json()["message"]
    assert list(StageChange.objects.filter(contact=contact).values_list("to_stage", flat=True)) == ["lead", "mql"]


def test_a_source_key_longer_than_128_characters_is_422(api, active_playbook):
    contact = ContactFactory()

    response = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql", "source_key": "k" * 129})

    assert response.status_code == 422
    assert StageChange.objects.count() == 0
