"""Record timelines: one history per contact, account and opportunity, newest first, paged, in a fixed number of
queries."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smarketing.campaigns.services import touchpoint_record
from smarketing.core.errors import NotFound
from smarketing.crm.tests.conftest import T0
from smarketing.crm.timeline import account_timeline, contact_timeline, opportunity_timeline
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import ContactFactory, FeedbackItemFactory


def test_a_contacts_timeline_holds_every_kind_of_history_newest_first(history):
    page = contact_timeline(contact_id=history["lead"].pk, limit=100)
    kinds = [e.kind for e in page.items]
    assert {"stage_change", "touchpoint", "handoff_decision", "sla_event", "owner_change", "feedback"} <= set(kinds)
    assert [e.at for e in page.items] == sorted((e.at for e in page.items), reverse=True)
    assert page.total == len(page.items)
    # the colleague's history is not the lead's
    assert all(e.record.id == history["lead"].pk for e in page.items if e.record.kind == "contact")


def test_stage_changes_name_the_playbook_version_and_touches_name_the_rep(history, active_playbook):
    items = contact_timeline(contact_id=history["lead"].pk, limit=100).items
    to_mql = next(e for e in items if e.kind == "stage_change" and "Marketing qualified lead" in e.summary.split("→")[1])
    assert to_mql.playbook_version == active_playbook.number
    assert to_mql.actor == "playbook rule"
    call = next(e for e in items if e.kind == "touchpoint" and e.at == history["call"].occurred_at)
    assert call.actor == "emea_a"
    accepted = next(e for e in items if e.kind == "handoff_decision")
    assert (accepted.summary, accepted.actor, accepted.playbook_version) == (
        "Accepted — budget confirmed", "emea_a", active_playbook.number)
    owner = next(e for e in items if e.kind == "owner_change")
    assert owner.summary.startswith("Assigned to emea_a")
    assert any(e.kind == "sla_event" and e.summary.startswith("First touch clock met") for e in items)


def test_an_accounts_timeline_includes_its_contacts_its_own_stage_changes_and_its_deals(history):
    page = account_timeline(account_id=history["account"].pk, limit=100)
    records = {(e.record.kind, e.record.id) for e in page.items}
    assert {("contact", history["lead"].pk), ("contact", history["colleague"].pk), ("account", history["account"].pk),
            ("opportunity", history["deal"].pk)} <= records
    assert page.items[0].kind == "opportunity_closed"  # the newest entry: the deal won on day 20
    lead_total = contact_timeline(contact_id=history["lead"].pk).total
    colleague_total = contact_timeline(contact_id=history["colleague"].pk).total
    # the lead's and colleague's entries, the account's own stage change, the deal opened and closed
    assert page.total == lead_total + colleague_total + 1 + 2


def test_an_opportunitys_timeline_has_its_milestones_its_feedback_and_its_primary_contacts_history(history):
    page = opportunity_timeline(opportunity_id=history["deal"].pk, limit=100)
    kinds = [e.kind for e in page.items]
    assert kinds[0] == "opportunity_closed" and "Closed won: Acme expansion" in page.items[0].summary
    assert "opportunity_opened" in kinds and "feedback" in kinds
    assert not any(e.record.id == history["colleague"].pk for e in page.items if e.record.kind == "contact")
    assert page.total == contact_timeline(contact_id=history["lead"].pk).total + 2


def test_pages_cut_one_ordered_history_without_gaps_or_repeats(history):
    whole = account_timeline(account_id=history["account"].pk, limit=100).items
    pages = [account_timeline(account_id=history["account"].pk, offset=o, limit=4) for o in range(0, len(whole), 4)]
    assert [e for p in pages for e in p.items] == whole
    assert all(p.total == len(whole) and p.limit == 4 for p in pages)
    beyond = account_timeline(account_id=history["account"].pk, offset=len(whole) + 10, limit=4)
    assert (beyond.items, beyond.total) == ([], len(whole))


def test_a_timeline_costs_the_same_queries_however_long_the_history(history, django_assert_max_num_queries):
    lead, account = history["lead"], history["account"]
    for i in range(30):
        extra = ContactFactory(account=account)
        stage_change_record(contact=extra, to_stage="mql", occurred_at=T0 + timedelta(minutes=i))
        FeedbackItemFactory(account=account, contact=extra, occurred_at=T0 + timedelta(minutes=i))
        touchpoint_record(contact=lead, channel="email", kind="email_click", occurred_at=T0 - timedelta(days=i))
    # record, union count, union page, then one fetch per kind on the page (at most 8)
    with django_assert_max_num_queries(11):
        assert len(account_timeline(account_id=account.pk, limit=100).items) == 100
    with django_assert_max_num_queries(9):
        contact_timeline(contact_id=lead.pk, limit=100)
    with django_assert_max_num_queries(11):
        opportunity_timeline(opportunity_id=history["deal"].pk, limit=100)


@pytest.mark.parametrize("timeline", [contact_timeline, account_timeline, opportunity_timeline])
def test_a_missing_record_is_not_found_by_name(db, timeline):
    key = {contact_timeline: "contact_id", account_timeline: "account_id",
           opportunity_timeline: "opportunity_id"}[timeline]
    with pytest.raises(NotFound) as err:
        timeline(**{key: 999999})
    assert "999999 does not exist" in err.value.message


def test_a_contact_with_no_history_has_an_empty_timeline(db):
    page = contact_timeline(contact_id=ContactFactory().pk)
    assert (page.total, page.items) == (0, [])
