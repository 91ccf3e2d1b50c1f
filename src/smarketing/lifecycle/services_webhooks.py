"""Outgoing webhooks: endpoints, signed deliveries with retries and exponential backoff.

A delivery is created in the same transaction as the event it reports, so an event is never lost; it is
sent after commit by the task queue and re-driven by the SLA check if its task died. Sending claims the
delivery first (attempts + 1, next attempt pushed out by the backoff) in its own transaction, so two
runners never send the same attempt; a crash mid-request leaves a pending delivery that is retried later.
Delivery is at least once: a worker killed between sending and recording the answer sends that attempt again,
so receivers verify `X-Smarketing-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` and drop repeats
by the `Idempotency-Key` header. Targets are checked at configuration and at each delivery (webhook_targets).
An endpoint of format `slack` gets the same delivery with a Slack incoming-webhook body instead (webhook_slack).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import NotFound, ValidationFailed
from smarketing.lifecycle.enums import DeliveryStatus, WebhookFormat
from smarketing.lifecycle.models import WebhookDelivery, WebhookEndpoint
from smarketing.lifecycle.webhook_slack import slack_message
from smarketing.lifecycle.webhook_targets import TargetRefused, post_pinned, target_check
from smarketing.team.models import User

SIGNATURE_HEADER = "X-Smarketing-Signature"
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_MAX = timedelta(hours=6)
TIMEOUT_SECONDS = 10.0
USER_AGENT = "smarketing-webhooks/1"


def backoff(attempts: int) -> timedelta:
    """Wait before the next attempt after `attempts` tries: 30 s, 1 min, 2 min, … capped at 6 h."""
    return min(BACKOFF_BASE * (2 ** max(attempts - 1, 0)), BACKOFF_MAX)


def signature(secret: str, body: str, timestamp: int) -> str:
    """The signature header value for a body sent at `timestamp` (Unix seconds)."""
    mac = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def signature_verify(secret: str, body: str, header: str, *, now: int | None = None, tolerance: int = 300) -> bool:
    """Whether a received signature header matches the body (and is recent, when `now` is given)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if now is not None and abs(now - ts) > tolerance:
        return False
    return hmac.compare_digest(signature(secret, body, ts), header)


# ----------------------------------------------------------------------------------------------- endpoints


def _check_url(url: str) -> str:
    # Why here and at delivery: a name may resolve elsewhere later (see webhook_targets).
    try:
        target_check(url.strip(), must_resolve=False)
    except TargetRefused as exc:
        raise ValidationFailed(str(exc), field="url", record="webhook") from None
    return url.strip()


def _check_format(value: str) -> str:
    if value not in WebhookFormat.values:
        raise ValidationFailed(f"webhook format {value!r} is not one of {WebhookFormat.values}", field="format",
                               record="webhook")
    return value


def _body(endpoint: WebhookEndpoint, payload: dict[str, Any]) -> str:
    """The exact bytes an endpoint receives for an event: the product's JSON, or a Slack message."""
    message = slack_message(payload) if endpoint.format == WebhookFormat.SLACK else payload
    return json.dumps(message, sort_keys=True, separators=(",", ":"), default=str)


@transaction.atomic
def webhook_endpoint_create(*, url: str, secret: str, description: str = "", event_types: list[str] | None = None,
                            active: bool = True, created_by: User | None = None,
                            format: str = WebhookFormat.SMARKETING) -> WebhookEndpoint:
    """Register an endpoint; deliveries to it are signed with `secret` (format `slack`: Slack messages)."""
    if len(secret or "") < 16:
        raise ValidationFailed("the webhook secret must be at least 16 characters", field="secret")
    return WebhookEndpoint.objects.create(url=_check_url(url), secret=secret, description=description,
                                          event_types=list(event_types or []), active=active, created_by=created_by,
                                          format=_check_format(format))


def webhook_endpoint_get(*, endpoint_id: int) -> WebhookEndpoint:
    """One endpoint, or NotFound."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound(f"webhook endpoint {endpoint_id} does not exist", record=f"webhook:{endpoint_id}")
    return endpoint


@transaction.atomic
def webhook_endpoint_update(*, endpoint: WebhookEndpoint, data: dict[str, Any]) -> WebhookEndpoint:
    """Change an endpoint's url, secret, description, event types, format or active flag."""
    allowed = {"url", "secret", "description", "event_types", "active", "format"}
    unknown = sorted(set(data) - allowed)
    if unknown:
        raise ValidationFailed(f"unknown field(s): {', '.join(unknown)}", field=unknown[0])
    if "url" in data:
        data["url"] = _check_url(data["url"])
    if "format" in data:
        _check_format(data["format"])
    if "secret" in data and len(data["secret"] or "") < 16:
        raise ValidationFailed("the webhook secret must be at least 16 characters", field="secret")
    for name, value in data.items():
        setattr(endpoint, name, value)
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_delete(*, endpoint: WebhookEndpoint) -> None:
    """Remove an endpoint and its delivery log."""
    endpoint.delete()


# ---------------------------------------------------------------------------------------------- deliveries


def webhook_event_emit(*, event_type: str, key: str, data: dict[str, Any], at: datetime | None = None) -> list[int]:
    """Create one delivery per active endpoint that wants this event; sending starts after commit."""
    now = at or clock.now()
    ids = []
    for endpoint in WebhookEndpoint.objects.filter(active=True).order_by("id"):
        if endpoint.event_types and event_type not in endpoint.event_types:
            continue
        payload = {"id": key, "type": event_type, "created_at": now.isoformat(), "data": data}
        body = _body(endpoint, payload)
        delivery, created = WebhookDelivery.objects.get_or_create(
            endpoint=endpoint, idempotency_key=key,
            defaults={"event_type": event_type, "payload": payload, "body": body, "next_attempt_at": now,
                      "created_at": now})
        if created:
            ids.append(delivery.pk)
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return ids


def _enqueue(ids: list[int]) -> None:
    from smarketing.lifecycle.tasks import webhook_deliver

    for delivery_id in ids:
        webhook_deliver.enqueue(delivery_id)


def webhook_deliveries_due(*, now: datetime) -> list[int]:
    """Pending deliveries whose next attempt is due (including ones whose sending task died)."""
    return list(WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now,
                                               endpoint__active=True)
                .order_by("next_attempt_at", "id").values_list("id", flat=True)[:500])


@transaction.atomic
def _claim(delivery_id: int, now: datetime) -> tuple[WebhookDelivery, str] | None:
    row = (WebhookDelivery.objects.select_for_update(of=("self",)).select_related("endpoint")
           .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now).first())
    if row is None or not row.endpoint.active:
        return None
    row.attempts += 1
    row.last_attempt_at = now
    # Pushed out before sending: a crash mid-request turns into a retry after the backoff.
    row.next_attempt_at = now + backoff(row.attempts)
    row.signature = signature(row.endpoint.secret, row.body, int(now.timestamp()))
    row.save(update_fields=["attempts", "last_attempt_at", "next_attempt_at", "signature"])
    return row, row.signature


def _post(row: WebhookDelivery, sig: str) -> tuple[int | None, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT, SIGNATURE_HEADER: sig,
               "Idempotency-Key": row.idempotency_key, "X-Smarketing-Event": row.event_type,
               "X-Smarketing-Delivery": str(row.pk), "X-Smarketing-Attempt": str(row.attempts)}
    try:
        # Checked again now, on the addresses the name resolves to at this moment, and sent to one of them.
        target = target_check(row.endpoint.url)
        status = post_pinned(target, row.body.encode(), headers, timeout=TIMEOUT_SECONDS)
    except TargetRefused as exc:
        return None, f"refused: {exc}"[:500]
    except (OSError, TimeoutError, http.client.HTTPException) as exc:
        return None, (str(exc) or type(exc).__name__)[:500]
    return status, "" if 200 <= status < 300 else f"HTTP {status}"


def webhook_deliver(*, delivery_id: int, now: datetime | None = None) -> WebhookDelivery | None:
    """Send one due delivery once; on failure schedule the retry (or give up after max_attempts)."""
    now = now or clock.now()
    claimed = _claim(delivery_id, now)
    if claimed is None:
        return None
    row, sig = claimed
    status, error = _post(row, sig)
    ok = status is not None and 200 <= status < 300
    with transaction.atomic():
        fresh = WebhookDelivery.objects.select_for_update().get(pk=row.pk)
        fresh.last_status_code = status
        if ok:
            fresh.status, fresh.delivered_at, fresh.last_error, fresh.next_attempt_at = (
                DeliveryStatus.DELIVERED, clock.now(), "", None)
        else:
            fresh.last_error = error or f"HTTP {status}"
            if fresh.attempts >= fresh.max_attempts:
                fresh.status, fresh.next_attempt_at = DeliveryStatus.FAILED, None
        fresh.save(update_fields=["status", "delivered_at", "last_error", "last_status_code", "next_attempt_at"])
    if not ok and fresh.status == DeliveryStatus.PENDING and fresh.next_attempt_at is not None:
        _enqueue_retry(fresh.pk, fresh.next_attempt_at)
    return fresh


def _enqueue_retry(delivery_id: int, at: datetime) -> None:
    from smarketing.lifecycle.tasks import webhook_deliver as task

    task.using(run_after=at).enqueue(delivery_id)


@transaction.atomic
def webhook_delivery_retry_now(*, delivery: WebhookDelivery) -> WebhookDelivery:
    """Make a pending or failed delivery due now (an operator's 'retry')."""
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = clock.now()
    if delivery.attempts >= delivery.max_attempts:
        delivery.max_attempts = delivery.attempts + 1
    delivery.save(update_fields=["status", "next_attempt_at", "max_attempts"])
    transaction.on_commit(lambda: _enqueue([delivery.pk]))
    return delivery


def webhook_delivery_get(*, delivery_id: int) -> WebhookDelivery:
    """One delivery, or NotFound."""
    row = WebhookDelivery.objects.filter(pk=delivery_id).first()
    if row is None:
        raise NotFound(f"webhook delivery {delivery_id} does not exist", record=f"webhook_delivery:{delivery_id}")
    return row


def webhook_ping(*, endpoint: WebhookEndpoint) -> WebhookDelivery:
    """Send a signed `ping` to one endpoint now (to check URL, secret and signature verification)."""
    now = clock.now()
    key = f"ping-{endpoint.pk}-{int(now.timestamp() * 1000)}"
    payload = {"id": key, "type": "ping", "created_at": now.isoformat(), "data": {"endpoint_id": endpoint.pk}}
    body = _body(endpoint, payload)
    row = WebhookDelivery.objects.create(endpoint=endpoint, event_type="ping", idempotency_key=key,
                                         payload=payload, body=body, next_attempt_at=now, created_at=now,
                                         max_attempts=1)
    sent = webhook_deliver(delivery_id=row.pk, now=now)
    return sent or row
