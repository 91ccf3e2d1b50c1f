"""Slack-format webhooks: a real local HTTP receiver gets Slack incoming-webhook bodies, signed like every delivery."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smarketing.core.errors import ValidationFailed
from smarketing.lifecycle.enums import DeliveryStatus
from smarketing.lifecycle.services_handoff import mql_qualify
from smarketing.lifecycle.services_webhooks import (
    SIGNATURE_HEADER,
    signature_verify,
    webhook_deliver,
    webhook_deliveries_due,
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_ping,
)
from smarketing.lifecycle.webhook_slack import slack_message

SECRET = "s3cret-s3cret-s3cret"
DUE = datetime(2026, 11, 24, 19, 1, tzinfo=UTC)  # one minute after the first-touch deadline


def _headers(request: dict) -> dict[str, str]:
    return {k.lower(): v for k, v in request["headers"].items()}


def test_a_slack_endpoint_gets_the_breach_as_a_slack_message(sla_pass, active_playbook, sellers, now, make_lead,
                                                             receiver):
    # given a Slack endpoint and a product-JSON endpoint, and an MQL whose first touch is overdue
    webhook_endpoint_create(url=receiver.url + "?to=slack", secret=SECRET, format="slack")
    webhook_endpoint_create(url=receiver.url + "?to=json", secret=SECRET)
    lead = make_lead()
    mql_qualify(contact=lead)
    # when the SLA check runs and both deliveries are sent
    sla_pass(now=DUE)
    for delivery_id in webhook_deliveries_due(now=DUE):
        assert webhook_deliver(delivery_id=delivery_id, now=DUE).status == DeliveryStatus.DELIVERED
    # then the Slack endpoint got {"text", "blocks"} naming the breach, signed like every delivery
    by_target = {r["path"].split("to=")[1]: r for r in receiver.requests}
    slack = json.loads(by_target["slack"]["body"])
    assert set(slack) == {"text", "blocks"}
    assert slack["text"] == f"SLA breached: first touch on {lead.name}"
    assert slack["blocks"][0] == {"type": "section", "text": {"type": "mrkdwn", "text": f"*{slack['text']}*"}}
    assert slack["blocks"][1]["type"] == "context" and "due 2026-11-24 19:00 UTC" in (
        slack["blocks"][1]["elements"][0]["text"])
    assert signature_verify(SECRET, by_target["slack"]["body"], _headers(by_target["slack"])[SIGNATURE_HEADER.lower()])
    assert _headers(by_target["slack"])["content-type"] == "application/json"
    # and the other endpoint still gets the product's JSON event
    product = json.loads(by_target["json"]["body"])
    assert product["type"] == "sla.breached" and product["data"]["contact_id"] == lead.pk


def test_a_test_send_to_a_slack_endpoint_is_a_slack_message(active_playbook, receiver):
    endpoint = webhook_endpoint_create(url=receiver.url, secret=SECRET)
    webhook_endpoint_update(endpoint=endpoint, data={"format": "slack"})
    sent = webhook_ping(endpoint=endpoint)
    assert sent.status == DeliveryStatus.DELIVERED
    body = json.loads(receiver.requests[0]["body"])
    assert body["text"].startswith("smarketing test message") and len(body["blocks"]) == 2


def test_an_unknown_format_is_refused_naming_the_field(db):
    with pytest.raises(ValidationFailed) as err:
        webhook_endpoint_create(url="https://hooks.example.com/x", secret=SECRET, format="teams")
    assert err.value.field == "format"


def test_slack_text_is_escaped():
    message = slack_message({"id": "k", "type": "sla.breached",
                             "data": {"clock_kind": "first_touch", "contact_name": "Ann <ann@x.com> & co"}})
    assert message["text"] == "SLA breached: first touch on Ann &lt;ann@x.com&gt; &amp; co"
