"""A deal's outcome moves the lifecycle: a won opportunity makes its account and primary contact customers (once,
at the close time, under the playbook version in force then); a lost one's reason becomes loss feedback, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from smarketing.crm.models import Account, Contact
from smarketing.crm.services import opportunity_create, opportunity_update
from smarketing.crm.tasks import opportunity_outcome_act
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.models import StageChange
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import AccountFactory, ContactFactory


@pytest.fixture
def worker(django_capture_on_commit_callbacks) -> Callable[[Callable[[], Any]], int]:
    """Do something as a request does (its on-commit work runs), then run the outcome tasks it queued, as the
    worker would; returns how many tasks ran."""

    def run(action: Callable[[], Any]) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            action()
        waiting = list(DBTaskResult.objects.filter(task_path=opportunity_outcome_act.module_path, status="READY"))
        for row in waiting:
            opportunity_outcome_act.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
            row.delete()
        return len(waiting)

    return run


def customer_changes(**subject: Any) -> list[StageChange]:
    return list(StageChange.objects.filter(to_stage="customer", **subject))


def test_six_won_deals_posted_through_the_api_make_the_account_a_customer_once(api, active_playbook, worker):
    # given a lead account with a lead contact
    account = AccountFactory()
    contact = ContactFactory(account=account)
    closed = [f"2026-06-0{day}T12:00:00Z" for day in range(1, 7)]
    ids: list[int] = []

    # when six deals are posted as won, each closed on its own day
    def post_deals() -> None:
        for n, when in enumerate(closed):
            response = api.post("/api/opportunities", {
                "account_id": account.pk, "primary_contact_id": contact.pk, "name": f"Deal {n}", "amount": "1000",
                "stage": "closed_won", "outcome": "won", "opened_at": "2026-05-01T09:00:00Z", "closed_at": when})
            assert response.status_code == 201, response.json()
            ids.append(response.json()["id"])

    assert worker(post_deals) == 6
    # then the account is a customer, moved once, at the first win's close time
    account = Account.objects.get(pk=account.pk)
    assert (account.lifecycle_stage, account.is_customer) == ("customer", True)
    [moved] = customer_changes(account=account)
    assert moved.occurred_at == datetime(2026, 6, 1, 12, tzinfo=UTC)
    assert (moved.from_stage, moved.actor_kind, moved.playbook_version_id) == ("lead", "system", active_playbook.pk)
    assert moved.details["opportunity_id"] == ids[0]
    # and so is its primary contact, once
    assert Contact.objects.get(pk=contact.pk).lifecycle_stage == "customer"
    assert len(customer_changes(contact=contact)) == 1
    assert api.get(f"/api/accounts/{account.pk}").json()["is_customer"] is True


def test_a_deal_closed_as_won_by_patch_moves_both_at_the_close_time_under_the_version_in_force(api, worker,
                                                                                            v1_january_v2_march):
    # given v1 adopted in January and v2 in March; today is June
    v1, v2 = v1_january_v2_march
    account = AccountFactory()
    contact = ContactFactory(account=account)
    opened = api.post("/api/opportunities", {"account_id": account.pk, "primary_contact_id": contact.pk,
                                             "name": "Backdated", "opened_at": "2026-01-05T09:00:00Z"}).json()
    # when it is closed as won today with the January close date
    assert worker(lambda: api.patch(f"/api/opportunities/{opened['id']}", {
        "outcome": "won", "stage": "closed_won", "closed_at": "2026-01-20T15:00:00Z"})) == 1
    # then both changes happened on January 20, under v1
    for change in customer_changes(account=account) + customer_changes(contact=contact):
        assert change.occurred_at == datetime(2026, 1, 20, 15, tzinfo=UTC)
        assert change.playbook_version_id == v1.pk
    assert len(customer_changes(account=account)) == len(customer_changes(contact=contact)) == 1


def test_a_won_deal_never_moves_a_customer_again(active_playbook, worker):
    # given a contact already a customer and an account that is not
    account = AccountFactory()
    contact = ContactFactory(account=account)
    stage_change_record(contact=contact, to_stage="customer", occurred_at=datetime(2026, 2, 1, tzinfo=UTC))
    # when a won deal is recorded, and recorded again (a retried task)
    deal: dict[str, Any] = {}
    worker(lambda: deal.update(opp=opportunity_create(account=account, primary_contact=contact, name="Upsell",
                                                      outcome="won", opened_at=datetime(2026, 3, 1, tzinfo=UTC),
                                                      closed_at=datetime(2026, 4, 1, tzinfo=UTC))))
    opportunity_outcome_act.call(deal["opp"].pk)
    # then the contact keeps its one customer change and the account gets one
    assert [c.occurred_at for c in customer_changes(contact=contact)] == [datetime(2026, 2, 1, tzinfo=UTC)]
    assert len(customer_changes(account=account)) == 1


def test_a_lost_deal_records_its_reason_as_loss_feedback_once(api, active_playbook, worker):
    # given an open deal
    account = AccountFactory()
    contact = ContactFactory(account=account)
    opp = api.post("/api/opportunities", {"account_id": account.pk, "primary_contact_id": contact.pk,
                                          "name": "Too dear"}).json()
    # when it is closed as lost with reason "price", and the close is sent twice
    def close() -> None:
        for _ in range(2):
            response = api.patch(f"/api/opportunities/{opp['id']}", {"outcome": "lost", "stage": "closed_lost",
                                                                      "loss_reason": "price"})
            assert response.status_code == 200

    assert worker(close) == 1  # the repeat changed nothing, so nothing was queued for it
    opportunity_outcome_act.call(opp["id"])  # and a retried task adds nothing either
    # then one loss item holds the reason, with the deal, its account and contact
    [item] = FeedbackItem.objects.filter(opportunity_id=opp["id"])
    assert (item.kind, item.text, item.account_id, item.contact_id) == ("loss_reason", "price", account.pk, contact.pk)
    # and nothing moved in the lifecycle; the close time defaulted to the close
    assert not StageChange.objects.filter(account=account).exists()
    assert api.get(f"/api/opportunities/{opp['id']}").json()["closed_at"] is not None


def test_an_open_deal_or_an_unrelated_edit_queues_nothing(active_playbook, worker):
    account = AccountFactory()
    opened: dict[str, Any] = {}
    assert worker(lambda: opened.update(opp=opportunity_create(account=account, name="Open",
                                                               opened_at=datetime(2026, 3, 1, tzinfo=UTC)))) == 0
    assert worker(lambda: opportunity_update(opportunity=opened["opp"], data={"amount": 5})) == 0
    assert worker(lambda: opportunity_update(opportunity=opened["opp"], data={"outcome": "won"})) == 1
    assert worker(lambda: opportunity_update(opportunity=opened["opp"], data={"product": "Add-on"})) == 0
    assert Account.objects.get(pk=account.pk).is_customer


def test_a_win_dated_before_later_account_history_still_makes_the_account_a_customer(active_playbook, worker):
    # given an account moved to opportunity in May, whose deal is entered late as won in April
    account = AccountFactory()
    stage_change_record(account=account, to_stage="opportunity", occurred_at=datetime(2026, 5, 1, tzinfo=UTC))
    worker(lambda: opportunity_create(account=account, name="Late entry", outcome="won",
                                      opened_at=datetime(2026, 3, 1, tzinfo=UTC),
                                      closed_at=datetime(2026, 4, 1, tzinfo=UTC)))
    # then the win is in the history at its time and the account is a customer
    [won] = customer_changes(account=account)
    assert (won.occurred_at, won.from_stage) == (datetime(2026, 4, 1, tzinfo=UTC), "")
    assert Account.objects.get(pk=account.pk).is_customer
