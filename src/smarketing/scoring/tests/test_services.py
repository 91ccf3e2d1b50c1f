"""Scores in the database: the cache, incremental rescoring through the task queue, full rebuilds."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import transaction
from django_tasks_db.models import DBTaskResult

from smarketing.campaigns.services import touchpoint_record
from smarketing.core import clock
from smarketing.scoring import hooks, services
from smarketing.scoring.models import AccountScore, ContactScore
from smarketing.testing.factories import AccountFactory, ContactFactory, TouchpointFactory

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


@pytest.fixture
def now():
    clock.freeze(NOW)
    return NOW


def run_scoring_worker() -> None:
    call_command("db_worker", "--batch", "--queue-name", "scoring", "--no-startup-delay", verbosity=0)


def test_contact_rescore_caches_an_explained_score_and_the_account(active_playbook, now):
    # given a decision maker at a target account who asked for a demo yesterday
    account = AccountFactory(industry="Software", employees=800)
    contact = ContactFactory(account=account, buying_role="decision_maker")
    TouchpointFactory(contact=contact, kind="demo_request", occurred_at=now - timedelta(days=1))
    # when rescored
    score = services.contact_rescore(contact_id=contact.pk)
    # then fit 50 (industry 15 + size 15 + decision maker 20) plus a barely decayed demo request
    assert score.fit == 50
    assert score.engagement == pytest.approx(35 * 0.5 ** (1 / 30))
    assert sum(line["points"] for line in score.explanation) == pytest.approx(score.total, abs=0.01)
    assert score.qualifies_as_mql is True and score.playbook_version == active_playbook
    # and the account score covers the engaged decision maker plus half the best contact
    acc = AccountScore.objects.get(account=account)
    assert acc.engaged_roles == ["decision_maker"]
    assert acc.total == pytest.approx(20 + 0.5 * score.total)


# The worker commits and reconnects like the real one, so these tests commit for real too.
@pytest.mark.django_db(transaction=True)
def test_a_new_touchpoint_queues_a_rescore_of_only_its_contact(active_playbook, now):
    # given two scored contacts
    first, second = ContactFactory(), ContactFactory()
    services.scores_rebuild_all()
    before_second = ContactScore.objects.get(contact=second)
    # when a touchpoint is recorded for the first and the transaction commits
    touchpoint_record(contact=first, channel="webinar", kind="webinar_attended", occurred_at=now)
    # then one rescore task is queued, for that contact only
    queued = DBTaskResult.objects.filter(queue_name="scoring", status="READY")
    assert [(t.task_path.rsplit(".", 1)[-1], t.args_kwargs["args"]) for t in queued] == [
        ("contact_rescore_task", [first.pk])]
    assert ContactScore.objects.get(contact=first).engagement == 0  # nothing happens until the worker runs
    # when the worker runs the queue
    run_scoring_worker()
    # then the contact's score includes the webinar and the other contact was not touched
    assert ContactScore.objects.get(contact=first).engagement == pytest.approx(12)
    after_second = ContactScore.objects.get(contact=second)
    assert after_second.computed_at == before_second.computed_at
    assert DBTaskResult.objects.get(pk=queued[0].pk).status == "SUCCESSFUL"


@pytest.mark.django_db(transaction=True)
def test_bulk_writes_queue_one_task_for_all_their_contacts(active_playbook, now):
    # given a bulk write of six touchpoints for three contacts inside one deferral block
    contacts = [ContactFactory() for _ in range(3)]
    with hooks.rescore_deferred(), transaction.atomic():
        for c in contacts:
            for kind in ("page_view", "email_click"):
                touchpoint_record(contact=c, channel="email", kind=kind, occurred_at=now)
    # then one task is queued for the three contacts
    queued = list(DBTaskResult.objects.filter(queue_name="scoring"))
    assert len(queued) == 1 and queued[0].task_path.endswith("contacts_rescore_task")
    assert sorted(queued[0].args_kwargs["args"][0]) == sorted(c.pk for c in contacts)
    # and running it scores each with a page view (1) and an email click (3)
    run_scoring_worker()
    assert sorted(s.engagement for s in ContactScore.objects.all()) == pytest.approx([4, 4, 4])


def _sign_v2(users, active_playbook, change):
    from smarketing.playbook.services import playbook_draft_create, playbook_sign_off

    content = copy.deepcopy(active_playbook.content)
    change(content)
    draft = playbook_draft_create(content=content, based_on=active_playbook)
    playbook_sign_off(version=draft, user=users["marketing"])
    return draft, lambda: playbook_sign_off(version=draft, user=users["sales"])


def _demo_request_points(points):
    def change(content):
        rule = next(r for r in content["scoring"]["engagement_rules"] if r["kind"] == "demo_request")
        rule["points"] = points

    return change


def _rescoring_queued() -> bool:
    """Whether any rescoring is queued (the writes also queue the history store's catch-up, which is not one)."""
    return DBTaskResult.objects.filter(queue_name="scoring").exists()


@pytest.mark.django_db(transaction=True)
def test_activating_a_new_playbook_version_queues_a_rebuild_under_its_rules(users, active_playbook, now):
    # given a contact scored under v1, where a demo request is worth 35
    contact = ContactFactory(account=None, buying_role="user")
    TouchpointFactory(contact=contact, kind="demo_request", occurred_at=now)
    services.scores_rebuild_all()
    assert ContactScore.objects.get(contact=contact).engagement == pytest.approx(35)
    # when a v2 worth 50 per demo request is signed by marketing only, nothing is queued yet
    v2, sales_signs = _sign_v2(users, active_playbook, _demo_request_points(50))
    assert not _rescoring_queued()
    # when sales signs too and v2 becomes active
    sales_signs()
    # then one full rebuild is queued, and scores change only when the worker runs it
    queued = list(DBTaskResult.objects.filter(queue_name="scoring", status="READY"))
    assert [t.task_path.rsplit(".", 1)[-1] for t in queued] == ["scores_rebuild_all_task"]
    assert ContactScore.objects.get(contact=contact).playbook_version_id == active_playbook.pk
    run_scoring_worker()
    score = ContactScore.objects.get(contact=contact)
    assert score.engagement == pytest.approx(50)
    assert score.playbook_version_id == v2.pk
    assert any(line["rule_id"] == "eng-demo-request" and line["points"] == pytest.approx(50)
               for line in score.explanation)


@pytest.mark.django_db(transaction=True)
def test_activation_without_any_cached_score_queues_nothing(users, active_playbook, now):
    ContactFactory()
    _, sales_signs = _sign_v2(users, active_playbook, _demo_request_points(50))

    sales_signs()

    assert not _rescoring_queued()


def test_full_rebuild_equals_rescoring_each_contact(active_playbook, now):
    # given a mix of contacts, accounts and touches
    accounts = [AccountFactory(industry=i, employees=e) for i, e in (("Software", 900), ("Retail", 12000))]
    for n in range(12):
        c = ContactFactory(account=accounts[n % 2] if n % 3 else None,
                           buying_role=["champion", "user", "decision_maker"][n % 3])
        for d in range(n % 5):
            TouchpointFactory(contact=c, kind=["pricing_view", "page_view", "demo_request"][d % 3],
                              occurred_at=now - timedelta(days=7 * d + n))
    # when everything is rebuilt in small batches
    progress = []
    assert services.scores_rebuild_all(batch_size=5, progress=lambda d, t: progress.append((d, t))) == 12
    rebuilt = {s.contact_id: (s.fit, s.engagement, s.total, s.explanation) for s in ContactScore.objects.all()}
    accounts_rebuilt = {a.account_id: a.total for a in AccountScore.objects.all()}
    # then each contact's incremental rescore gives the same numbers
    for cid, (fit, eng, total, expl) in rebuilt.items():
        one = services.contact_rescore(contact_id=cid)
        assert (one.fit, one.engagement, one.total) == pytest.approx((fit, eng, total))
        assert one.explanation == expl
    assert {a.account_id: a.total for a in AccountScore.objects.all()} == pytest.approx(accounts_rebuilt)
    assert progress == [(5, 12), (10, 12), (12, 12)]
    assert set(accounts_rebuilt) == {a.pk for a in accounts}


def test_rescoring_a_missing_contact_names_it(active_playbook):
    from smarketing.core.errors import DomainError

    with pytest.raises(DomainError) as err:
        services.contact_rescore(contact_id=999999)
    assert err.value.field == "contact_id" and "999999" in err.value.message


def test_full_rebuild_calls_rescore_hooks_only_for_contacts_that_newly_qualify(
        active_playbook, now, monkeypatch, django_capture_on_commit_callbacks):
    # given a hook recorder and a qualifying contact that was already scored, plus one not yet scored
    seen: list[int] = []
    monkeypatch.setattr(services, "RESCORE_HOOKS", [seen.append])
    old, new, cold = ContactFactory(), ContactFactory(), ContactFactory(buying_role="user", account=None)
    for c in (old, new, cold):
        TouchpointFactory(contact=c, kind="demo_request", occurred_at=now)
    services.scores_rebuild_all()
    ContactScore.objects.filter(contact__in=[new, cold]).delete()
    # when everything is rebuilt and committed
    with django_capture_on_commit_callbacks(execute=True):
        services.scores_rebuild_all()
    # then only the contact that newly qualifies reaches the hooks
    assert seen == [new.pk]


def test_admin_explains_selected_scores(users, active_playbook):
    from django.test import Client

    from smarketing.scoring.models import ContactScore
    from smarketing.testing.factories import ContactFactory

    # given a scored decision maker at a target-industry account
    contact = ContactFactory(buying_role="decision_maker")
    services.contacts_rescore(contact_ids=[contact.pk])
    score = ContactScore.objects.get(contact=contact)
    client = Client()
    client.force_login(users["revops"])
    # when revops runs the explain action
    page = client.post("/admin/scoring/contactscore/", {"action": "explain_selected", "_selected_action": [score.pk]},
                       follow=True)
    # then the rules and their points are listed
    text = page.content.decode()
    assert f"total {score.total:.1f}" in text
    assert "Decision maker: 20 pts" in text
