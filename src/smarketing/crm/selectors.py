"""Reads of accounts, contacts and opportunities."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from smarketing.core.errors import NotFound
from smarketing.crm.models import Account, Contact, Opportunity


def _get(qs: QuerySet[Any], pk: int, label: str) -> Any:
    obj = qs.filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"{label} {pk} does not exist", record=f"{label}:{pk}")
    return obj


def account_list(*, q: str = "", industry: str = "", region: str = "", owner_id: int | None = None,
                 stage: str = "", updated_after: datetime | None = None) -> QuerySet[Account]:
    """Accounts, filtered (`updated_after` serves incremental syncs)."""
    qs = Account.objects.select_related("owner").order_by("name", "id")
    if q:
        qs = qs.filter(name__icontains=q)
    if industry:
        qs = qs.filter(industry=industry)
    if region:
        qs = qs.filter(region=region)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if stage:
        qs = qs.filter(lifecycle_stage=stage)
    if updated_after:
        qs = qs.filter(updated_at__gte=updated_after)
    return qs


def account_get(*, pk: int) -> Account:
    return _get(Account.objects.select_related("owner"), pk, "account")


def contact_list(*, q: str = "", account_id: int | None = None, stage: str = "", owner_id: int | None = None,
                 buying_role: str = "", lead_source: str = "", updated_after: datetime | None = None,
                 ) -> QuerySet[Contact]:
    """Contacts, filtered (`updated_after` serves incremental syncs)."""
    qs = Contact.objects.select_related("account", "owner").order_by("id")
    if q:
        qs = qs.filter(email__icontains=q) | qs.filter(last_name__icontains=q)
    if account_id:
        qs = qs.filter(account_id=account_id)
    if stage:
        qs = qs.filter(lifecycle_stage=stage)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if buying_role:
        qs = qs.filter(buying_role=buying_role)
    if lead_source:
        qs = qs.filter(lead_source=lead_source)
    if updated_after:
        qs = qs.filter(updated_at__gte=updated_after)
    return qs


def contact_get(*, pk: int) -> Contact:
    return _get(Contact.objects.select_related("account", "owner"), pk, "contact")


def opportunity_list(*, account_id: int | None = None, outcome: str = "", stage: str = "", type: str = "",
                     owner_id: int | None = None, updated_after: datetime | None = None) -> QuerySet[Opportunity]:
    """Opportunities, filtered (`updated_after` serves incremental syncs)."""
    qs = Opportunity.objects.select_related("account", "owner", "primary_contact").order_by("-opened_at", "id")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if outcome:
        qs = qs.filter(outcome=outcome)
    if stage:
        qs = qs.filter(stage=stage)
    if type:
        qs = qs.filter(type=type)
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    if updated_after:
        qs = qs.filter(updated_at__gte=updated_after)
    return qs


def opportunity_get(*, pk: int) -> Opportunity:
    return _get(Opportunity.objects.select_related("account", "owner", "primary_contact"), pk, "opportunity")
