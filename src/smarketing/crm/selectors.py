"""Reads of accounts, contacts and opportunities."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Concat, Lower

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


def contact_accounts_by_id(*, ids: set[int]) -> dict[int, int | None]:
    """Contact id → its account id (None without one), for the ids that exist."""
    found: dict[int, int | None] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 2000):
        found.update(Contact.objects.filter(pk__in=id_list[start:start + 2000]).values_list("id", "account_id"))
    return found


def contact_ids_by_email(*, emails: set[str]) -> dict[str, tuple[int, int | None]]:
    """Lowercased email → (contact id, account id): contacts by email, case-insensitively."""
    lowered = sorted({e.lower() for e in emails})
    found: dict[str, tuple[int, int | None]] = {}
    for start in range(0, len(lowered), 2000):
        for pk, account_id, email in (Contact.objects.annotate(email_l=Lower("email"))
                                      .filter(email_l__in=lowered[start:start + 2000])
                                      .values_list("id", "account_id", "email_l")):
            found[email] = (pk, account_id)
    return found


def contact_stages_by_id(*, ids: set[int]) -> dict[int, str]:
    """Contact id → its current lifecycle stage, for the ids that exist."""
    found: dict[int, str] = {}
    id_list = sorted(ids)
    for start in range(0, len(id_list), 2000):
        found.update(Contact.objects.filter(pk__in=id_list[start:start + 2000]).values_list("id", "lifecycle_stage"))
    return found


# Reads for the web pages' caches and filters.

def crm_data_version() -> tuple[str, int]:
    """A fingerprint of the CRM tables (latest edit of a contact and of an opportunity) and the number of contacts."""
    contacts = Contact.objects.aggregate(v=Max("updated_at"), n=Count("id"))
    opportunities = Opportunity.objects.aggregate(v=Max("updated_at"))["v"]
    return f"{contacts['v']}|{opportunities}", contacts["n"]


def contact_field_values(*, field: str, limit: int = 200) -> list[str]:
    """The distinct non-blank values of a contact field (`lead_source`, `country`) or of its account's `segment`."""
    columns = {"lead_source": (Contact, "lead_source"), "country": (Contact, "country"), "segment": (Account, "segment")}
    model, column = columns[field]
    values = (model.objects.exclude(**{column: ""}).order_by(column)  # type: ignore[attr-defined]
              .values_list(column, flat=True).distinct()[:limit])
    return [str(v) for v in values]


def contact_owner_names(*, limit: int = 200) -> dict[int, str]:
    """The users who own contacts, by id, with their username."""
    return dict(Contact.objects.filter(owner__isnull=False).order_by("owner_id")
                .values_list("owner_id", "owner__username").distinct()[:limit])


def open_pipeline_by_account(*, account_ids: Any) -> dict[int, float]:
    """Open opportunity amounts summed per account, for these accounts (a list or a subquery of ids)."""
    rows = (Opportunity.objects.filter(outcome="open", account_id__in=account_ids).values("account_id")
            .annotate(v=Sum("amount")).values_list("account_id", "v").order_by())
    return {account_id: float(v or 0) for account_id, v in rows}


def contact_ids_by_source(*, source: str, source_ids: list[str]) -> dict[str, int]:
    """Source id → contact id, for the contacts of this source that exist."""
    found: dict[str, int] = {}
    for start in range(0, len(source_ids), 2000):
        found.update(Contact.objects.filter(source=source, source_id__in=source_ids[start:start + 2000])
                     .values_list("source_id", "id"))
    return found


def opportunity_list_for_contact(*, contact_id: int) -> QuerySet[Opportunity]:
    """Opportunities whose primary contact this is, newest first."""
    return opportunity_list().filter(primary_contact_id=contact_id)


IMPORT_SNAPSHOT_FIELDS: dict[str, tuple[str, ...]] = {
    "contact": ("email", "first_name", "last_name", "title", "owner_id", "lead_source", "country", "first_seen_at",
                "account_id", "attributes"),
    "account": ("name", "domain", "industry", "employees", "region", "segment", "owner_id"),
    "opportunity": ("name", "type", "amount", "currency", "stage", "opened_at", "closed_at", "outcome",
                    "loss_reason", "owner_id", "product", "account_id", "primary_contact_id"),
}


def records_for_import(*, entity: str, source: str, source_ids: Sequence[str], emails: Sequence[str] = (),
                       domains: Sequence[str] = ()) -> list[dict[str, Any]]:
    """The accounts, contacts or opportunities an import may touch: those with its (source, source id), and for
    contacts those with one of its emails (lower-cased), for accounts one of its domains. Each as a dict of id,
    source, source_id and the fields an import writes."""
    model: Any = {"contact": Contact, "account": Account, "opportunity": Opportunity}[entity]
    fields = ("id", "source", "source_id", *IMPORT_SNAPSHOT_FIELDS[entity])
    out: dict[int, dict[str, Any]] = {}
    chunk = 2000
    for key, values in (("source_id__in", list(source_ids)), ("email__in", [e.lower() for e in emails]),
                        ("domain__in", list(domains))):
        if key != "source_id__in" and values:  # records already found by their key need no second look-up
            found = {str(r[key.removesuffix("__in")]) for r in out.values()}
            values = [v for v in values if v not in found]
        for start in range(0, len(values), chunk):
            qs = model.objects.filter(**{key: values[start:start + chunk]})
            # Why the exclusions: they are the conditions of the partial unique indexes on (source, source_id) and
            # email, which the database uses only when the query states them
            if key == "source_id__in":
                qs = qs.filter(source=source).exclude(source_id="")
            elif key == "email__in":
                qs = qs.exclude(email="")
            for row in qs.values(*fields):
                out[row["id"]] = row
    return list(out.values())


def opportunity_links_by_id(*, ids: list[int]) -> dict[int, dict[str, int | None]]:
    """Each opportunity's account and primary contact ids: {id: {"account": …, "contact": …}}."""
    out: dict[int, dict[str, int | None]] = {}
    for start in range(0, len(ids), 2000):
        for pk, account, contact in (Opportunity.objects.filter(pk__in=ids[start:start + 2000])
                                     .values_list("id", "account_id", "primary_contact_id")):
            out[pk] = {"account": account, "contact": contact}
    return out


# Search: icontains lookups, fine at demo size (tens of thousands of rows scan in milliseconds); a large tenant would
# want trigram (PostgreSQL pg_trgm) or full-text indexes here, behind the same selectors.
SEARCH_LIMIT = 8


def contact_search(*, q: str, limit: int = SEARCH_LIMIT) -> tuple[int, list[Contact]]:
    """Contacts whose name, email or external source id contains `q`: (how many match, the first `limit`)."""
    terms = Q(email__icontains=q) | Q(first_name__icontains=q) | Q(last_name__icontains=q) | Q(source_id__icontains=q)
    qs = (Contact.objects.annotate(full=Concat("first_name", Value(" "), "last_name"))
          .filter(terms | Q(full__icontains=q)).select_related("account"))
    return qs.count(), list(qs.order_by("last_name", "first_name", "id")[:limit])


def account_search(*, q: str, limit: int = SEARCH_LIMIT) -> tuple[int, list[Account]]:
    """Accounts whose name, domain or external source id contains `q`: (how many match, the first `limit`)."""
    qs = Account.objects.filter(Q(name__icontains=q) | Q(domain__icontains=q) | Q(source_id__icontains=q))
    return qs.count(), list(qs.order_by("name", "id")[:limit])


def opportunity_search(*, q: str, limit: int = SEARCH_LIMIT) -> tuple[int, list[Opportunity]]:
    """Opportunities whose name or external source id contains `q`: (how many match, the first `limit`)."""
    qs = Opportunity.objects.filter(Q(name__icontains=q) | Q(source_id__icontains=q)).select_related("account")
    return qs.count(), list(qs.order_by("name", "id")[:limit])
