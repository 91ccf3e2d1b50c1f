"""Reads of feedback items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Q, QuerySet

from smarketing.feedback.models import FeedbackItem


def feedback_list(*, account_id: int | None = None, contact_id: int | None = None,
                  opportunity_id: int | None = None, kind: str = "", source: str = "", q: str = "",
                  occurred_after: datetime | None = None, occurred_before: datetime | None = None,
                  ) -> QuerySet[FeedbackItem]:
    """Feedback items, newest first, with their account, contact and author."""
    qs = FeedbackItem.objects.select_related("account", "contact", "author").order_by("-occurred_at", "-id")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    if opportunity_id:
        qs = qs.filter(opportunity_id=opportunity_id)
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    if q:
        qs = qs.filter(text__icontains=q)
    if occurred_after:
        qs = qs.filter(occurred_at__gte=occurred_after)
    if occurred_before:
        qs = qs.filter(occurred_at__lt=occurred_before)
    return qs


def feedback_list_for_records(*, contact_ids: Any, account_id: int | None = None,
                              opportunity_id: int | None = None) -> QuerySet[FeedbackItem]:
    """Feedback items about these contacts (a list or a subquery of ids), that account or that opportunity, with
    their author and contact."""
    where = Q(contact_id__in=contact_ids)
    if account_id:
        where |= Q(account_id=account_id) | Q(opportunity__account_id=account_id)
    if opportunity_id:
        where |= Q(opportunity_id=opportunity_id)
    return FeedbackItem.objects.filter(where).select_related("author", "contact", "account")
