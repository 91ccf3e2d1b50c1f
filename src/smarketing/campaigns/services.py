"""Writes of campaigns and touchpoints."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.core.errors import ValidationFailed
from smarketing.core.services import record_create, record_update, validate_and_save
from smarketing.crm.models import Contact
from smarketing.team.models import User

CAMPAIGN_FIELDS = {"name", "channel", "type", "start_date", "end_date", "budget", "actual_cost", "owner", "audience",
                   "core_message", "source", "source_id"}


@transaction.atomic
def campaign_create(**data: Any) -> Campaign:
    """Create a campaign."""
    return record_create(Campaign, data, allowed=CAMPAIGN_FIELDS, label="campaign")


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: dict[str, Any]) -> Campaign:
    """Change fields of a campaign."""
    return record_update(campaign, data, allowed=CAMPAIGN_FIELDS, label="campaign", check=_check_dates)


def _check_dates(campaign: Campaign) -> None:
    # Why: the database constraint would catch it too, but as a conflict that names no field.
    start, end = campaign.start_date, campaign.end_date
    if start is not None and end is not None and str(end) < str(start):
        raise ValidationFailed(f"campaign:{campaign.pk}: end_date {end} is before start_date {start}",
                               field="end_date", record=f"campaign:{campaign.pk}")


@transaction.atomic
def touchpoint_record(*, contact: Contact, channel: str, kind: str, occurred_at: Any, campaign: Campaign | None = None,
                      source: str = "", source_id: str = "", value: Any = None,
                      actor: User | None = None) -> tuple[Touchpoint, bool]:
    """Append a touchpoint (with the rep who made it, for sales touches); a repeated source id returns the first row.

    A repeat delivery is not an edit: the first row stands as recorded, whatever actor the repeat names.
    """
    if source_id:
        existing = Touchpoint.objects.filter(source=source, source_id=source_id).first()
        if existing is not None:
            return existing, False
    if occurred_at is None or getattr(occurred_at, "tzinfo", None) is None:
        raise ValidationFailed("occurred_at must be a timezone-aware datetime", field="occurred_at")
    tp = Touchpoint(contact=contact, account_id=contact.account_id, campaign=campaign, channel=channel, kind=kind,
                    occurred_at=occurred_at, source=source, source_id=source_id, value=value, actor=actor)
    validate_and_save(tp, label="touchpoint")
    transaction.on_commit(lambda: _after_touchpoint(tp.pk))
    return tp, True


def _after_touchpoint(touchpoint_id: int) -> None:
    """Hook for incremental rescoring; the lifecycle app registers the work it needs here."""
    for hook in TOUCHPOINT_HOOKS:
        hook(touchpoint_id)


TOUCHPOINT_HOOKS: list[Any] = []


@transaction.atomic
def touchpoints_record_many(*, touchpoints: list[dict[str, Any]]) -> int:
    """Append many touchpoints at once (imports); rows whose (source, source_id) already exists are skipped.

    Each row needs contact_id, account_id, channel, kind, occurred_at (aware), source and source_id; it may
    carry campaign_id, value and actor_id (the rep who made a sales touch).
    The touchpoint hooks run on commit for every new row, as they do for touchpoint_record.
    """
    keys = [(t["source"], t["source_id"]) for t in touchpoints]
    seen: set[tuple[str, str]] = set()
    for source in {s for s, _ in keys}:
        sids = [sid for s, sid in keys if s == source]
        for start in range(0, len(sids), 2000):
            seen.update((source, sid) for sid in Touchpoint.objects.filter(
                source=source, source_id__in=sids[start:start + 2000]).values_list("source_id", flat=True))
    new = []
    for t in touchpoints:
        key = (t["source"], t["source_id"])
        if key in seen:
            continue
        seen.add(key)
        if getattr(t["occurred_at"], "tzinfo", None) is None:
            raise ValidationFailed("occurred_at must be a timezone-aware datetime", field="occurred_at",
                                   record=f"touchpoint:{t['source']}:{t['source_id']}")
        new.append(Touchpoint(**t))
    created = Touchpoint.objects.bulk_create(new, batch_size=1000)
    ids = [tp.pk for tp in created]
    if not all(ids):  # a backend that cannot return ids from a bulk insert
        ids = [pk for tp in new for pk in Touchpoint.objects.filter(source=tp.source, source_id=tp.source_id)
               .values_list("pk", flat=True)]
    if ids:
        transaction.on_commit(lambda: _after_touchpoints(ids))
    return len(new)


def _after_touchpoints(touchpoint_ids: list[int]) -> None:
    for pk in touchpoint_ids:
        _after_touchpoint(pk)
