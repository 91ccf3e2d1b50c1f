"""Reads of webhook endpoints and deliveries."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from smarketing.lifecycle.enums import DeliveryStatus
from smarketing.lifecycle.models import WebhookDelivery, WebhookEndpoint


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    """Endpoints with delivered / pending / failed counts."""
    return WebhookEndpoint.objects.annotate(
        delivered=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.DELIVERED)),
        pending=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.PENDING)),
        failed=Count("deliveries", filter=Q(deliveries__status=DeliveryStatus.FAILED)),
    ).order_by("id")


def webhook_delivery_list(*, endpoint_id: int | None = None, status: str = "",
                          limit: int = 100) -> list[WebhookDelivery]:
    """Deliveries, newest first."""
    qs = WebhookDelivery.objects.select_related("endpoint")
    if endpoint_id:
        qs = qs.filter(endpoint_id=endpoint_id)
    if status:
        qs = qs.filter(status=status)
    return list(qs.order_by("-created_at", "-id")[:limit])
