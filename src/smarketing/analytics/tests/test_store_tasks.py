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


@pytest.mark.django_db(transaction=True)
def test_a_burst_of_touches_queues_one_catch_up_that_copies_them_all(lake):
    contact = ContactFactory()
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
    touchpoint_record(contact=contact, channel="email", kind="email_open", occurred_at=T0)
    first = _waiting()
    assert len(first) == 1
    # when that catch-up has started (no longer waiting) and the process's memory of it has lapsed
    DBTaskResult.objects.filter(pk=first[0].pk).update(status="RUNNING")
    monkeypatch.setattr(store_tasks, "_waiting_until", None)
    touchpoint_record(contact=contact, channel="email", kind="email_click", occurred_at=T0)
    # then a new one is queued for the later write
    assert len(_waiting()) == 1 and _waiting()[0].pk != first[0].pk
