"""Import the Olist marketing funnel: 8,000 MQLs and the 842 deals they closed.

MQLs become contacts (source `olist`, keyed by `mql_id`, lead source = origin) with their whole history: a lead
and an MQL stage change at first contact, and a first touchpoint there (a form fill on the MQL's landing page,
which becomes a campaign, through the channel of its origin). Closed deals become a seller account, a won
opportunity and customer stage changes of the contact and the seller at the won date. The whole import is one
transaction through the crm, campaigns and lifecycle bulk services, validated before anything is written (bad
rows are named by file, line and field), and idempotent: rows already imported are found by their source key
and left alone. Imported history is the past: it starts no SLA clock and notifies nobody.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import typer
from django.db import transaction

from smarketing.campaigns.enums import Channel, TouchKind
from smarketing.core.errors import ValidationFailed
from smarketing.core.validation import activity_window_problem
from smarketing.crm.enums import OpportunityStage, Outcome
from smarketing.ingest.csvfile import read_csv
from smarketing.lifecycle.enums import Stage

# Services load in the function that uses them: the CLI imports this module before Django is set up
# (smarketing.commands).

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
    campaigns_created: int = 0
    touchpoints_created: int = 0
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
        if window := activity_window_problem(first):
            bad(MQL_FILE, line, "first_contact_date", window)
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
        if window := activity_window_problem(won):
            bad(DEALS_FILE, line, "won_date", window)
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


# Olist's `origin` → the product's channel (Olist has no organic social: its "social" is counted as paid social,
# as X Education's Facebook leads are); unknown and empty origins are "other".
ORIGIN_CHANNEL: dict[str, str] = {
    "organic_search": Channel.ORGANIC_SEARCH, "paid_search": Channel.PAID_SEARCH, "social": Channel.PAID_SOCIAL,
    "email": Channel.EMAIL, "referral": Channel.REFERRAL, "direct_traffic": Channel.DIRECT,
    "display": Channel.DISPLAY}


def _landing_pages(mqls: list[OlistMql]) -> list[dict[str, Any]]:
    """One campaign per landing page: named by its id, on the channel most of its MQLs came from, starting on the
    day of its first MQL."""
    pages: dict[str, list[OlistMql]] = {}
    for m in mqls:
        if m.landing_page_id:
            pages.setdefault(m.landing_page_id, []).append(m)
    rows = []
    for page, its in pages.items():
        channels = Counter(ORIGIN_CHANNEL.get(m.origin, Channel.OTHER) for m in its)
        rows.append({"source_id": page, "name": f"Olist landing page {page[:8]}",
                     "channel": min(channels, key=lambda c: (-channels[c], c)),
                     "start_date": min(m.first_contact_at for m in its).date(),
                     "audience": "Sellers who reached this landing page of the Olist marketplace"})
    return rows


@transaction.atomic
def olist_import(*, folder: Path) -> OlistImportReport:
    """Load the Olist MQLs and closed deals as contacts, accounts, won opportunities, touchpoints and history.

    Everything goes through the owning apps' bulk services in one transaction: crm (accounts, contacts,
    opportunities), campaigns (a campaign per landing page, each MQL's first touchpoint) and lifecycle (each
    MQL's lead and MQL stage changes at first contact, customer at the won date, for the contact and its seller).
    """
    from smarketing.campaigns.services import campaigns_bulk_create, touchpoints_bulk_record
    from smarketing.crm.services import accounts_bulk_create, contacts_bulk_create, opportunities_bulk_create
    from smarketing.lifecycle.services_bulk import PastStageChange, stage_changes_bulk_record

    mqls, deals = olist_read(folder)
    report = OlistImportReport()
    deal_by_mql = {d.mql_id: d for d in deals}
    first_by_mql = {m.mql_id: m.first_contact_at for m in mqls}

    account_ids, report.accounts_created = accounts_bulk_create(source=SOURCE, rows=list({
        d.seller_id: {"source_id": d.seller_id, "name": f"Olist seller {d.seller_id[:8]}",
                      "segment": d.business_segment[:32], "industry": d.business_type[:100]}
        for d in deals}.values()))

    contact_rows = []
    for m in mqls:
        attrs = {"landing_page_id": m.landing_page_id, "origin": m.origin}
        row: dict[str, Any] = {"source_id": m.mql_id, "lead_source": m.origin, "first_seen_at": m.first_contact_at,
                               "first_name": "Olist lead", "last_name": m.mql_id[:8], "attributes": attrs}
        deal = deal_by_mql.get(m.mql_id)
        if deal is not None:
            attrs.update(sdr_id=deal.sdr_id, sr_id=deal.sr_id, lead_type=deal.lead_type,
                         lead_behaviour_profile=deal.lead_behaviour_profile, business_type=deal.business_type)
            row["account_id"] = account_ids[deal.seller_id]
        contact_rows.append(row)
    contact_ids, report.contacts_created = contacts_bulk_create(source=SOURCE, rows=contact_rows)
    report.already_present = len(mqls) - report.contacts_created

    campaign_ids, report.campaigns_created = campaigns_bulk_create(source=SOURCE, rows=_landing_pages(mqls))
    report.touchpoints_created = touchpoints_bulk_record(touchpoints=[
        {"contact_id": contact_ids[m.mql_id], "account_id": account_ids.get(deal_by_mql[m.mql_id].seller_id)
         if m.mql_id in deal_by_mql else None, "campaign_id": campaign_ids.get(m.landing_page_id),
         "channel": ORIGIN_CHANNEL.get(m.origin, Channel.OTHER), "kind": TouchKind.FORM_FILL,
         "occurred_at": m.first_contact_at, "source": SOURCE, "source_id": f"{m.mql_id}:landing"}
        for m in mqls])

    changes: list[PastStageChange] = []
    for m in mqls:
        cid = contact_ids[m.mql_id]
        details = {"source": SOURCE, "origin": m.origin}
        changes.append(PastStageChange(to_stage=Stage.LEAD, occurred_at=m.first_contact_at, contact_id=cid,
                                       reason="Olist lead: first contact", details=details,
                                       source_key=f"olist:{m.mql_id}:lead"))
        changes.append(PastStageChange(to_stage=Stage.MQL, occurred_at=m.first_contact_at, contact_id=cid,
                                       reason="Olist MQL: landing page form at first contact", details=details,
                                       source_key=f"olist:{m.mql_id}:mql"))
    won_by_seller: dict[str, datetime] = {}
    for d in deals:
        first = first_by_mql[d.mql_id]
        won_at = max(d.won_at, first)
        if d.won_at < first:
            report.notes.append(f"{DEALS_FILE}: deal {d.mql_id} was won before its first contact; its customer "
                                "stage is recorded at the first contact (the opportunity keeps the won date)")
        changes.append(PastStageChange(to_stage=Stage.CUSTOMER, occurred_at=won_at,
                                       contact_id=contact_ids[d.mql_id], reason="Olist deal won",
                                       details={"source": SOURCE, "seller_id": d.seller_id},
                                       source_key=f"olist:{d.mql_id}:customer"))
        won_by_seller[d.seller_id] = min(won_at, won_by_seller.get(d.seller_id, won_at))
    for seller, won_at in won_by_seller.items():
        changes.append(PastStageChange(to_stage=Stage.CUSTOMER, occurred_at=won_at, account_id=account_ids[seller],
                                       reason="Olist seller's first deal won", details={"source": SOURCE},
                                       source_key=f"olist:seller:{seller}:customer"))
    report.stage_changes_created = stage_changes_bulk_record(changes=changes)

    _, report.opportunities_created = opportunities_bulk_create(source=SOURCE, rows=[
        {"source_id": d.mql_id, "account_id": account_ids[d.seller_id], "primary_contact_id": contact_ids[d.mql_id],
         "name": f"Olist {d.business_segment or 'deal'} {d.mql_id[:8]}", "amount": d.declared_monthly_revenue,
         "currency": "BRL", "stage": OpportunityStage.CLOSED_WON, "outcome": Outcome.WON,
         "opened_at": min(first_by_mql[d.mql_id], d.won_at), "closed_at": d.won_at, "product": d.lead_type[:100]}
        for d in deals])
    return report


def default_folder() -> Path:
    """`../shared/datasets/olist` beside the repository."""
    return Path(__file__).resolve().parents[3] / ".." / "shared" / "datasets" / "olist"


def command(folder: Path = typer.Argument(None, help="Folder with the two Olist marketing-funnel CSVs "
                                                     "(default: ../shared/datasets/olist)")) -> None:
    """Load the Olist MQLs and closed deals as contacts, won opportunities and stage history."""
    report = olist_import(folder=folder or default_folder())
    typer.echo(f"olist: {report.contacts_created} contacts, {report.accounts_created} accounts, "
               f"{report.opportunities_created} won opportunities, {report.campaigns_created} landing-page "
               f"campaigns, {report.touchpoints_created} touchpoints, {report.stage_changes_created} stage changes "
               f"created; {report.already_present} MQLs were already imported")
    for note in report.notes:
        typer.echo(f"note: {note}")
