"""Writes of accounts, contacts and opportunities."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction

from smarketing.core import bulk, clock
from smarketing.core.errors import ValidationFailed
from smarketing.core.services import record_create, record_update
from smarketing.crm.enums import Outcome
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.crm.tasks import opportunity_outcome_act

ACCOUNT_FIELDS = {"name", "domain", "industry", "employees", "revenue_band", "region", "segment", "owner",
                  "is_customer", "source", "source_id"}
CONTACT_FIELDS = {"account", "email", "first_name", "last_name", "title", "buying_role", "owner", "lead_source",
                  "country", "first_seen_at", "attributes", "source", "source_id"}
OPPORTUNITY_FIELDS = {"account", "primary_contact", "name", "type", "amount", "currency", "stage", "opened_at",
                      "closed_at", "outcome", "loss_reason", "owner", "product", "source", "source_id"}


@transaction.atomic
def account_create(**data: Any) -> Account:
    """Create an account."""
    return record_create(Account, data, allowed=ACCOUNT_FIELDS, label="account")


@transaction.atomic
def account_update(*, account: Account, data: dict[str, Any]) -> Account:
    """Change fields of an account."""
    return record_update(account, data, allowed=ACCOUNT_FIELDS, label="account")


@transaction.atomic
def contact_create(**data: Any) -> Contact:
    """Create a contact (a lead until the lifecycle moves it)."""
    return record_create(Contact, _clean_email(data), allowed=CONTACT_FIELDS, label="contact")


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    """Change fields of a contact; the lifecycle stage changes only through lifecycle services."""
    return record_update(contact, _clean_email(data), allowed=CONTACT_FIELDS, label="contact")


def _clean_email(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "email": data["email"].strip().lower()} if data.get("email") else data


def contact_stage_set(*, contact: Contact, stage: str) -> None:
    """Cache the current stage on the contact (called by lifecycle services after recording history)."""
    Contact.objects.filter(pk=contact.pk).update(lifecycle_stage=stage)
    contact.lifecycle_stage = stage


def account_stage_set(*, account: Account, stage: str) -> None:
    """Cache the current stage on the account (called by lifecycle services after recording history)."""
    is_customer = account.is_customer or stage == "customer"
    Account.objects.filter(pk=account.pk).update(lifecycle_stage=stage, is_customer=is_customer)
    account.lifecycle_stage = stage
    account.is_customer = is_customer


# A change to one of these on a closed deal is acted on again (the act is idempotent).
OUTCOME_FIELDS = ("outcome", "loss_reason", "closed_at", "account_id", "primary_contact_id")


@transaction.atomic
def opportunity_create(**data: Any) -> Opportunity:
    """Open an opportunity (or record one already closed: its outcome is acted on after commit)."""
    data = _closed_now_if_closing(data, current=None)
    _close_after_open(data.get("opened_at"), data.get("closed_at"), record="opportunity")
    opportunity = record_create(Opportunity, data, allowed=OPPORTUNITY_FIELDS, label="opportunity")
    if opportunity.outcome != Outcome.OPEN:
        _act_on_outcome(opportunity)
    return opportunity


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, data: dict[str, Any]) -> Opportunity:
    """Change fields of an opportunity (closing it sets outcome and, if lost, a loss reason).

    Once the deal is closed, its outcome is acted on after commit (`opportunity_outcome_act`): won makes the account
    and primary contact customers at the close time, lost records the loss reason as feedback. A close without a
    close time is closed now.
    """
    before = {name: getattr(opportunity, name) for name in OUTCOME_FIELDS}
    data = _closed_now_if_closing(data, current=opportunity)
    opportunity = record_update(opportunity, data, allowed=OPPORTUNITY_FIELDS, label="opportunity",
                                check=lambda o: _close_after_open(o.opened_at, o.closed_at,
                                                                  record=f"opportunity:{o.pk}"))
    changed = any(getattr(opportunity, name) != value for name, value in before.items())
    if opportunity.outcome != Outcome.OPEN and changed:
        _act_on_outcome(opportunity)
    return opportunity


def _close_after_open(opened_at: Any, closed_at: Any, *, record: str) -> None:
    # Why: a deal closed before it opened has a negative cycle time and breaks every velocity figure.
    if isinstance(opened_at, datetime) and isinstance(closed_at, datetime) and closed_at < opened_at:
        raise ValidationFailed(f"{record}: closed_at {closed_at.isoformat()} is before opened_at "
                               f"{opened_at.isoformat()}", field="closed_at", record=record)


def _closed_now_if_closing(data: dict[str, Any], *, current: Opportunity | None) -> dict[str, Any]:
    """A deal closed (won or lost) without a close time closed now: a win's stage changes happen at that time."""
    was_open = current is None or current.outcome == Outcome.OPEN
    closing = was_open and data.get("outcome") not in (None, Outcome.OPEN)
    known = data.get("closed_at") is not None or (
        "closed_at" not in data and current is not None and current.closed_at is not None)
    return {**data, "closed_at": clock.now()} if closing and not known else data


def _act_on_outcome(opportunity: Opportunity) -> None:
    opportunity_id = opportunity.pk
    transaction.on_commit(lambda: opportunity_outcome_act.enqueue(opportunity_id))


@transaction.atomic
def contacts_upsert_by_source(*, source: str, rows: list[dict[str, Any]]) -> tuple[dict[str, int], int, int]:
    """Bulk create-or-update contacts keyed by (source, source_id), for imports that validated their rows.

    Returns the contact id by source id, how many were created and how many updated.
    """
    fields = sorted({k for r in rows for k in r} - {"source", "source_id"})
    unknown = sorted(set(fields) - CONTACT_FIELDS)
    if unknown:
        from smarketing.core.errors import ValidationFailed

        raise ValidationFailed(f"unknown contact field(s): {', '.join(unknown)}", field=unknown[0])
    by_sid = {r["source_id"]: r for r in rows}
    existing: dict[str, Contact] = {}
    sids = list(by_sid)
    for start in range(0, len(sids), 2000):
        for c in Contact.objects.filter(source=source, source_id__in=sids[start:start + 2000]).exclude(source_id=""):
            existing[c.source_id] = c
    new = [Contact(source=source, **r) for sid, r in by_sid.items() if sid not in existing]
    changed = []
    for sid, contact in existing.items():
        row = by_sid[sid]
        if any(getattr(contact, k) != v for k, v in row.items()):
            for k, v in row.items():
                setattr(contact, k, v)
            changed.append(contact)
    Contact.objects.bulk_create(new, batch_size=1000)
    if changed:
        Contact.objects.bulk_update(changed, [f for f in fields if f != "source_id"], batch_size=1000)
    ids = {c.source_id: c.pk for c in existing.values()}
    for start in range(0, len(sids), 2000):
        ids.update(Contact.objects.filter(source=source, source_id__in=sids[start:start + 2000]).exclude(source_id="")
                   .values_list("source_id", "id"))
    return ids, len(new), len(changed)


# ------------------------------------------------------------------------------------ bulk writes for imports

# Rows name foreign keys by id; the source is the call's, and stages are the lifecycle's to set.
BULK_CONTACT_FIELDS = (CONTACT_FIELDS - {"account", "owner", "source"}) | {"account_id", "owner_id"}
BULK_ACCOUNT_FIELDS = (ACCOUNT_FIELDS - {"owner", "is_customer", "source"}) | {"owner_id"}
BULK_OPPORTUNITY_FIELDS = (OPPORTUNITY_FIELDS - {"account", "primary_contact", "owner", "source"}) | {
    "account_id", "primary_contact_id", "owner_id"}
CHUNK = 2000


def _check_rows(model: Any, rows: list[dict[str, Any]], *, source: str, allowed: set[str], label: str) -> None:
    """What full_clean would refuse, checked cheaply per row: unknown fields, missing or repeated source ids,
    text too long, values outside the choices, naive datetimes. The error names the row and the field."""
    if not source or len(source) > 32:
        raise ValidationFailed(f"source {source!r} must be 1 to 32 characters", field="source")
    fields = {f.attname: f for f in model._meta.concrete_fields}
    choices = {name: {c[0] for c in f.choices} for name, f in fields.items() if f.choices}
    seen: set[str] = set()
    for row in rows:
        sid = row.get("source_id") or ""
        record = f"{label}:{source}:{sid}"
        unknown = sorted(set(row) - allowed - {"source_id"})
        if unknown:
            raise ValidationFailed(f"{record}: unknown {label} field(s): {', '.join(unknown)}", field=unknown[0],
                                   record=record)
        if not sid or len(sid) > 128:
            raise ValidationFailed(f"{record}: source_id must be 1 to 128 characters", field="source_id",
                                   record=record)
        if sid in seen:
            raise ValidationFailed(f"{record}: source_id appears twice in one import", field="source_id",
                                   record=record)
        seen.add(sid)
        for name, value in row.items():
            f = fields[name]
            if value is None:
                if not f.null:
                    raise ValidationFailed(f"{record}: {name} is required", field=name, record=record)
                continue
            if name in choices and value not in choices[name]:
                raise ValidationFailed(f"{record}: {name} {value!r} is not one of {sorted(choices[name])}",
                                       field=name, record=record)
            if isinstance(value, str) and f.max_length and len(value) > f.max_length:
                raise ValidationFailed(f"{record}: {name} is longer than {f.max_length} characters", field=name,
                                       record=record)
            if isinstance(value, datetime) and value.tzinfo is None:
                raise ValidationFailed(f"{record}: {name} must carry a time zone", field=name, record=record)


PLAIN_FIELDS = (models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.ForeignKey)
PLAIN_TYPES = (str, int, bool)


def _rows_insert(model: Any, *, source: str, rows: list[dict[str, Any]]) -> None:
    """Insert checked rows straight into the table (core.bulk.rows_insert): every column but the id, a field a row
    does not give at its default, both timestamps now. Why not bulk_create: building a model instance per row and
    compiling each value was most of a 100,000-contact import's time and memory."""
    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    now = clock.now()
    given = {"source": source, "created_at": now, "updated_at": now}
    # A choices default is an enum member (Stage.LEAD): its plain value, so a row of defaults needs no preparing
    defaults = {f.attname: (d.value if isinstance(d := f.get_default(), enum.Enum) else d) for f in fields}
    # Why split: a text, whole-number or yes/no value (or None) is already what the database takes, and preparing
    # every cell through its field was a fifth of a large import; dates, amounts and JSON still go through theirs.
    plain = [f.attname for f in fields if isinstance(f, PLAIN_FIELDS) and not isinstance(f, models.JSONField)]
    preps = [(f.attname, f.get_db_prep_save) for f in fields if f.attname not in plain]
    names = plain + [name for name, _ in preps]
    out = []
    for r in rows:
        values = {**defaults, **r, **given}
        row = [values[name] for name in plain]
        if any(v is not None and type(v) not in PLAIN_TYPES for v in row):  # an odd value: its field prepares it
            by_name = {f.attname: f for f in fields}
            row = [by_name[name].get_db_prep_save(v, connection) for name, v in zip(plain, row, strict=True)]
        out.append((*row, *(prep(values[name], connection) for name, prep in preps)))
    bulk.rows_insert(model, names, out)


def _bulk_create_by_source(model: Any, *, source: str, rows: list[dict[str, Any]], allowed: set[str],
                           label: str) -> tuple[dict[str, int], int]:
    """Insert the rows whose (source, source_id) is new; the id of every row's record by source id, and how many
    were created. Rows already present are left as they are: an import of history adds, it does not edit.
    (The look-ups exclude an empty source_id: that is the partial unique index's condition, so it is used.)"""
    _check_rows(model, rows, source=source, allowed=allowed, label=label)
    sids = [r["source_id"] for r in rows]
    ids: dict[str, int] = {}
    for start in range(0, len(sids), CHUNK):
        ids.update(model.objects.filter(source=source, source_id__in=sids[start:start + CHUNK]).exclude(source_id="")
                   .values_list("source_id", "id"))
    new = [r for r in rows if r["source_id"] not in ids]
    _rows_insert(model, source=source, rows=new)
    if new:
        for start in range(0, len(sids), CHUNK):
            ids.update(model.objects.filter(source=source, source_id__in=sids[start:start + CHUNK]).exclude(source_id="")
                       .values_list("source_id", "id"))
    return ids, len(new)


@transaction.atomic
def contacts_bulk_create(*, source: str, rows: list[dict[str, Any]]) -> tuple[dict[str, int], int]:
    """Create the imported contacts not yet present (keyed by source and source id), in the caller's transaction.

    Each row names its `source_id` and contact fields (`account_id`, not `account`); the stage stays `lead`
    until the lifecycle records history. Returns the contact id by source id and how many were created.
    """
    return _bulk_create_by_source(Contact, source=source, rows=[_clean_email(r) for r in rows],
                                  allowed=BULK_CONTACT_FIELDS, label="contact")


@transaction.atomic
def accounts_bulk_create(*, source: str, rows: list[dict[str, Any]]) -> tuple[dict[str, int], int]:
    """Create the imported accounts not yet present (keyed by source and source id); ids by source id, created."""
    return _bulk_create_by_source(Account, source=source, rows=rows, allowed=BULK_ACCOUNT_FIELDS, label="account")


@transaction.atomic
def opportunities_bulk_create(*, source: str, rows: list[dict[str, Any]]) -> tuple[dict[str, int], int]:
    """Create the imported opportunities not yet present (keyed by source and source id); ids, created."""
    for r in rows:
        amount = r.get("amount")
        if amount is not None and not (Decimal(amount).is_finite() and Decimal(amount) >= 0):
            record = f"opportunity:{source}:{r.get('source_id', '')}"
            raise ValidationFailed(f"{record}: amount {amount} must be a non-negative amount", field="amount",
                                   record=record)
    return _bulk_create_by_source(Opportunity, source=source, rows=rows, allowed=BULK_OPPORTUNITY_FIELDS,
                                  label="opportunity")


def contacts_stage_bulk_set(*, stages: dict[int, str]) -> None:
    """Cache the current stage on many contacts (called by lifecycle bulk services after recording history)."""
    by_stage: dict[str, list[int]] = {}
    for pk, stage in stages.items():
        by_stage.setdefault(stage, []).append(pk)
    for stage, pks in by_stage.items():
        for start in range(0, len(pks), CHUNK):
            Contact.objects.filter(pk__in=pks[start:start + CHUNK]).update(lifecycle_stage=stage)


def accounts_stage_bulk_set(*, stages: dict[int, str]) -> None:
    """Cache the current stage on many accounts; reaching customer makes an account a customer for good."""
    by_stage: dict[str, list[int]] = {}
    for pk, stage in stages.items():
        by_stage.setdefault(stage, []).append(pk)
    for stage, pks in by_stage.items():
        extra = {"is_customer": True} if stage == "customer" else {}
        for start in range(0, len(pks), CHUNK):
            Account.objects.filter(pk__in=pks[start:start + CHUNK]).update(lifecycle_stage=stage, **extra)


_BULK_MODELS: dict[str, tuple[Any, set[str]]] = {
    "contact": (Contact, BULK_CONTACT_FIELDS | {"source"}),
    "account": (Account, BULK_ACCOUNT_FIELDS | {"source"}),
    "opportunity": (Opportunity, BULK_OPPORTUNITY_FIELDS | {"source"}),
}


@transaction.atomic
def records_bulk_update(*, entity: str, changes: dict[int, dict[str, Any]]) -> int:
    """Change fields of many imported accounts, contacts or opportunities by id (an import's updates, already
    checked row by row). A contact found by email takes the import's source and source id here. Stages are the
    lifecycle's; an opportunity's outcome change is the import's to record as history. Returns how many changed."""
    model, allowed = _BULK_MODELS[entity]
    by_fields: dict[tuple[str, ...], list[Any]] = {}
    for pk, data in changes.items():
        if unknown := sorted(set(data) - allowed):
            raise ValidationFailed(f"{entity}:{pk}: unknown {entity} field(s): {', '.join(unknown)}",
                                   field=unknown[0], record=f"{entity}:{pk}")
        if entity == "contact" and data.get("email"):
            data = {**data, "email": data["email"].strip().lower()}
        by_fields.setdefault(tuple(sorted(data)), []).append(model(pk=pk, **data))
    now = clock.now()
    for fields, objs in by_fields.items():
        for obj in objs:
            obj.updated_at = now
        model.objects.bulk_update(objs, [*fields, "updated_at"], batch_size=500)
    return len(changes)


def contacts_owner_bulk_set(*, owners: dict[int, int]) -> None:
    """Give many contacts their owner at once (routing a batch of MQLs): one UPDATE per owner and chunk."""
    from django.utils import timezone

    by_owner: dict[int, list[int]] = {}
    for pk, owner_id in owners.items():
        by_owner.setdefault(owner_id, []).append(pk)
    now = timezone.now()  # what auto_now stamps on a single save
    for owner_id, pks in by_owner.items():
        for start in range(0, len(pks), CHUNK):
            Contact.objects.filter(pk__in=pks[start:start + CHUNK]).update(owner_id=owner_id, updated_at=now)
