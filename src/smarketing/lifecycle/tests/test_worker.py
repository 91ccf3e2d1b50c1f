"""The real background worker (`smarketing worker --batch` in a subprocess), killed with SIGKILL mid-batch.

The receiver holds the first webhook request open, which parks the worker deterministically in the middle of
its batch: one chunk of breaches committed, the rest not. After SIGKILL and a restart, every clock has
exactly one breach event, nothing is lost, nothing is doubled, and the in-flight webhook is retried.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from smarketing.core import clock
from smarketing.lifecycle.enums import ClockState, DeliveryStatus, SlaEventKind
from smarketing.lifecycle.models import Notification, SlaClock, SlaEvent, WebhookDelivery
from smarketing.lifecycle.services_handoff import mql_qualify
from smarketing.lifecycle.services_webhooks import webhook_deliver, webhook_endpoint_create
from smarketing.lifecycle.tasks import sla_check
from smarketing.playbook.services import playbook_bootstrap
from smarketing.team.services import user_create
from smarketing.testing.servers import worker_database_url

LEADS = 10
CHUNK = 4
PAST = datetime(2026, 1, 6, 15, tzinfo=UTC)  # long before any real "now" the worker sees


def _start_worker(log: Path) -> subprocess.Popen[bytes]:
    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]) + "mode=memory":
        pytest.skip("an in-memory SQLite test database is invisible to a worker subprocess")
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "DJANGO_SETTINGS_MODULE": "smarketing.settings.test",
           "SMARKETING_WEBHOOK_ALLOW": "127.0.0.1"}
    return subprocess.Popen([sys.executable, "-m", "smarketing.cli", "worker", "--batch", "--interval", "0.1"],
                            env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_batch_neither_loses_nor_duplicates_sla_events(make_lead, receiver, tmp_path):
    # given sellers, a webhook endpoint and LEADS MQLs whose clocks are all long overdue
    playbook_bootstrap()
    user_create(username="ops", password="pw", role="revops")
    for i in range(2):
        user_create(username=f"seller{i}", password="pw", role="sales", team_name="EMEA", capacity_per_week=50)
    webhook_endpoint_create(url=receiver.url, secret="s3cret-s3cret-s3cret")
    clock.freeze(PAST)
    for _ in range(LEADS):
        assert mql_qualify(contact=make_lead(at=PAST)).qualified
    clock.freeze(None)
    clocks = SlaClock.objects.count()
    assert clocks == 2 * LEADS
    sla_check.enqueue(limit=CHUNK)
    log = tmp_path / "worker.log"

    # when the worker starts, the receiver holds the first webhook request open, and we SIGKILL the worker
    receiver.block()
    worker = _start_worker(log)
    try:
        for _ in range(900):  # up to 90 s, failing fast if the worker dies on its own
            if receiver.arrived.wait(timeout=0.1) or worker.poll() is not None:
                break
        assert receiver.arrived.is_set() and worker.poll() is None, log.read_text()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    # then exactly the first chunk was recorded, and nothing else
    assert worker.returncode == -signal.SIGKILL
    assert SlaEvent.objects.filter(kind=SlaEventKind.BREACHED, clock__isnull=False).count() == CHUNK
    assert SlaClock.objects.filter(state=ClockState.BREACHED).count() == CHUNK
    in_flight = WebhookDelivery.objects.get(attempts=1, status=DeliveryStatus.PENDING)

    # when the receiver recovers and the worker is restarted until the queue is drained
    receiver.release()
    restarted = _start_worker(log)
    try:
        assert restarted.wait(timeout=180) == 0, log.read_text()
    finally:
        if restarted.poll() is None:
            restarted.kill()

    # then every clock has exactly one breach, escalation and owner notification: none lost, none doubled
    breaches = SlaEvent.objects.filter(kind=SlaEventKind.BREACHED, clock__isnull=False)
    assert breaches.count() == clocks
    assert breaches.values("clock").distinct().count() == clocks
    assert SlaClock.objects.exclude(state=ClockState.BREACHED).count() == 0
    assert SlaEvent.objects.filter(kind=SlaEventKind.ESCALATED).count() == clocks
    assert Notification.objects.filter(kind="sla_breach", dedupe_key__startswith="sla-breach:").exclude(
        user__username="ops").count() == clocks
    # and one webhook delivery per breach; all sent except, at most, the one that was in flight at the kill
    breach_deliveries = WebhookDelivery.objects.filter(event_type="sla.breached")
    assert breach_deliveries.count() == clocks
    assert breach_deliveries.exclude(pk=in_flight.pk).exclude(status=DeliveryStatus.DELIVERED).count() == 0
    in_flight.refresh_from_db()
    if in_flight.status == DeliveryStatus.PENDING:
        # its retry comes due after the backoff; sending it then delivers it (same idempotency key)
        resent = webhook_deliver(delivery_id=in_flight.pk, now=clock.now() + timedelta(hours=1))
        assert resent is not None and resent.status == DeliveryStatus.DELIVERED
    received = [r["headers"]["Idempotency-Key"] for r in receiver.requests]
    assert set(received) == set(WebhookDelivery.objects.values_list("idempotency_key", flat=True))
    assert received.count(in_flight.idempotency_key) == 2  # at-least-once: receivers dedupe by the key


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_worker_killed_inside_a_breach_response_rolls_it_back_and_it_is_redone(make_lead, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("parking the worker inside a transaction needs PostgreSQL row locks; "
                    "the webhook-held kill above runs on SQLite too")
    import psycopg

    from smarketing.crm.models import Account

    # given five overdue MQLs routed to A, then one whose account belongs to B
    playbook_bootstrap()
    seller_a = user_create(username="a", password="pw", role="sales", team_name="EMEA", capacity_per_week=50)
    seller_b = user_create(username="b", password="pw", role="sales", team_name="EMEA", capacity_per_week=0)
    clock.freeze(PAST)
    leads = [make_lead(at=PAST) for _ in range(5)] + [make_lead(at=PAST, owner=seller_b)]
    for lead in leads:
        mql_qualify(contact=lead)
    clock.freeze(None)
    assert Account.objects.get(contacts=leads[-1]).owner == seller_b
    assert SlaClock.objects.filter(owner=seller_a).count() == 10
    sla_check.enqueue(limit=50)
    # and another connection with an uncommitted "escalated" event for B's first-touch clock: the worker's
    # response to that breach (owner notified, then escalated, in one transaction after the breach committed)
    # waits on the unique index when it escalates, before it can send COMMIT
    b_clock = SlaClock.objects.get(owner=seller_b, kind="first_touch")
    s = connection.settings_dict
    params = {"host": s["HOST"] or "127.0.0.1", "port": s["PORT"] or 5432, "user": s["USER"],
              "password": s.get("PASSWORD") or None, "dbname": s["NAME"]}
    blocker = psycopg.connect(**params)
    # A second, autocommit connection watches: statistics views are frozen inside one transaction.
    watcher = psycopg.connect(**params, autocommit=True)
    try:
        blocker.execute(
            "INSERT INTO lifecycle_slaevent (recorded_at, clock_id, kind, side, clock_kind, team, occurred_at, period,"
            " details) VALUES (now(), %s, 'escalated', 'sales', 'first_touch', '', now(), '', '{}')", [b_clock.pk])
        log = tmp_path / "worker.log"
        worker = _start_worker(log)
        try:
            # when the worker has committed the breaches and waits inside the response to B's
            waiting = 0
            for _ in range(900):
                row = watcher.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'").fetchone()
                waiting = row[0] if row else 0
                if waiting or worker.poll() is not None:
                    break
                time.sleep(0.1)
            assert waiting and worker.poll() is None, log.read_text()
            worker.send_signal(signal.SIGKILL)
            worker.wait(timeout=30)
        finally:
            if worker.poll() is None:
                worker.kill()
    finally:
        blocker.rollback()
        blocker.close()
        watcher.close()
    # then B's half-done response was rolled back with the process: the breach stands, its owner was not told
    b_clock.refresh_from_db()
    assert b_clock.state == ClockState.BREACHED
    assert SlaEvent.objects.filter(clock=b_clock, kind="breached").count() == 1
    assert not Notification.objects.filter(user=seller_b, kind="sla_breach").exists()
    assert not SlaEvent.objects.filter(clock=b_clock, kind="escalated").exists()

    # when the worker is restarted once the dead response is stale, everything is breached and answered once
    from django_tasks_db.models import DBTaskResult

    from smarketing.lifecycle.tasks import BREACH_ACT_STALE, sla_breach_act

    stale = DBTaskResult.objects.filter(task_path=sla_breach_act.module_path, status="RUNNING")
    assert stale.count() == 1
    stale.update(started_at=stale.get().started_at - BREACH_ACT_STALE)  # as if it died that long ago
    DBTaskResult.objects.filter(task_path=sla_check.module_path, status="READY").update(run_after=clock.now())
    restarted = _start_worker(tmp_path / "worker.log")
    try:
        assert restarted.wait(timeout=180) == 0
    finally:
        if restarted.poll() is None:
            restarted.kill()
    breaches = SlaEvent.objects.filter(kind=SlaEventKind.BREACHED, clock__isnull=False)
    assert breaches.count() == breaches.values("clock").distinct().count() == SlaClock.objects.count() == 12
    assert Notification.objects.filter(user=seller_b, kind="sla_breach").count() == 2


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_task_left_running_by_a_killed_worker_is_reclaimed_when_a_worker_starts(receiver, tmp_path):
    from django_tasks_db.models import DBTaskResult

    from smarketing.core.models import TaskReclaim
    from smarketing.lifecycle.services_webhooks import webhook_event_emit
    from smarketing.lifecycle.tasks import webhook_deliver as deliver_task

    # given a webhook delivery queued for the worker, and a receiver that holds the request open
    playbook_bootstrap()
    webhook_endpoint_create(url=receiver.url, secret="s3cret-s3cret-s3cret")
    webhook_event_emit(event_type="test.ping", key="held-1", data={})  # autocommit: queued at once
    receiver.block()
    log = tmp_path / "worker.log"

    # when the worker is killed with SIGKILL in the middle of sending it
    worker = _start_worker(log)
    try:
        for _ in range(900):
            if receiver.arrived.wait(timeout=0.1) or worker.poll() is not None:
                break
        assert receiver.arrived.is_set() and worker.poll() is None, log.read_text()
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
    task = DBTaskResult.objects.get(task_path=deliver_task.module_path)
    assert task.status == "RUNNING"  # django-tasks-db alone would leave it so for ever
    dead_worker = task.worker_ids[-1]

    # and a worker starts again
    receiver.release()
    restarted = _start_worker(log)
    try:
        assert restarted.wait(timeout=180) == 0, log.read_text()
    finally:
        if restarted.poll() is None:
            restarted.kill()

    # then the dead run was taken back (recorded, with the dead worker) and run again to the end
    task.refresh_from_db()
    assert task.status == "SUCCESSFUL" and len(task.worker_ids) == 2
    [record] = TaskReclaim.objects.filter(task_id=str(task.pk))
    assert (record.action, record.worker_id, record.attempts) == ("requeued", dead_worker, 1)
    assert "no longer running on this host" in record.reason
    assert not DBTaskResult.objects.filter(status="RUNNING").exists()
    assert "reclaimed tasks of dead workers: 1 requeued" in log.read_text()
