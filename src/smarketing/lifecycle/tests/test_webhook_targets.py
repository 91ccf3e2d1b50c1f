"""Outgoing webhooks refuse private, loopback and link-local targets (and names resolving to them) unless
SMARKETING_WEBHOOK_ALLOW names them: at configuration, and again at each delivery (DNS rebinding)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.core.errors import ValidationFailed
from smarketing.lifecycle import webhook_targets
from smarketing.lifecycle.enums import DeliveryStatus
from smarketing.lifecycle.models import WebhookEndpoint
from smarketing.lifecycle.services_webhooks import (
    webhook_deliver,
    webhook_endpoint_create,
    webhook_endpoint_update,
    webhook_event_emit,
)
from smarketing.lifecycle.webhook_targets import TargetRefused, target_check
from smarketing.settings.env import ConfigError, load

SECRET = "s3cret-s3cret-s3cret"
DUE = datetime(2026, 11, 24, 19, 1, tzinfo=UTC)
PUBLIC = "93.184.215.14"


def _dns(names: dict[str, list[str]]):
    """A resolver that answers for the given names (DNS is outside the machine) and resolves the rest as usual."""
    real = webhook_targets.resolve
    return lambda host, port: names[host] if host in names else real(host, port)


@pytest.fixture
def no_allow(settings):
    settings.SMARKETING_WEBHOOK_ALLOW = ()


@pytest.mark.parametrize(("url", "kind"), [
    ("http://127.0.0.1:8080/hook", "loopback"),
    ("http://localhost/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://10.1.2.3/hook", "private"),
    ("https://192.168.0.10/hook", "private"),
    ("http://172.16.5.5/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[fe80::1]/hook", "link-local"),
    ("http://[::ffff:10.0.0.1]/hook", "private"),
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://100.64.0.1/hook", "carrier-grade NAT"),
])
def test_internal_targets_are_refused_at_configuration(db, no_allow, url, kind):
    with pytest.raises(ValidationFailed) as exc:
        webhook_endpoint_create(url=url, secret=SECRET)

    assert exc.value.field == "url"
    assert kind in exc.value.message and "SMARKETING_WEBHOOK_ALLOW" in exc.value.message
    assert not WebhookEndpoint.objects.exists()


def test_a_name_resolving_to_an_internal_address_is_refused(db, no_allow, monkeypatch):
    monkeypatch.setattr(webhook_targets, "resolve", _dns({"hooks.example.com": ["10.0.0.7"]}))

    with pytest.raises(ValidationFailed) as exc:
        webhook_endpoint_create(url="https://hooks.example.com/in", secret=SECRET)

    assert "'hooks.example.com' resolves to 10.0.0.7, which is a private address" in exc.value.message


def test_a_public_target_is_accepted_and_an_update_is_checked_too(db, no_allow, monkeypatch):
    monkeypatch.setattr(webhook_targets, "resolve", _dns({"hooks.example.com": [PUBLIC]}))
    endpoint = webhook_endpoint_create(url="https://hooks.example.com/in", secret=SECRET)

    with pytest.raises(ValidationFailed) as exc:
        webhook_endpoint_update(endpoint=endpoint, data={"url": "http://169.254.169.254/"})

    assert exc.value.field == "url"
    endpoint.refresh_from_db()
    assert endpoint.url == "https://hooks.example.com/in"


@pytest.mark.parametrize("allow", [("127.0.0.1",), ("127.0.0.0/8",), ("localhost",)])
def test_the_allow_list_names_a_host_an_address_or_a_network(allow):
    target = target_check("http://localhost:9/x", allow=allow)

    assert "127.0.0.1" in target.addresses


def test_an_allow_list_entry_does_not_open_other_internal_addresses():
    with pytest.raises(TargetRefused):
        target_check("http://10.0.0.1/x", allow=("127.0.0.1", "192.168.0.0/16", "hooks.internal"))


def test_the_api_refuses_an_internal_url_with_a_422_naming_the_field(api, no_allow):
    response = api.post("/api/lifecycle/webhooks", {"url": "http://127.0.0.1:6379/", "secret": SECRET}, role="revops")

    assert response.status_code == 422
    assert response.json()["field"] == "url"
    assert "loopback" in response.json()["message"]


def test_delivery_checks_again_and_refuses_a_name_rebound_to_loopback(active_playbook, receiver, settings,
                                                                      monkeypatch):
    # given an endpoint configured while its name resolved to a public address
    settings.SMARKETING_WEBHOOK_ALLOW = ()
    host_url = receiver.url.replace("127.0.0.1", "hooks.example.com")
    monkeypatch.setattr(webhook_targets, "resolve", _dns({"hooks.example.com": [PUBLIC]}))
    webhook_endpoint_create(url=host_url, secret=SECRET)
    [delivery_id] = webhook_event_emit(event_type="test.ping", key="rebind-1", data={}, at=DUE)

    # when the name resolves to the receiver on 127.0.0.1 at delivery time
    monkeypatch.setattr(webhook_targets, "resolve", _dns({"hooks.example.com": ["127.0.0.1"]}))
    row = webhook_deliver(delivery_id=delivery_id, now=DUE)

    # then nothing was sent; the attempt is recorded as refused and retried later (checked again then)
    assert row is not None and row.status == DeliveryStatus.PENDING
    assert row.last_status_code is None
    assert row.last_error.startswith("refused: ") and "loopback" in row.last_error
    assert receiver.requests == []


def test_delivery_is_sent_to_the_checked_address_with_the_urls_host(active_playbook, receiver, settings,
                                                                     monkeypatch):
    # given a name the allow-list trusts, resolving to the local receiver
    host_url = receiver.url.replace("127.0.0.1", "hooks.internal")
    monkeypatch.setattr(webhook_targets, "resolve", _dns({"hooks.internal": ["127.0.0.1"]}))
    settings.SMARKETING_WEBHOOK_ALLOW = ("hooks.internal",)
    webhook_endpoint_create(url=host_url, secret=SECRET)
    [delivery_id] = webhook_event_emit(event_type="test.ping", key="pinned-1", data={}, at=DUE)

    row = webhook_deliver(delivery_id=delivery_id, now=DUE)

    assert row is not None and row.status == DeliveryStatus.DELIVERED
    [request] = receiver.requests
    assert request["headers"]["Host"].startswith("hooks.internal")
    assert request["path"] == "/hooks/smarketing"


def test_a_redirect_is_not_followed(active_playbook, receiver):
    receiver.statuses = [302]
    webhook_endpoint_create(url=receiver.url, secret=SECRET)
    [delivery_id] = webhook_event_emit(event_type="test.ping", key="redirect-1", data={}, at=DUE)

    row = webhook_deliver(delivery_id=delivery_id, now=DUE)

    assert row is not None and row.status == DeliveryStatus.PENDING
    assert row.last_status_code == 302 and row.last_error == "HTTP 302"
    assert len(receiver.requests) == 1


@pytest.mark.parametrize("value", ["10.0.0.0/33", "300.1.1.1", "hooks..internal", "a b"])
def test_a_bad_allow_list_entry_stops_start_up(monkeypatch, tmp_path, value):
    monkeypatch.setenv("SMARKETING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARKETING_WEBHOOK_ALLOW", f"127.0.0.1, {value}")

    with pytest.raises(ConfigError) as exc:
        load()

    assert "SMARKETING_WEBHOOK_ALLOW" in str(exc.value)


def test_the_allow_list_is_read_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SMARKETING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARKETING_WEBHOOK_ALLOW", "127.0.0.1, 10.0.0.0/8 ,Hooks.Internal")

    assert load().webhook_allow == ("127.0.0.1", "10.0.0.0/8", "hooks.internal")
