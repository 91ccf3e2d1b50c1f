"""Import the Olist marketing funnel: 8,000 MQLs and the 842 deals they closed.

MQLs become contacts (source `olist`, keyed by `mql_id`, lead source = origin) with a lead→mql stage change at
first contact; closed deals become a seller account, a won opportunity and an mql→customer stage change at the
won date. The whole import is one transaction, validated before anything is written (bad rows are named by
file, line and field), and idempotent: rows already imported are found by their source key and left alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from django.db import transaction

from smarketing.core.errors import ValidationFailed
from smarketing.ingest.csvfile import read_csv

SOURCE = "olist"
MQL_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"
MQL_COLUMNS = ("mql_id", "first_contact_date", "landing_page_id", "origin")
DEAL_COLUMNS = ("mql_id", "seller_id", "sdr_id", "sr_id", "won_date", "business_segment", "lead_type",
                "lead_behaviour_profile", "business_type", "declared_monthly_revenue")
MAX_REPORTED = 20


@dataclass(frozen=True)
class OlistMql:
    mql_id: str
    first_contact_at: datetime
    landing_page_id: str
    origin: str


@dataclass(frozen=True)
class OlistDeal:
    mql_id: str
    seller_id: str
    sdr_id: str
    sr_id: str
    won_at: datetime
    business_segment: str
    lead_type: str
    lead_behaviour_profile: str
    business_type: str
    declared_monthly_revenue: Decimal


@dataclass
class OlistImportReport:
    contacts_created: int = 0
    accounts_created: int = 0
    opportunities_created: int = 0
    stage_changes_created: int = 0
    already_present: int = 0
    notes: list[str] = field(default_factory=list)


def _parse_dt(raw: str) -> datetime:
    raw = raw.strip()
    fmt = "%Y-%m-%d %H:%M:%S" if " " in raw else "%Y-%m-%d"
    return datetime.strptime(raw, fmt).replace(tzinfo=UTC)


def _rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    if not path.is_file():
        raise ValidationFailed(f"{path.name} is missing from {path.parent}", field="path", record=str(path.name))
    table = read_csv(path)
    missing = table.missing(required)
    if missing:
        raise ValidationFailed(f"{path.name} lacks column(s) {missing}", field=missing[0], record=path.name)
    return table.rows


def olist_read(folder: Path) -> tuple[list[OlistMql], list[OlistDeal]]:
    """Parse and check both files; raise one ValidationFailed naming every bad row (file, line, field)."""
    errors: list[dict[str, Any]] = []

    def bad(file: str, line: int, fld: str, message: str) -> None:
        errors.append({"record": f"{file}:{line}", "field": fld, "message": message})

    mqls: dict[str, OlistMql] = {}
    for line, row in _rows(folder / MQL_FILE, MQL_COLUMNS):
        mql_id = (row.get("mql_id") or "").strip()
        if not mql_id:
            bad(MQL_FILE, line, "mql_id", "is empty")
            continue
        if mql_id in mqls:
            bad(MQL_FILE, line, "mql_id", f"{mql_id} appears twice")
            continue
        try:
            first = _parse_dt(row.get("first_contact_date") or "")
        except ValueError:
            bad(MQL_FILE, line, "first_contact_date", f"{row.get('first_contact_date')!r} is not a date (YYYY-MM-DD)")
            continue
        mqls[mql_id] = OlistMql(mql_id, first, (row.get("landing_page_id") or "").strip(),
                                (row.get("origin") or "").strip())

    deals: dict[str, OlistDeal] = {}
    for line, row in _rows(folder / DEALS_FILE, DEAL_COLUMNS):
        mql_id = (row.get("mql_id") or "").strip()
        if mql_id not in mqls:
            bad(DEALS_FILE, line, "mql_id", f"{mql_id!r} is not an MQL in {MQL_FILE}")
            continue
        if mql_id in deals:
            bad(DEALS_FILE, line, "mql_id", f"{mql_id} has a second deal")
            continue
        if not (row.get("seller_id") or "").strip():
            bad(DEALS_FILE, line, "seller_id", "is empty")
            continue
        try:
            won = _parse_dt(row.get("won_date") or "")
        except ValueError:
            bad(DEALS_FILE, line, "won_date", f"{row.get('won_date')!r} is not a date-time (YYYY-MM-DD HH:MM:SS)")
            continue
        try:
            revenue = Decimal((row.get("declared_monthly_revenue") or "0").strip() or "0")
            if revenue < 0 or not revenue.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            bad(DEALS_FILE, line, "declared_monthly_revenue",
                f"{row.get('declared_monthly_revenue')!r} is not a non-negative amount")
            continue
        deals[mql_id] = OlistDeal(
            mql_id, row["seller_id"].strip(), (row.get("sdr_id") or "").strip(), (row.get("sr_id") or "").strip(),
            won, (row.get("business_segment") or "").strip(), (row.get("lead_type") or "").strip(),
            (row.get("lead_behaviour_profile") or "").strip(), (row.get("business_type") or "").strip(),
            revenue.quantize(Decimal("0.01")))
    if errors:
        shown = "; ".join(f"{e['record']} {e['field']}: {e['message']}" for e in errors[:MAX_REPORTED])
        more = f" (and {len(errors) - MAX_REPORTED} more)" if len(errors) > MAX_REPORTED else ""
        raise ValidationFailed(f"{len(errors)} bad row(s), nothing imported: {shown}{more}",
                               field=errors[0]["field"], record=errors[0]["record"], details=errors)
    return list(mqls.values()), list(deals.values())


@transaction.atomic
def olist_import(*, folder: Path) -> OlistImportReport:
    """Load the Olist MQLs and closed deals as contacts, accounts, won opportunities and stage history."""
    # Why bulk writes: 8,000 contacts through per-row services take minutes; these rows are new history written
    # once, with the same fields the crm/lifecycle services would set, inside one transaction.
    from smarketing.crm.enums import OpportunityStage, Outcome
    from smarketing.crm.models import Account, Contact, Opportunity
    from smarketing.lifecycle.enums import ActorKind, Stage
    from smarketing.lifecycle.models import StageChange
    from smarketing.playbook.selectors import playbook_version_active_get

    mqls, deals = olist_read(folder)
    version = playbook_version_active_get()
    report = OlistImportReport()
    deal_by_mql = {d.mql_id: d for d in deals}

    contact_ids = dict(Contact.objects.filter(source=SOURCE).values_list("source_id", "id"))
    new_contacts = []
    for m in mqls:
        if m.mql_id in contact_ids:
            report.already_present += 1
            continue
        attrs = {"landing_page_id": m.landing_page_id, "origin": m.origin}
        deal = deal_by_mql.get(m.mql_id)
        if deal is not None:
            attrs.update(sdr_id=deal.sdr_id, sr_id=deal.sr_id, lead_type=deal.lead_type,
                         lead_behaviour_profile=deal.lead_behaviour_profile, business_type=deal.business_type)
        new_contacts.append(Contact(source=SOURCE, source_id=m.mql_id, lead_source=m.origin,
                                    first_seen_at=m.first_contact_at, attributes=attrs,
                                    first_name="Olist lead", last_name=m.mql_id[:8],
                                    lifecycle_stage=Stage.CUSTOMER if deal else Stage.MQL))
    Contact.objects.bulk_create(new_contacts, batch_size=1000)
    report.contacts_created = len(new_contacts)
    contact_ids = dict(Contact.objects.filter(source=SOURCE).values_list("source_id", "id"))

    account_ids = dict(Account.objects.filter(source=SOURCE).values_list("source_id", "id"))
    new_accounts = {}
    for d in deals:
        if d.seller_id not in account_ids and d.seller_id not in new_accounts:
            new_accounts[d.seller_id] = Account(source=SOURCE, source_id=d.seller_id,
                                                name=f"Olist seller {d.seller_id[:8]}", segment=d.business_segment,
                                                industry=d.business_type, lifecycle_stage=Stage.CUSTOMER,
                                                is_customer=True)
    Account.objects.bulk_create(list(new_accounts.values()), batch_size=1000)
    report.accounts_created = len(new_accounts)
    account_ids = dict(Account.objects.filter(source=SOURCE).values_list("source_id", "id"))
    for d in deals:
        Contact.objects.filter(id=contact_ids[d.mql_id], account__isnull=True).update(
            account_id=account_ids[d.seller_id])

    have = set(StageChange.objects.filter(contact__source=SOURCE, actor_kind=ActorKind.IMPORT)
               .values_list("contact_id", "to_stage"))
    changes = []
    for m in mqls:
        cid = contact_ids[m.mql_id]
        if (cid, Stage.MQL.value) not in have:
            changes.append(StageChange(contact_id=cid, from_stage=Stage.LEAD, to_stage=Stage.MQL,
                                       occurred_at=m.first_contact_at, actor_kind=ActorKind.IMPORT,
                                       reason="Olist MQL: first contact", playbook_version=version,
                                       details={"source": SOURCE, "origin": m.origin}))
        deal = deal_by_mql.get(m.mql_id)
        if deal is not None and (cid, Stage.CUSTOMER.value) not in have:
            changes.append(StageChange(contact_id=cid, account_id=account_ids[deal.seller_id], from_stage=Stage.MQL,
                                       to_stage=Stage.CUSTOMER, occurred_at=deal.won_at,
                                       actor_kind=ActorKind.IMPORT, reason="Olist deal won",
                                       playbook_version=version, details={"source": SOURCE}))
            if deal.won_at < m.first_contact_at:
                report.notes.append(f"{DEALS_FILE}: deal {deal.mql_id} was won before its first contact; "
                                    "recorded as given (funnels count it as converted on entry)")
    StageChange.objects.bulk_create(changes, batch_size=1000)
    won_ids = [contact_ids[d.mql_id] for d in deals]
    Contact.objects.filter(id__in=won_ids).exclude(lifecycle_stage=Stage.CUSTOMER).update(
        lifecycle_stage=Stage.CUSTOMER)
    report.stage_changes_created = len(changes)

    opp_keys = set(Opportunity.objects.filter(source=SOURCE).values_list("source_id", flat=True))
    mql_by_id = {m.mql_id: m for m in mqls}
    opps = [Opportunity(source=SOURCE, source_id=d.mql_id, account_id=account_ids[d.seller_id],
                        primary_contact_id=contact_ids[d.mql_id], name=f"Olist {d.business_segment or 'deal'} "
                        f"{d.mql_id[:8]}", amount=d.declared_monthly_revenue, currency="BRL",
                        stage=OpportunityStage.CLOSED_WON, outcome=Outcome.WON,
                        opened_at=min(mql_by_id[d.mql_id].first_contact_at, d.won_at), closed_at=d.won_at,
                        product=d.lead_type)
            for d in deals if d.mql_id not in opp_keys]
    Opportunity.objects.bulk_create(opps, batch_size=1000)
    report.opportunities_created = len(opps)
    return report


def default_folder() -> Path:
    """`../shared/datasets/olist` beside the repository."""
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "olist"


def command(folder: Path = typer.Argument(None, help="Folder with the two Olist marketing-funnel CSVs "
                                                     "(default: ../shared/datasets/olist)")) -> None:
    """Load the Olist MQLs and closed deals as contacts, won opportunities and stage history."""
    report = olist_import(folder=folder or default_folder())
    typer.echo(f"olist: {report.contacts_created} contacts, {report.accounts_created} accounts, "
               f"{report.opportunities_created} won opportunities, {report.stage_changes_created} stage changes "
               f"created; {report.already_present} MQLs were already imported")
    for note in report.notes:
        typer.echo(f"note: {note}")
