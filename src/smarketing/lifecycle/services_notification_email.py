"""Notifications by email: each one as it happens, or a daily digest, as each user chose (team's
`email_notifications`), through the SMTP server in SMARKETING_SMTP_* (no email at all when it is unset).

A notification is queued for email after the transaction that created it commits (task `notification_email_send`);
the digest task collects one day's unread notifications not emailed yet. Each is claimed (`emailed_at` set) before
sending, so two runs never send the same one; a failed send releases the claim and the task fails, to be run again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.smtp import EmailBackend
from django.db import transaction

from smarketing.core import clock
from smarketing.lifecycle.models import Notification
from smarketing.lifecycle.notification_email import Email, Note, digest_email, notification_email
from smarketing.team.enums import EmailNotifications
from smarketing.team.models import User

SMTP_TIMEOUT_SECONDS = 15


def smtp_configured() -> bool:
    """Whether notification emails go out at all (SMARKETING_SMTP_HOST is set)."""
    return getattr(settings, "SMARKETING_SMTP", None) is not None


def _send(*, to: str, email: Email) -> None:
    smtp: Any = settings.SMARKETING_SMTP
    # Why an explicit backend: the product's email is this SMTP server or nothing, whatever EMAIL_BACKEND says.
    connection = EmailBackend(host=smtp.host, port=smtp.port, username=smtp.user or None,
                              password=smtp.password or None, use_tls=smtp.tls == "starttls",
                              use_ssl=smtp.tls == "ssl", timeout=SMTP_TIMEOUT_SECONDS, fail_silently=False)
    EmailMessage(subject=email.subject, body=email.body, from_email=smtp.sender, to=[to],
                 connection=connection).send()


def _note(row: Notification) -> Note:
    return Note(kind_label=row.get_kind_display(), title=row.title, body=row.body, created_at=row.created_at)


def _name(user: User) -> str:
    return user.get_full_name() or user.username


def notification_email_enqueue(*, notification: Notification) -> bool:
    """Queue the email of a new notification, after commit, when SMTP is set and its user wants each one."""
    if not smtp_configured():
        return False
    wants = (User.objects.filter(pk=notification.user_id, is_active=True,
                                 email_notifications=EmailNotifications.IMMEDIATE).exclude(email="").exists())
    if not wants:
        return False
    pk = notification.pk

    def enqueue() -> None:
        from smarketing.lifecycle.tasks_notifications import notification_email_send

        notification_email_send.enqueue(pk)

    transaction.on_commit(enqueue)
    return True


def _claim(ids: list[int], now: datetime) -> int:
    return Notification.objects.filter(pk__in=ids, emailed_at__isnull=True).update(emailed_at=now)


def _release(ids: list[int], now: datetime) -> None:
    Notification.objects.filter(pk__in=ids, emailed_at=now).update(emailed_at=None)


def notification_email_send(*, notification_id: int, now: datetime | None = None) -> bool:
    """Email one notification to its user now, unless SMTP is off, the user wants no such email, it was emailed
    already or was read meanwhile; returns whether it was sent."""
    if not smtp_configured():
        return False
    row = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if row is None or row.read_at is not None or row.emailed_at is not None:
        return False
    user = row.user
    if not user.is_active or not user.email or user.email_notifications != EmailNotifications.IMMEDIATE:
        return False
    now = now or clock.now()
    if _claim([row.pk], now) != 1:
        return False  # another run has it
    try:
        _send(to=user.email, email=notification_email(_note(row), recipient_name=_name(user)))
    except Exception:
        _release([row.pk], now)
        raise
    return True


@dataclass
class DigestResult:
    day: date
    sent: list[dict[str, Any]] = field(default_factory=list)  # {"user", "email", "notifications"}
    failed: list[dict[str, str]] = field(default_factory=list)  # {"user", "error"}
    smtp: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day.isoformat(), "smtp": self.smtp, "sent": self.sent, "failed": self.failed}


def digest_day_default(*, now: datetime | None = None) -> date:
    """The day a digest run covers by default: yesterday (UTC), the last whole day."""
    return ((now or clock.now()).astimezone(UTC) - timedelta(days=1)).date()


def notification_digest_send(*, day: date, now: datetime | None = None) -> DigestResult:
    """Email each user who chose the daily digest their unread notifications of `day` (UTC) not emailed yet, one
    email per user; a second run for the same day finds nothing left to send."""
    result = DigestResult(day=day, smtp=smtp_configured())
    if not result.smtp:
        return result
    now = now or clock.now()
    start = datetime.combine(day, time.min, tzinfo=UTC)
    users = (User.objects.filter(is_active=True, email_notifications=EmailNotifications.DIGEST).exclude(email="")
             .order_by("id"))
    for user in users:
        rows = list(Notification.objects.filter(user=user, read_at__isnull=True, emailed_at__isnull=True,
                                                created_at__gte=start, created_at__lt=start + timedelta(days=1))
                    .order_by("created_at", "id"))
        if not rows:
            continue
        ids = [r.pk for r in rows]
        with transaction.atomic():
            claimed = _claim(ids, now)
        if claimed != len(ids):  # another run is sending this user's digest
            _release(ids, now)
            continue
        try:
            _send(to=user.email, email=digest_email([_note(r) for r in rows], day=day, recipient_name=_name(user)))
        except Exception as exc:  # noqa: BLE001 -- one user's bad address must not stop the others' digests
            _release(ids, now)
            result.failed.append({"user": user.username, "error": str(exc) or type(exc).__name__})
            continue
        result.sent.append({"user": user.username, "email": user.email, "notifications": len(ids)})
    return result
