"""Writes of campaigns and touchpoints."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from smarketing.campaigns.enums import MEMBER_STATUS_ORDER, CampaignType, Channel, MemberStatus, TouchKind
from smarketing.campaigns.hooks import TOUCHPOINT_HOOKS
from smarketing.campaigns.models import Campaign, CampaignMember, Touchpoint, TouchpointCorrection
from smarketing.core import bulk, clock
from smarketing.core.errors import Conflict, NotFound, ValidationFailed
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

    A repeat delivery is not an edit: the first row stands as recorded, whatever actor the repeat names. Concurrent
    repeats resolve like stage changes: the one insert the unique key lets through wins, the others read it back.
    """
    if source_id:
        existing = Touchpoint.objects.filter(source=source, source_id=source_id).first()
        if existing is not None:
            return existing, False
    if occurred_at is None or getattr(occurred_at, "tzinfo", None) is None:
        raise ValidationFailed("occurred_at must be a timezone-aware datetime", field="occurred_at")
    _touch_value_checked(value, f"touchpoint:{source}:{source_id}" if source_id else "touchpoint")
    tp = Touchpoint(contact=contact, account_id=contact.account_id, campaign=campaign, channel=channel, kind=kind,
                    occurred_at=occurred_at, source=source, source_id=source_id, value=value, actor=actor)
    try:
        # Why a savepoint: a concurrent request with the same key may commit between the look-up and this insert;
        # the unique key refuses the second row and only the insert is rolled back, not the caller's work.
        with transaction.atomic():
            validate_and_save(tp, label="touchpoint")
    except Conflict:
        first = Touchpoint.objects.filter(source=source, source_id=source_id).first() if source_id else None
        if first is None:
            raise
        return first, False
    transaction.on_commit(lambda: _after_touchpoint(tp.pk))
    return tp, True


def _touch_value_checked(value: Any, record: str) -> None:
    # Why: a touch's value is money it brought or cost (a deal size, a ticket); below zero it is a sign typo.
    if value is None:
        return
    problem = _touch_value_problem(value)
    if problem:
        raise ValidationFailed(f"{record}: value {problem}", field="value", record=record)


def _touch_value_problem(value: Any) -> str | None:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return f"{value!r} is not a number"
    if not amount.is_finite():
        return f"{value} is not a finite number"
    if amount < 0:
        return f"{value} is negative; a touchpoint's value is zero or more"
    return None


@transaction.atomic
def touchpoint_correct(*, touchpoint_id: int, reason: str, corrected_by: User) -> TouchpointCorrection:
    """Reverse one touchpoint (RevOps, with a reason): it stays in the history, marked, and drops out of every
    figure; a second correction of the same touchpoint is a conflict."""
    from smarketing.lifecycle.services_corrections import correction_checked, correction_recorded

    record = f"touchpoint:{touchpoint_id}"
    reason = correction_checked(user=corrected_by, reason=reason, record=record)
    touchpoint = Touchpoint.objects.select_for_update().filter(pk=touchpoint_id).first()
    if touchpoint is None:
        raise NotFound(f"touchpoint {touchpoint_id} does not exist", record=record)
    correction: TouchpointCorrection = correction_recorded(
        TouchpointCorrection, subject="touchpoint", target=touchpoint, corrected_by=corrected_by, reason=reason,
        record=record)
    return correction


def _after_touchpoint(touchpoint_id: int) -> None:
    """Hook for incremental rescoring; the lifecycle app registers the work it needs here."""
    for hook in TOUCHPOINT_HOOKS:
        hook(touchpoint_id)


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
        _touch_value_checked(t.get("value"), f"touchpoint:{t['source']}:{t['source_id']}")
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
        if t.get("value") is not None and (problem := _touch_value_problem(t["value"])):
            raise _bulk_problem(record, "value", problem)
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
    bulk.rows_insert(Touchpoint, TOUCHPOINT_COLUMNS, new)
    return len(new)


TOUCHPOINT_COLUMNS = ("contact_id", "account_id", "campaign_id", "channel", "kind", "occurred_at", "source",
                      "source_id", "value", "actor_id", "recorded_at")


# ------------------------------------------------------------------------------------------- campaign members

def member_advance(*, status: str, first_responded_at: datetime | None, new_status: str,
                   new_first_responded_at: datetime | None, now: datetime) -> tuple[str, datetime | None]:
    """The member's status and first response after an update: the status only moves forward, and the first
    response is set once (the date given, else `now` when the status reaches responded or later)."""
    if MEMBER_STATUS_ORDER[new_status] > MEMBER_STATUS_ORDER[status]:
        status = new_status
    if first_responded_at is None:
        if new_first_responded_at is not None:
            first_responded_at = new_first_responded_at
        elif MEMBER_STATUS_ORDER[status] >= MEMBER_STATUS_ORDER[MemberStatus.RESPONDED]:
            first_responded_at = now
    return status, first_responded_at


def _member_status_checked(status: str, record: str) -> str:
    if status not in MEMBER_STATUS_ORDER:
        raise ValidationFailed(f"{record}: status {status!r} is not one of {', '.join(MEMBER_STATUS_ORDER)}",
                               field="status", record=record)
    return status


@transaction.atomic
def campaign_member_upsert(*, campaign: Campaign, contact: Contact, status: str = MemberStatus.SENT,
                           created_at: datetime | None = None, first_responded_at: datetime | None = None,
                           source: str = "", source_id: str = "") -> tuple[CampaignMember, bool]:
    """Add a contact to a campaign, or move its membership forward; returns (member, created).

    One membership per campaign and contact: a repeat never moves the status back, and the first response and
    the membership time stay as first recorded.
    """
    record = f"campaign_member:{campaign.pk}:{contact.pk}"
    _member_status_checked(status, record)
    for name, value in (("created_at", created_at), ("first_responded_at", first_responded_at)):
        if value is not None and value.tzinfo is None:
            raise ValidationFailed(f"{record}: {name} must be a timezone-aware datetime", field=name, record=record)
    now = clock.now()
    member = CampaignMember.objects.select_for_update().filter(campaign=campaign, contact=contact).first()
    if member is None:
        new_status, first = member_advance(status=MemberStatus.SENT, first_responded_at=None, new_status=status,
                                           new_first_responded_at=first_responded_at, now=now)
        member = CampaignMember(campaign=campaign, contact=contact, status=new_status, first_responded_at=first,
                                created_at=created_at or now, source=source, source_id=source_id)
        validate_and_save(member, label="campaign member")
        return member, True
    new_status, first = member_advance(status=member.status, first_responded_at=member.first_responded_at,
                                       new_status=status, new_first_responded_at=first_responded_at, now=now)
    changed = (new_status, first) != (member.status, member.first_responded_at)
    if source_id and not member.source_id:
        member.source, member.source_id, changed = source, source_id, True
    if changed:
        member.status, member.first_responded_at = new_status, first
        validate_and_save(member, label="campaign member")
    return member, False


@transaction.atomic
def campaign_members_upsert_many(*, members: list[dict[str, Any]]) -> tuple[int, int]:
    """Upsert many memberships at once (imports); returns (created, updated).

    Each row needs campaign_id, contact_id, status, created_at (aware) and may carry first_responded_at, source
    and source_id; the rules are campaign_member_upsert's, so importing the same rows again changes nothing.
    """
    now = clock.now()
    pairs = {(m["campaign_id"], m["contact_id"]) for m in members}
    existing: dict[tuple[int, int], CampaignMember] = {}
    for campaign_id in {c for c, _ in pairs}:
        contact_ids = sorted(k for c, k in pairs if c == campaign_id)
        for start in range(0, len(contact_ids), CHUNK):
            for row in CampaignMember.objects.filter(campaign_id=campaign_id,
                                                     contact_id__in=contact_ids[start:start + CHUNK]):
                existing[(campaign_id, row.contact_id)] = row
    new: dict[tuple[int, int], CampaignMember] = {}
    changed: dict[tuple[int, int], CampaignMember] = {}
    for m in members:
        key = (m["campaign_id"], m["contact_id"])
        record = f"campaign_member:{key[0]}:{key[1]}"
        _member_status_checked(m["status"], record)
        member = existing.get(key) or new.get(key)
        if member is None:
            status, first = member_advance(status=MemberStatus.SENT, first_responded_at=None, new_status=m["status"],
                                           new_first_responded_at=m.get("first_responded_at"), now=now)
            new[key] = CampaignMember(campaign_id=key[0], contact_id=key[1], status=status,
                                      first_responded_at=first, created_at=m["created_at"],
                                      source=m.get("source", ""), source_id=m.get("source_id", ""))
            continue
        status, first = member_advance(status=member.status, first_responded_at=member.first_responded_at,
                                       new_status=m["status"], new_first_responded_at=m.get("first_responded_at"),
                                       now=now)
        if (status, first) != (member.status, member.first_responded_at):
            member.status, member.first_responded_at, member.updated_at = status, first, now
            if key not in new:
                changed[key] = member
    CampaignMember.objects.bulk_create(list(new.values()), batch_size=1000)
    CampaignMember.objects.bulk_update(list(changed.values()), ["status", "first_responded_at", "updated_at"],
                                       batch_size=1000)
    return len(new), len(changed)
