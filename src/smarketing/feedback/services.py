"""Writes of feedback items."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.db import transaction

from smarketing.core.errors import ValidationFailed
from smarketing.core.services import validate_and_save
from smarketing.feedback.enums import FeedbackKind, FeedbackSource
from smarketing.feedback.models import FeedbackItem
from smarketing.feedback.text import clean

MAX_TEXT = 20_000


def as_utc(value: Any) -> datetime:
    """A datetime for occurred_at: aware values as given, naive ones and dates read as UTC."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise ValidationFailed(f"occurred_at {value!r} is not a date or datetime", field="occurred_at")


@transaction.atomic
def feedback_record(*, kind: str, text: str, occurred_at: Any, source: str = "web", source_id: str = "",
                    account: Any = None, contact: Any = None, opportunity: Any = None,
                    author: Any = None, assign: bool = True) -> tuple[FeedbackItem, bool]:
    """Append a feedback item; a repeated source id returns the existing one (created=False).

    Control characters are dropped (PostgreSQL cannot store NUL); the item is placed on a theme by the
    "themes" queue after commit unless assign=False (bulk callers schedule once).
    """
    raw = text if isinstance(text, str) else ""
    text = clean(raw)
    if not text:
        what = "empty" if not raw.strip() else "empty once control characters are removed"
        raise ValidationFailed(f"feedback text is {what}", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"feedback text is {len(text):,} characters; the limit is {MAX_TEXT:,} "
                               "(split it into several items or attach the full document)", field="text")
    if kind not in FeedbackKind.values:
        raise ValidationFailed(f"feedback kind {kind!r} is not one of {FeedbackKind.values}", field="kind")
    if source not in FeedbackSource.values:
        raise ValidationFailed(f"feedback source {source!r} is not one of {FeedbackSource.values}", field="source")
    occurred_at = as_utc(occurred_at)
    source_id = str(source_id or "").strip()
    if source_id:
        existing = FeedbackItem.objects.filter(source=source, source_id=source_id).first()
        if existing is not None:
            return existing, False
    if account is None and contact is not None:
        account = contact.account
    item = FeedbackItem(kind=kind, text=text, occurred_at=occurred_at, source=source, source_id=source_id,
                        account=account, contact=contact, opportunity=opportunity, author=author)
    validate_and_save(item, label="feedback")
    if assign:
        from smarketing.feedback.tasks import schedule_assignment

        transaction.on_commit(schedule_assignment)
    return item, True
