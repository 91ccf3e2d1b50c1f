"""Reads of a user's in-app notifications: the inbox page, the header badge and the API."""

from __future__ import annotations

from django.db.models import QuerySet

from smarketing.lifecycle.models import Notification


def notification_list_for_user(*, user_id: int, unread_only: bool = False, kind: str = "") -> QuerySet[Notification]:
    """A user's notifications, newest first, with the contact each is about (page it with core.pagination)."""
    qs = Notification.objects.filter(user_id=user_id).select_related("contact")
    if unread_only:
        qs = qs.filter(read_at__isnull=True)
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-created_at", "-id")


def notification_unread_count(*, user_id: int) -> int:
    """How many of the user's notifications are unread: one COUNT on the (user, read_at, created_at) index."""
    return Notification.objects.filter(user_id=user_id, read_at__isnull=True).count()
