"""After writes the store catches up through the task queue: one waiting catch-up serves a burst of writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from smarketing.analytics.store import tasks as store_tasks
from smarketing.analytics.store.layout import configured_lake, manifest_read
from smarketing.campaigns.models import Touchpoint
from smarketing.campaigns.services import touchpoint_record, touchpoints_record_many
from smarketing.testing.factories import ContactFactory

T0 = datetime(2026, 5, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def lake(settings, tmp_path, monkeypatch):
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    monkeypatch.setattr(store_tasks, "_waiting_until", None)  # what an earlier test queued is gone with its rows
    return configured_lake()


def _waiting() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path=store_tasks.store_catch_up_task.module_path, status="READY"))


def _forget_queued() -> None:
    """Forget the catch-ups queued so far (the test's own set-up writes a contact, which queues one; a later write
    more than a moment after it would rightly queue another), as if they had run."""
    DBTaskResult.objects.filter(task_path=store_tasks.store_catch_up_task.module_path).delete()
    store_tasks._waiting_until = None


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_touches_queues_one_catch_up_that_copies_them_all(lake):
    contact = ContactFactory()
    _forget_queued()
    # when touches are recorded one by one and in bulk
    for i in range(3):
        touchpoint_record(contact=contact, channel="email", kind="email_open", occurred_at=T0 + timedelta(hours=i))
    touchpoints_record_many(touchpoints=[
        {"contact_id": contact.pk, "account_id": contact.account_id, "channel": "web", "kind": "page_view",
         "occurred_at": T0 + timedelta(days=40 + i), "source": "web", "source_id": f"pv-{i}"} for i in range(5)])
    # then one catch-up waits on the queue, a moment in the future (so later writes join it)
    waiting = _waiting()
    assert len(waiting) == 1 and waiting[0].queue_name == "default"
    assert waiting[0].run_after is not None and waiting[0].run_after > waiting[0].enqueued_at
    # and when the worker runs it, the store holds every touch
    row = waiting[0]
    row.claim("test-worker")
    copied = row.task.func()
    assert copied >= 8
    ids = manifest_read(lake, "touchpoints")
    assert ids.rows == Touchpoint.objects.count() == 8 and ids.high_water == Touchpoint.objects.latest("id").pk


@pytest.mark.django_db(transaction=True)
def test_a_write_after_the_catch_up_started_queues_another(lake, monkeypatch):
    contact = ContactFactory()
    _forget_queued()
    touchpoint_record(contact=contact, channel="email", kind="email_open", occurred_at=T0)
    first = _waiting()
    assert len(first) == 1
    # when that catch-up has started (no longer waiting) and the process's memory of it has lapsed
    DBTaskResult.objects.filter(pk=first[0].pk).update(status="RUNNING")
    monkeypatch.setattr(store_tasks, "_waiting_until", None)
    touchpoint_record(contact=contact, channel="email", kind="email_click", occurred_at=T0)
    # then a new one is queued for the later write
    assert len(_waiting()) == 1 and _waiting()[0].pk != first[0].pk


@pytest.mark.parametrize(("sql", "table"), [
    ('INSERT INTO "lifecycle_stagechange" ("contact_id") VALUES (%s)', "lifecycle_stagechange"),
    ("INSERT OR IGNORE INTO crm_contact (id) VALUES (?)", "crm_contact"),
    ('  update "crm_contact" SET "score" = %s WHERE "id" = %s', "crm_contact"),
    ("DELETE FROM `feedback_feedbackitem` WHERE id = 1", "feedback_feedbackitem"),
    ('SELECT "id" FROM "lifecycle_stagechange"', None),
    ("SAVEPOINT s1", None),
    ('WITH x AS (SELECT 1) SELECT * FROM x', None),
])
def test_the_table_a_statement_writes_is_read_off_its_sql(sql, table):
    from smarketing.analytics.store.writes import table_written

    assert table_written(sql) == table


@pytest.mark.django_db(transaction=True)
def test_every_write_to_a_mirrored_table_queues_one_catch_up_whatever_made_it(lake, django_user_model,
                                                                             active_playbook):
    from smarketing.crm.models import Contact
    from smarketing.feedback.models import FeedbackItem
    from smarketing.lifecycle.models import Notification
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import FeedbackItemFactory

    contact = ContactFactory()

    def queued_by(write) -> int:
        _forget_queued()
        write()
        return len(_waiting())

    # a stage change recorded by the lifecycle's service, a queryset update of contacts, a bulk insert of feedback
    assert queued_by(lambda: stage_change_record(to_stage="mql", contact=contact, occurred_at=T0)) == 1
    assert queued_by(lambda: Contact.objects.filter(pk=contact.pk).update(first_name="Ann")) == 1
    item = FeedbackItemFactory.build(contact=contact, account=contact.account)
    assert queued_by(lambda: FeedbackItem.objects.bulk_create([item])) == 1
    # and a write to a table the store does not mirror queues none
    user = django_user_model.objects.create(username="nobody")
    assert queued_by(lambda: Notification.objects.filter(user=user).update(read_at=T0)) == 0
    assert queued_by(lambda: django_user_model.objects.filter(pk=user.pk).update(first_name="N")) == 0


@pytest.mark.django_db(transaction=True)
def test_a_transaction_queues_its_catch_up_once_after_it_commits(lake):
    from django.db import transaction

    from smarketing.crm.models import Contact

    contact = ContactFactory()
    _forget_queued()
    calls = []
    original = store_tasks.store_catch_up_soon
    with transaction.atomic():
        for i in range(5):
            Contact.objects.filter(pk=contact.pk).update(first_name=f"A{i}")
        from django.db import connection

        calls = [entry for entry in connection.run_on_commit if entry[1] is original]
        # nothing is queued before the commit
        assert _waiting() == []
    # then one catch-up waits after it
    assert len(calls) == 1 and len(_waiting()) == 1


@pytest.mark.django_db(transaction=True)
def test_with_the_analytics_on_the_live_tables_no_catch_up_is_queued(lake, settings):
    from smarketing.crm.models import Contact

    settings.SMARKETING = {**settings.SMARKETING, "ANALYTICS_STORE": "live"}
    contact = ContactFactory()
    Contact.objects.filter(pk=contact.pk).update(first_name="B")
    assert _waiting() == []
