"""Writes of campaigns and touchpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import connection, transaction

from smarketing.campaigns.enums import CampaignType, Channel, TouchKind
from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.core import clock
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


# ------------------------------------------------------------------------------------ bulk writes for imports

CHUNK = 2000
# Why constants: TextChoices.values builds a new list on every access, and imports check thousands of rows.
CHANNELS, TOUCH_KINDS, CAMPAIGN_TYPES = frozenset(Channel.values), frozenset(TouchKind.values), frozenset(
    CampaignType.values)


def _bulk_problem(record: str, name: str, message: str) -> ValidationFailed:
    return ValidationFailed(f"{record}: {name} {message}", field=name, record=record)


@transaction.atomic
def campaigns_bulk_create(*, source: str, rows: list[dict[str, Any]]) -> tuple[dict[str, int], int]:
    """Create the imported campaigns not yet present (keyed by source and source id), in the caller's transaction.

    Each row names its `source_id`, `name`, `channel`, `start_date` and optionally `type`, `end_date`,
    `audience`, `core_message`. Returns the campaign id by source id and how many were created.
    """
    allowed = {"source_id", "name", "channel", "type", "start_date", "end_date", "audience", "core_message"}
    seen: set[str] = set()
    for r in rows:
        record = f"campaign:{source}:{r.get('source_id', '')}"
        if unknown := sorted(set(r) - allowed):
            raise _bulk_problem(record, unknown[0], "is not a campaign field an import may set")
        if not r.get("source_id") or len(r["source_id"]) > 128 or r["source_id"] in seen:
            raise _bulk_problem(record, "source_id", "must be 1 to 128 characters and appear once")
        seen.add(r["source_id"])
        if not r.get("name") or len(r["name"]) > 200:
            raise _bulk_problem(record, "name", "must be 1 to 200 characters")
        if r.get("channel") not in CHANNELS:
            raise _bulk_problem(record, "channel", f"{r.get('channel')!r} is not one of {Channel.values}")
        if r.get("type", CampaignType.DEMAND_GEN) not in CAMPAIGN_TYPES:
            raise _bulk_problem(record, "type", f"{r.get('type')!r} is not one of {CampaignType.values}")
        if not isinstance(r.get("start_date"), date):
            raise _bulk_problem(record, "start_date", "must be a date")
        if r.get("end_date") is not None and r["end_date"] < r["start_date"]:
            raise _bulk_problem(record, "end_date", f"{r['end_date']} is before start_date {r['start_date']}")
    sids = [r["source_id"] for r in rows]
    ids: dict[str, int] = {}

    def look_up() -> None:
        for start in range(0, len(sids), CHUNK):
            ids.update(Campaign.objects.filter(source=source, source_id__in=sids[start:start + CHUNK])
                       .values_list("source_id", "id"))

    look_up()
    new = [Campaign(source=source, **r) for r in rows if r["source_id"] not in ids]
    Campaign.objects.bulk_create(new, batch_size=1000)
    if new:
        look_up()
    return ids, len(new)


@transaction.atomic
def touchpoints_bulk_record(*, touchpoints: list[dict[str, Any]]) -> int:
    """Append imported past touchpoints in the caller's transaction; rows whose (source, source_id) exists are skipped.

    History is the past: unlike touchpoint_record and touchpoints_record_many, no touchpoint hook runs (no
    first-touch clock is met, nothing is rescored one by one); the importer decides what to refresh.
    Each row needs contact_id, account_id (may be None), channel, kind, occurred_at (aware), source and
    source_id; it may carry campaign_id, value and actor_id. Returns how many rows were added.
    """
    allowed = {"contact_id", "account_id", "campaign_id", "channel", "kind", "occurred_at", "source", "source_id",
               "value", "actor_id"}
    keys: set[tuple[str, str]] = set()
    for t in touchpoints:
        record = f"touchpoint:{t.get('source', '')}:{t.get('source_id', '')}"
        if unknown := sorted(set(t) - allowed):
            raise _bulk_problem(record, unknown[0], "is not a touchpoint field")
        if not t.get("source") or len(t["source"]) > 32:
            raise _bulk_problem(record, "source", "must be 1 to 32 characters")
        if not t.get("source_id") or len(t["source_id"]) > 128:
            raise _bulk_problem(record, "source_id", "must be 1 to 128 characters")
        if (t["source"], t["source_id"]) in keys:
            raise _bulk_problem(record, "source_id", "appears twice in one import")
        keys.add((t["source"], t["source_id"]))
        if not isinstance(t.get("contact_id"), int):
            raise _bulk_problem(record, "contact_id", "must name a contact")
        if t.get("channel") not in CHANNELS:
            raise _bulk_problem(record, "channel", f"{t.get('channel')!r} is not one of {Channel.values}")
        if t.get("kind") not in TOUCH_KINDS:
            raise _bulk_problem(record, "kind", f"{t.get('kind')!r} is not one of {TouchKind.values}")
        if not isinstance(t.get("occurred_at"), datetime) or t["occurred_at"].tzinfo is None:
            raise _bulk_problem(record, "occurred_at", "must be a timezone-aware datetime")
    present: set[tuple[str, str]] = set()
    for source in {s for s, _ in keys}:
        sids = [sid for s, sid in keys if s == source]
        for start in range(0, len(sids), CHUNK):
            present.update((source, sid) for sid in Touchpoint.objects.filter(
                source=source, source_id__in=sids[start:start + CHUNK]).values_list("source_id", flat=True))
    stamp = connection.ops.adapt_datetimefield_value
    as_amount = Touchpoint._meta.get_field("value").get_db_prep_save
    now = stamp(clock.now())
    new = [(t["contact_id"], t["account_id"], t.get("campaign_id"), t["channel"], t["kind"], stamp(t["occurred_at"]),
            t["source"], t["source_id"], None if t.get("value") is None else as_amount(t["value"], connection),
            t.get("actor_id"), now)
           for t in touchpoints if (t["source"], t["source_id"]) not in present]
    _insert_touchpoints(new)
    return len(new)


TOUCHPOINT_COLUMNS = ("contact_id", "account_id", "campaign_id", "channel", "kind", "occurred_at", "source",
                      "source_id", "value", "actor_id", "recorded_at")


def _insert_touchpoints(rows: list[tuple[Any, ...]]) -> None:
    """One executemany of prepared values (TOUCHPOINT_COLUMNS order) on the caller's connection and transaction.

    Why not bulk_create: X Education alone brings 49,693 past touches, and building and compiling a model
    instance per row took most of its import time.
    """
    meta = Touchpoint._meta
    column_of = {f.attname: str(f.column) for f in meta.concrete_fields}
    qn = connection.ops.quote_name
    sql = (f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(column_of[c]) for c in TOUCHPOINT_COLUMNS)}) "
           f"VALUES ({', '.join(['%s'] * len(TOUCHPOINT_COLUMNS))})")
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 5000):
            cursor.executemany(sql, rows[start:start + 5000])
