"""Background tasks of notification emails (django-tasks; run by `smarketing worker`).

`notification_email_send` is queued after the commit that created a notification its user wants by email;
`notifications_digest` runs once a day (at DIGEST_HOUR UTC) for the day before and schedules its next run;
`notifications_digest_schedule()` is called when a worker starts, so the daily run is always on the queue.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from django_tasks import task

from smarketing.core import clock

DIGEST_HOUR = 6


EMAIL_RETRIES = 3
EMAIL_RETRY_AFTER = timedelta(minutes=5)


@task()
def notification_email_send(notification_id: int, attempt: int = 1) -> dict[str, Any]:
    """Email one notification to its user (nothing when already emailed, read, or no longer wanted); when the SMTP
    server fails, try again EMAIL_RETRY_AFTER later, EMAIL_RETRIES times in all."""
    from smarketing.lifecycle.services_notification_email import notification_email_send as send

    try:
        return {"notification_id": notification_id, "sent": send(notification_id=notification_id)}
    except Exception:
        if attempt < EMAIL_RETRIES:
            notification_email_send.using(run_after=clock.now() + EMAIL_RETRY_AFTER * attempt).enqueue(
                notification_id, attempt + 1)
        raise


@task()
def notifications_digest(day: str = "", chain: bool = True) -> dict[str, Any]:
    """Send the daily digests of `day` (default: yesterday, UTC); then schedule tomorrow's run."""
    from smarketing.lifecycle.services_notification_email import digest_day_default, notification_digest_send

    try:
        when = datetime.fromisoformat(day).date() if day else digest_day_default()
        return notification_digest_send(day=when).as_dict()
    finally:
        if chain:
            notifications_digest_schedule(at=digest_next_run())


def digest_next_run(*, now: datetime | None = None) -> datetime:
    """The next DIGEST_HOUR:00 UTC after now."""
    now = (now or clock.now()).astimezone(UTC)
    at = datetime.combine(now.date(), time(DIGEST_HOUR), tzinfo=UTC)
    return at if at > now else at + timedelta(days=1)


def notifications_digest_schedule(*, at: datetime | None = None) -> bool:
    """Put the daily digest run on the queue (at the next DIGEST_HOUR by default) unless one is already waiting."""
    from django_tasks_db.models import DBTaskResult

    if DBTaskResult.objects.filter(task_path=notifications_digest.module_path, status="READY").exists():
        return False
    notifications_digest.using(run_after=at or digest_next_run()).enqueue(chain=True)
    return True
