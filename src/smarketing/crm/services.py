"""Writes of accounts, contacts and opportunities."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from smarketing.core.services import apply_fields, validate_and_save
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
    account = Account()
    apply_fields(account, data, allowed=ACCOUNT_FIELDS)
    validate_and_save(account, label="account")
    return account


@transaction.atomic
def account_update(*, account: Account, data: dict[str, Any]) -> Account:
    """Change fields of an account."""
    changed = apply_fields(account, data, allowed=ACCOUNT_FIELDS)
    if changed:
        validate_and_save(account, label=f"account:{account.pk}", update_fields=[*changed, "updated_at"])
    return account


@transaction.atomic
def contact_create(**data: Any) -> Contact:
    """Create a contact (a lead until the lifecycle moves it)."""
    contact = Contact()
    if data.get("email"):
        data["email"] = data["email"].strip().lower()
    apply_fields(contact, data, allowed=CONTACT_FIELDS)
    validate_and_save(contact, label="contact")
    return contact


@transaction.atomic
def contact_update(*, contact: Contact, data: dict[str, Any]) -> Contact:
    """Change fields of a contact; the lifecycle stage changes only through lifecycle services."""
    if data.get("email"):
        data["email"] = data["email"].strip().lower()
    changed = apply_fields(contact, data, allowed=CONTACT_FIELDS)
    if changed:
        validate_and_save(contact, label=f"contact:{contact.pk}", update_fields=[*changed, "updated_at"])
    return contact


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
    opp = Opportunity()
    apply_fields(opp, data, allowed=OPPORTUNITY_FIELDS)
    validate_and_save(opp, label="opportunity")
    return opp


@transaction.atomic
def opportunity_update(*, opportunity: Opportunity, data: dict[str, Any]) -> Opportunity:
    """Change fields of an opportunity (closing it sets outcome and, if lost, a loss reason)."""
    changed = apply_fields(opportunity, data, allowed=OPPORTUNITY_FIELDS)
    if changed:
        validate_and_save(opportunity, label=f"opportunity:{opportunity.pk}", update_fields=[*changed, "updated_at"])
    return opportunity
