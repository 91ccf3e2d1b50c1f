"""Past stage changes recorded in bulk (imports): the version in force at their time, chained history, the
cached stage moved only by the latest change, re-imports adding nothing, and no clock, webhook or notification."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Account, Contact
from smarketing.lifecycle.models import Notification, SlaClock, StageChange, WebhookDelivery
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_bulk import PastStageChange, stage_changes_bulk_record
from smarketing.testing.factories import AccountFactory, ContactFactory


def at(month: int, day: int = 1, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, tzinfo=UTC)


def test_each_change_carries_the_version_in_force_at_its_time(v1_january_v2_march):
    # given v1 adopted on 1 January and v2 signed off by both sides on 1 March
    v1, v2 = v1_january_v2_march
    contact = ContactFactory()
    # when an import backfills a history spanning both (and older than either)
    stage_changes_bulk_record(changes=[
        PastStageChange(to_stage="customer", occurred_at=at(4), contact_id=contact.pk),
        PastStageChange(to_stage="lead", occurred_at=at(12, 1, 2025), contact_id=contact.pk),
        PastStageChange(to_stage="mql", occurred_at=at(2), contact_id=contact.pk),
    ])
    # then each is judged by the version active at its time (the first version for what came before it)
    rows = list(StageChange.objects.filter(contact=contact).order_by("occurred_at"))
    assert [(r.to_stage, r.playbook_version_id) for r in rows] == [
        ("lead", v1.pk), ("mql", v1.pk), ("customer", v2.pk)]
    # and the history is chained in time order, whatever the order given, and the contact is where it ended
    assert [r.from_stage for r in rows] == ["", "lead", "mql"]
    assert all(r.actor_kind == "import" for r in rows)
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "customer"


def test_backfill_older_than_the_history_keeps_the_current_stage(active_playbook):
    # given a contact that became an MQL today
    contact = ContactFactory()
    stage_change_record(contact=contact, to_stage="mql", occurred_at=at(6))
    # when an import adds the lead change from before it
    added = stage_changes_bulk_record(changes=[
        PastStageChange(to_stage="lead", occurred_at=at(1), contact_id=contact.pk, source_key="crm:1:lead")])
    # then it is history only: the contact stays an MQL
    assert added == 1
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "mql"
    assert list(StageChange.objects.filter(contact=contact).order_by("occurred_at")
                .values_list("from_stage", "to_stage")) == [("", "lead"), ("lead", "mql")]


def test_reimports_add_nothing(active_playbook):
    # given an import recorded a lead change with a key and an MQL change without one
    contact = ContactFactory()
    changes = [PastStageChange(to_stage="lead", occurred_at=at(1), contact_id=contact.pk, source_key="x:1:lead"),
               PastStageChange(to_stage="mql", occurred_at=at(2), contact_id=contact.pk)]
    assert stage_changes_bulk_record(changes=changes) == 2
    # when the same history comes again, then the key and the same move at the same time are recognised
    assert stage_changes_bulk_record(changes=changes) == 0
    assert StageChange.objects.filter(contact=contact).count() == 2


def test_an_account_reaching_customer_becomes_a_customer(active_playbook):
    account = AccountFactory()
    stage_changes_bulk_record(changes=[PastStageChange(to_stage="customer", occurred_at=at(2),
                                                       account_id=account.pk)])
    account = Account.objects.get(pk=account.pk)
    assert (account.lifecycle_stage, account.is_customer) == ("customer", True)


def test_imported_history_starts_no_clock_and_tells_nobody(active_playbook, users):
    # given a lead with an owner
    contact = ContactFactory(owner=users["sales"])
    # when an import records that it became an MQL
    stage_changes_bulk_record(changes=[PastStageChange(to_stage="mql", occurred_at=at(2), contact_id=contact.pk)])
    # then the past is recorded, and no SLA clock runs, no webhook is queued and nobody is notified
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "mql"
    assert (SlaClock.objects.count(), WebhookDelivery.objects.count(), Notification.objects.count()) == (0, 0, 0)


@pytest.mark.parametrize(("change", "field"), [
    (PastStageChange(to_stage="won", occurred_at=at(2), contact_id=1), "to_stage"),
    (PastStageChange(to_stage="mql", occurred_at=datetime(2026, 2, 1), contact_id=1), "occurred_at"),
    (PastStageChange(to_stage="mql", occurred_at=at(2), contact_id=1, account_id=1), "contact"),
    (PastStageChange(to_stage="mql", occurred_at=at(2)), "contact"),
    (PastStageChange(to_stage="mql", occurred_at=at(2), contact_id=1, source_key="k" * 129), "source_key"),
])
def test_a_bad_row_is_named_and_nothing_is_written(active_playbook, change, field):
    contact = ContactFactory()
    good = PastStageChange(to_stage="lead", occurred_at=at(1), contact_id=contact.pk)
    with pytest.raises(ValidationFailed) as err:
        stage_changes_bulk_record(changes=[good, change])
    assert err.value.field == field
    assert StageChange.objects.count() == 0
