"""Writes of in-app notifications: create one (once per dedupe key), mark them read."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import NotFound
from smarketing.crm.models import Contact
from smarketing.lifecycle.models import Notification
from smarketing.lifecycle.services_notification_email import notification_email_enqueue
from smarketing.team.models import User


def notification_create(*, user_id: int, kind: str, title: str, body: str = "", contact: Contact | None = None,
                        dedupe_key: str = "", at: datetime | None = None) -> Notification | None:
    """An in-app notification; with a dedupe key a repeat is ignored (returns None). Its email, when its user wants
    each one by email, is queued after commit."""
    if dedupe_key and Notification.objects.filter(user_id=user_id, dedupe_key=dedupe_key).exists():
        return None
    row = Notification.objects.create(user_id=user_id, kind=kind, title=title[:200], body=body, contact=contact,
                                      dedupe_key=dedupe_key, created_at=at or clock.now())
    notification_email_enqueue(notification=row)
    return row


def notification_create_for_role(*, role: str, kind: str, title: str, body: str = "", contact: Contact | None = None,
                                 dedupe_key: str = "", at: datetime | None = None) -> int:
    """The same notification for every active user with the role; returns how many were created."""
    users = User.objects.filter(role=role, is_active=True).order_by("id").values_list("id", flat=True)
    return sum(notification_create(user_id=uid, kind=kind, title=title, body=body, contact=contact,
                                   dedupe_key=dedupe_key, at=at) is not None for uid in users)


@transaction.atomic
def notification_mark_read(*, user: User, notification_id: int) -> Notification:
    """Mark one of the user's notifications read (idempotent)."""
    row = Notification.objects.filter(pk=notification_id, user=user).first()
    if row is None:
        raise NotFound(f"notification {notification_id} does not exist for {user.username}",
                       record=f"notification:{notification_id}")
    if row.read_at is None:
        row.read_at = clock.now()
        row.save(update_fields=["read_at"])
    return row


@transaction.atomic
def notification_mark_all_read(*, user: User) -> int:
    """Mark every unread notification of the user read; returns how many."""
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=clock.now())
