"""Reads of an opportunity's stage history."""

from __future__ import annotations

from datetime import datetime

from django.db.models import QuerySet

from smarketing.crm.models import OpportunityStageChange

CHUNK = 2000


def opportunity_stage_change_times_by_source_key(*, keys: list[str]) -> dict[str, datetime]:
    """When each recorded opportunity stage change with one of these import keys occurred (a re-run's check)."""
    out: dict[str, datetime] = {}
    for start in range(0, len(keys), CHUNK):
        # Why exclude "": it is the partial unique index's condition, so the database uses the index
        out.update(OpportunityStageChange.objects.filter(source_key__in=keys[start:start + CHUNK])
                   .exclude(source_key="").values_list("source_key", "occurred_at"))
    return out


def opportunity_stage_change_list(*, opportunity_id: int) -> QuerySet[OpportunityStageChange]:
    """An opportunity's stage moves, in time order."""
    return (OpportunityStageChange.objects.filter(opportunity_id=opportunity_id).select_related("opportunity")
            .order_by("occurred_at", "id"))
