"""Writes of accounts, contacts and opportunities."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from smarketing.core.services import record_create, record_update
from smarketing.crm.models import Account, Contact, Opportunity

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


@transaction.atomic
def opportunity_create(**data: Any) -> Opportunity:
    """Open an opportunity."""
    return record_create(Opportunity, data, allowed=OPPORTUNITY_FIELDS, label="opportunity")


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, data: dict[str, Any]) -> Opportunity:
    """Change fields of an opportunity (closing it sets outcome and, if lost, a loss reason)."""
    return record_update(opportunity, data, allowed=OPPORTUNITY_FIELDS, label="opportunity")


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
        for c in Contact.objects.filter(source=source, source_id__in=sids[start:start + 2000]):
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
        ids.update(Contact.objects.filter(source=source, source_id__in=sids[start:start + 2000])
                   .values_list("source_id", "id"))
    return ids, len(new), len(changed)
