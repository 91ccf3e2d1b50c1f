"""Reads of lifecycle history."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from smarketing.lifecycle.models import StageChange


def stage_change_list(*, contact_id: int | None = None, account_id: int | None = None,
                      to_stage: str = "", source_key: str = "", occurred_after: datetime | None = None,
                      occurred_before: datetime | None = None) -> QuerySet[StageChange]:
    """Stage changes, oldest first, with the playbook version and actor (window: after inclusive, before exclusive)."""
    qs = StageChange.objects.select_related("playbook_version", "actor").order_by("occurred_at", "id")
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    if account_id:
        qs = qs.filter(account_id=account_id)
    if to_stage:
        qs = qs.filter(to_stage=to_stage)
    if source_key:
        qs = qs.filter(source_key=source_key)
    if occurred_after:
        qs = qs.filter(occurred_at__gte=occurred_after)
    if occurred_before:
        qs = qs.filter(occurred_at__lt=occurred_before)
    return qs
