"""Outgoing webhooks to a real local HTTP server: signed, idempotent, retried with exponential backoff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from smarketing.core.errors import ValidationFailed
from smarketing.lifecycle.enums import DeliveryStatus
from smarketing.lifecycle.models import WebhookDelivery
from smarketing.lifecycle.services_handoff import mql_qualify
from smarketing.lifecycle.services_webhooks import (
    SIGNATURE_HEADER,
    backoff,
    signature,
    signature_verify,
    webhook_deliver,
    webhook_deliveries_due,
    webhook_endpoint_create,
    webhook_event_emit,
)
from smarketing.lifecycle.tasks import sla_check

SECRET = "s3cret-s3cret-s3cret"
DUE = datetime(2026, 11, 24, 19, 1, tzinfo=UTC)  # one minute after the first-touch deadline


def test_breach_is_delivered_to_the_endpoint_with_a_valid_signature(sla_pass, active_playbook, sellers, now, make_lead,
                                                                    receiver):
    # given an endpoint and an MQL whose first touch is overdue
    endpoint = webhook_endpoint_create(url=receiver.url, secret=SECRET)
    lead = make_lead()
    mql_qualify(contact=lead)
    # when the SLA check runs and the due delivery is sent
    sla_pass(now=DUE)
    due = webhook_deliveries_due(now=DUE)
    assert len(due) == 1
    sent = webhook_deliver(delivery_id=due[0], now=DUE)
    # then the receiver got one signed POST describing the breach
    assert sent is not None and sent.status == DeliveryStatus.DELIVERED and sent.attempts == 1
    [request] = receiver.requests
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert signature_verify(SECRET, request["body"], headers[SIGNATURE_HEADER.lower()])
    assert not signature_verify("another-secret-entirely", request["body"], headers[SIGNATURE_HEADER.lower()])
    assert not signature_verify(SECRET, request["body"] + " ", headers[SIGNATURE_HEADER.lower()])
    payload = json.loads(request["body"])
    assert payload["type"] == "sla.breached" and payload["data"]["contact_id"] == lead.pk
    assert payload["data"]["clock_kind"] == "first_touch"
    assert headers["idempotency-key"] == payload["id"] == sent.idempotency_key
    assert sent.endpoint == endpoint


def test_failed_delivery_is_retried_after_backoff_and_then_succeeds(sla_pass, active_playbook, sellers, now, make_lead,
                                                                    receiver):
    webhook_endpoint_create(url=receiver.url, secret=SECRET)
    mql_qualify(contact=make_lead())
    sla_pass(now=DUE)
    [delivery_id] = webhook_deliveries_due(now=DUE)
    receiver.statuses = [500]
    # the first attempt gets a 500: still pending, retry scheduled 30 s later on the queue
    first = webhook_deliver(delivery_id=delivery_id, now=DUE)
    assert (first.status, first.attempts, first.last_status_code) == (DeliveryStatus.PENDING, 1, 500)
    assert first.next_attempt_at == DUE + timedelta(seconds=30)
    retry_task = DBTaskResult.objects.get(task_path__endswith="webhook_deliver", args_kwargs__args=[delivery_id],
                                          run_after=DUE + timedelta(seconds=30))
    assert retry_task.status == "READY"
    # before the backoff has passed nothing is sent
    assert webhook_deliver(delivery_id=delivery_id, now=DUE + timedelta(seconds=10)) is None
    # after it, the retry succeeds with the same idempotency key
    second = webhook_deliver(delivery_id=delivery_id, now=DUE + timedelta(seconds=31))
    assert (second.status, second.attempts, second.last_status_code) == (DeliveryStatus.DELIVERED, 2, 200)
    keys = [r["headers"]["Idempotency-Key"] for r in receiver.requests]
    assert len(keys) == 2 and len(set(keys)) == 1
    assert [r["headers"]["X-Smarketing-Attempt"] for r in receiver.requests] == ["1", "2"]


def test_backoff_doubles_and_gives_up_after_max_attempts(active_playbook, receiver):
    webhook_endpoint_create(url=receiver.url, secret=SECRET)
    [delivery_id] = webhook_event_emit(event_type="test.ping", key="ping-1", data={"hello": "world"}, at=DUE)
    WebhookDelivery.objects.filter(pk=delivery_id).update(max_attempts=3)
    receiver.statuses = [503, 502, 500]
    at = DUE
    waits = []
    for _ in range(3):
        row = webhook_deliver(delivery_id=delivery_id, now=at)
        if row.next_attempt_at:
            waits.append(row.next_attempt_at - at)
            at = row.next_attempt_at
    assert waits == [timedelta(seconds=30), timedelta(seconds=60)]
    row = WebhookDelivery.objects.get(pk=delivery_id)
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.FAILED, 3, "HTTP 500")
    assert backoff(20) == timedelta(hours=6)


def test_unreachable_endpoint_records_the_error(active_playbook, settings):
    import socket

    settings.SMARKETING_WEBHOOK_ALLOW = ("127.0.0.1",)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    webhook_endpoint_create(url=f"http://127.0.0.1:{port}/x", secret=SECRET)
    [delivery_id] = webhook_event_emit(event_type="test.ping", key="ping-2", data={}, at=DUE)
    row = webhook_deliver(delivery_id=delivery_id, now=DUE)
    assert row.status == DeliveryStatus.PENDING and row.last_status_code is None and row.last_error


def test_emitting_the_same_event_twice_makes_one_delivery_and_filters_apply(active_playbook, receiver):
    all_events = webhook_endpoint_create(url=receiver.url, secret=SECRET)
    only_breaches = webhook_endpoint_create(url=receiver.url, secret=SECRET, event_types=["sla.breached"])
    webhook_endpoint_create(url=receiver.url, secret=SECRET, active=False)
    first = webhook_event_emit(event_type="lead.reassigned", key="k1", data={}, at=DUE)
    again = webhook_event_emit(event_type="lead.reassigned", key="k1", data={}, at=DUE)
    assert len(first) == 1 and again == []
    assert WebhookDelivery.objects.get().endpoint == all_events
    webhook_event_emit(event_type="sla.breached", key="k2", data={}, at=DUE)
    assert WebhookDelivery.objects.filter(endpoint=only_breaches).count() == 1


@pytest.mark.parametrize(("url", "secret", "field"), [("ftp://example.com/x", SECRET, "url"),
                                                      ("not a url", SECRET, "url"),
                                                      ("https://example.com/hook", "short", "secret")])
def test_endpoint_validation_names_the_field(db, url, secret, field):
    with pytest.raises(ValidationFailed) as exc:
        webhook_endpoint_create(url=url, secret=secret)
    assert exc.value.field == field


def test_signature_rejects_stale_timestamps():
    body = '{"a":1}'
    header = signature(SECRET, body, 1_000_000)
    assert signature_verify(SECRET, body, header, now=1_000_100)
    assert not signature_verify(SECRET, body, header, now=1_000_000 + 3600)
    assert not signature_verify(SECRET, body, "garbage")


def test_sla_check_task_queues_the_breach_task_deliveries_and_its_next_run(active_playbook, sellers, now, make_lead,
                                                                           receiver, run_breach_acts,
                                                                           django_capture_on_commit_callbacks):
    webhook_endpoint_create(url=receiver.url, secret=SECRET)
    mql_qualify(contact=make_lead())
    from smarketing.core import clock

    clock.freeze(DUE)
    with django_capture_on_commit_callbacks(execute=True):
        out = sla_check.call()
    assert out["breached"] == 1
    act_tasks = DBTaskResult.objects.filter(task_path__endswith="tasks.sla_breach_act", status="READY")
    assert act_tasks.count() == 1 and act_tasks.get().priority == 10
    with django_capture_on_commit_callbacks(execute=True):
        run_breach_acts()
    delivery_tasks = DBTaskResult.objects.filter(task_path__endswith="tasks.webhook_deliver", status="READY")
    assert delivery_tasks.count() >= 1 and all(t.priority == 10 for t in delivery_tasks)
    nxt = DBTaskResult.objects.get(task_path__endswith="tasks.sla_check", status="READY")
    assert nxt.run_after == DUE + timedelta(seconds=60)
