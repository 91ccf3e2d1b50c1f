"""Writes of feedback items."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from smarketing.core.errors import ValidationFailed
from smarketing.core.services import validate_and_save
from smarketing.feedback.models import FeedbackItem

MAX_TEXT = 20_000


@transaction.atomic
def feedback_record(*, kind: str, text: str, occurred_at: Any, source: str = "web", source_id: str = "",
                    account: Any = None, contact: Any = None, opportunity: Any = None,
                    author: Any = None) -> tuple[FeedbackItem, bool]:
    """Append a feedback item; a repeated source id returns the existing one (created=False)."""
    text = (text or "").strip()
    if not text:
        raise ValidationFailed("feedback text is empty", field="text")
    if len(text) > MAX_TEXT:
        raise ValidationFailed(f"feedback text is {len(text)} characters; the limit is {MAX_TEXT}", field="text")
    if source_id:
        existing = FeedbackItem.objects.filter(source=source, source_id=source_id).first()
        if existing is not None:
            return existing, False
    if account is None and contact is not None:
        account = contact.account
    item = FeedbackItem(kind=kind, text=text, occurred_at=occurred_at, source=source, source_id=source_id,
                        account=account, contact=contact, opportunity=opportunity, author=author)
    validate_and_save(item, label="feedback")
    return item, True
