"""Settings → webhooks: the endpoints with their delivery counts, adding one (product JSON or Slack), a test send
that shows the answer, and disabling or enabling one. The checks are the lifecycle services' (targets, secret)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from smarketing.core.errors import DomainError
from smarketing.lifecycle.enums import DeliveryStatus
from smarketing.lifecycle.selectors_webhooks import webhook_delivery_list, webhook_endpoint_list
from smarketing.lifecycle.services_webhooks import (
    webhook_endpoint_create,
    webhook_endpoint_get,
    webhook_endpoint_update,
    webhook_ping,
)
from smarketing.web.forms_settings import WEBHOOK_EVENTS, WebhookCreateForm, errors_from
from smarketing.web.views.common import domain_errors
from smarketing.web.views.settings import revops_only, settings_page

RECENT_DELIVERIES = 10


def _render(request: HttpRequest, form: WebhookCreateForm, *, secret: str = "", status: int = 200) -> HttpResponse:
    return settings_page(request, "web/settings_webhooks.html", {
        "endpoints": list(webhook_endpoint_list()), "form": form, "secret": secret,
        "event_labels": dict(WEBHOOK_EVENTS),
        "deliveries": webhook_delivery_list(limit=RECENT_DELIVERIES)}, section="settings_webhooks", status=status)


@revops_only
@domain_errors
def settings_webhooks(request: HttpRequest) -> HttpResponse:
    """GET: the endpoints and recent deliveries; POST: add an endpoint (its secret shown once)."""
    form = WebhookCreateForm(request.POST or None)
    if request.method != "POST":
        return _render(request, form)
    if not form.is_valid():
        return _render(request, form, status=422)
    data = form.cleaned_data
    try:
        endpoint = webhook_endpoint_create(url=data["url"], secret=data["secret"], description=data["description"],
                                           event_types=data["event_types"], format=data["format"],
                                           created_by=request.user)  # type: ignore[arg-type]
    except DomainError as exc:
        errors_from(form, exc)
        return _render(request, form, status=422)
    messages.success(request, f"Webhook {endpoint.url} is added; send it a test to check it.")
    return _render(request, WebhookCreateForm(), secret=data["secret"], status=201)


@revops_only
@require_POST
@domain_errors
def settings_webhook_test(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a signed test event to one endpoint now and say what it answered."""
    sent = webhook_ping(endpoint=webhook_endpoint_get(endpoint_id=pk))
    if sent.status == DeliveryStatus.DELIVERED:
        messages.success(request, f"Test sent to {sent.endpoint.url}: it answered HTTP {sent.last_status_code}.")
    else:
        messages.error(request, f"Test to {sent.endpoint.url} failed: {sent.last_error or 'no answer'}.")
    return redirect("settings_webhooks")


@revops_only
@require_POST
@domain_errors
def settings_webhook_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Disable an endpoint (no more deliveries; its log stays) or enable it again."""
    active = request.POST.get("active") == "1"
    endpoint = webhook_endpoint_update(endpoint=webhook_endpoint_get(endpoint_id=pk), data={"active": active})
    messages.success(request, f"Webhook {endpoint.url} is {'enabled' if active else 'disabled'}.")
    return redirect("settings_webhooks")
