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
