"""Fixture writers: CSV files exactly as each vendor writes them, from a list of row dicts, for the import tests.

Each writer takes rows as {column label: value}; a value may be a str (written as given), a datetime or date
(formatted the vendor's way), a bool, a number or None (an empty cell). Columns a row does not give are empty, and a
label the layout does not have is appended to the header (exports carry whatever properties were selected). The
vendor quirks are reproduced on purpose: HubSpot's 311-column contacts and 146-column deals headers (copied from the
shared data set's real header files, `Billing Contact` twice, quotes inside `Date entered "…"` names), every cell
quoted, a BOM or UTF-16 tab-separated; Salesforce's report labels, cross-object prefixes, locale dates and footer;
Data Loader's API names and ISO dates; Pipedrive's `Deal - …` / `Person - …` / `Organization - …` columns.

A repeated header is addressed the way `readers.read_table` names it: `Billing Contact (2)` fills the second one.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

Row = Mapping[str, Any]


def shared_header_path(kind: Literal["contacts", "deals"]) -> Path:
    """A real HubSpot export header, kept in the shared data sets beside the repository."""
    return (Path(__file__).resolve().parents[4] / ".." / "shared" / "datasets" / "crm_exports"
            / f"hubspot-{kind}-export.header.csv")


# --- HubSpot ----------------------------------------------------------------------------------------------------

HUBSPOT_CONTACTS = [
    "Record ID", "First Name", "Last Name", "Email", "Contact owner", "Create Date", "Lifecycle Stage",
    "Lead Status", "Original Traffic Source", "Original Traffic Source Drill-Down 1",
    "Original Traffic Source Drill-Down 2", "Job Title", "Buying Role", "Country/Region", "Industry",
    "Associated Company (Primary)", "Associated Company IDs (Primary)", "Associated Deal IDs",
    *[f'Date {edge} "{stage} (Lifecycle Stage Pipeline)"'
      for stage in ("Subscriber", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity",
                    "Customer", "Evangelist", "Other")
      for edge in ("entered", "exited")],
]
HUBSPOT_CONTACTS_OLD = [
    "Contact ID", "First Name", "Last Name", "Email", "Contact owner", "Create Date", "Lifecycle Stage",
    "Lead Status", "Original Source", "Original Source Drill-Down 1", "Original Source Drill-Down 2", "Job Title",
    "Country/Region", "Industry", "Associated Company ID", "Became a Subscriber Date", "Became a Lead Date",
    "Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date", "Became an Opportunity Date",
    "Became a Customer Date", "Became an Evangelist Date", "Became an Other Lifecycle Stage Date",
]
HUBSPOT_COMPANIES = [
    "Record ID", "Company name", "Company Domain Name", "Industry", "Number of Employees", "Annual Revenue",
    "Company owner", "Country/Region", "Lifecycle Stage", "Create Date",
]
HUBSPOT_DEALS = [
    "Record ID", "Deal Name", "Amount", "Amount in company currency", "Create Date", "Close Date", "Deal Stage",
    "Pipeline", "Deal owner", "Deal Type", "Is Closed Won", "Is closed lost", "Closed Lost Reason",
    "Closed Won Reason", "Original Traffic Source", "Associated Company (Primary)",
    "Associated Company IDs (Primary)", "Associated Contact IDs", "Associated Contact",
]
_HUBSPOT_LAYOUTS = {"contacts": HUBSPOT_CONTACTS, "companies": HUBSPOT_COMPANIES, "deals": HUBSPOT_DEALS}


def write_hubspot(path: Path, kind: Literal["contacts", "companies", "deals"], rows: Iterable[Row], *,
                  header_from_shared: bool = True, encoding: str = "utf-8-sig", columns: list[str] | None = None,
                  tz: ZoneInfo | None = None) -> Path:
    """A HubSpot export: every cell quoted; UTF-8 (BOM by default) comma-separated, or UTF-16 tab-separated.

    The header is `columns` when given; else for contacts and deals the shared real header (311 / 146 columns)
    when `header_from_shared`, else the issue's named columns; companies always use the named columns. Datetimes
    are written `2026-02-07 11:17` in `tz` (HubSpot's portal time zone; naive ones as they are)."""
    if columns is not None:
        header = list(columns)
    elif header_from_shared and kind in ("contacts", "deals"):
        with shared_header_path(kind).open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh))
    else:
        header = list(_HUBSPOT_LAYOUTS[kind])

    def value(v: Any) -> str:
        if isinstance(v, datetime):
            local = v.astimezone(tz) if tz is not None and v.tzinfo is not None else v
            return local.strftime("%Y-%m-%d %H:%M")
        if isinstance(v, bool):
            return "true" if v else "false"
        return _plain(v)

    utf16 = encoding.lower().replace("_", "-").startswith("utf-16")
    return _write(path, header, list(rows), value, delimiter="\t" if utf16 else ",", quote_all=True,
                  encoding=encoding, extend=columns is None)


# --- Salesforce -------------------------------------------------------------------------------------------------

SALESFORCE_REPORTS: dict[str, list[str]] = {
    "leads": ["Lead ID", "Lead Owner", "First Name", "Last Name", "Title", "Company / Account", "Email",
              "Lead Source", "Lead Status", "Rating", "Create Date", "Converted", "Converted Date"],
    "accounts": ["Account ID", "Account Name", "Account Owner", "Type", "Industry", "Employees",
                 "Annual Revenue", "Website", "Billing Country", "Created Date"],
    "contacts": ["Contact ID", "Account ID", "First Name", "Last Name", "Title", "Email", "Account Name",
                 "Contact Owner", "Lead Source", "Mailing Country", "Created Date"],
    "opportunities": ["Opportunity ID", "Opportunity Name", "Account ID", "Account Name", "Opportunity Owner",
                      "Stage", "Amount", "Probability (%)", "Close Date", "Created Date", "Lead Source", "Type",
                      "Won", "Closed"],
    "opportunity_stage_history": ["Opportunity ID", "Opportunity Name", "From Stage", "To Stage", "Amount",
                                  "Probability (%)", "Close Date", "Last Modified", "Last Modified By"],
    "campaigns": ["Campaign ID", "Campaign Name", "Type", "Start Date", "End Date", "Budgeted Cost in Campaign",
                  "Actual Cost in Campaign"],
    "campaign_members": ["Campaign ID", "Lead ID", "Contact ID", "Member Status", "First Responded Date",
                         "Created Date"],
}
SALESFORCE_DATALOADER: dict[str, list[str]] = {
    "leads": ["Id", "OwnerId", "FirstName", "LastName", "Title", "Company", "Email", "LeadSource", "Status",
              "Rating", "CreatedDate", "IsConverted", "ConvertedDate", "ConvertedOpportunityId",
              "ConvertedAccountId", "ConvertedContactId"],
    "accounts": ["Id", "Name", "OwnerId", "Type", "Industry", "NumberOfEmployees", "AnnualRevenue", "Website",
                 "BillingCountry", "CreatedDate"],
    "contacts": ["Id", "AccountId", "FirstName", "LastName", "Title", "Email", "OwnerId", "LeadSource",
                 "MailingCountry", "CreatedDate"],
    "opportunities": ["Id", "Name", "AccountId", "OwnerId", "StageName", "Amount", "Probability", "CloseDate",
                      "CreatedDate", "LeadSource", "Type", "IsWon", "IsClosed"],
    "opportunity_stage_history": ["Id", "OpportunityId", "StageName", "Amount", "Probability", "CloseDate",
                                  "CreatedDate", "CreatedById"],
    "campaigns": ["Id", "Name", "Type", "Status", "StartDate", "EndDate", "BudgetedCost", "ActualCost",
                  "CreatedDate"],
    "campaign_members": ["Id", "CampaignId", "LeadId", "ContactId", "Status", "HasResponded",
                         "FirstRespondedDate", "CreatedDate"],
}
def salesforce_kind(kind: str) -> str:
    """`Opportunity Stage History`, `opportunity-stage-history` and `opportunity_stage_history` name one layout."""
    key = kind.strip().lower().replace(" ", "_").replace("-", "_")
    if key not in SALESFORCE_REPORTS:
        raise ValueError(f"unknown Salesforce kind {kind!r}: one of {', '.join(SALESFORCE_REPORTS)}")
    return key


COPYRIGHT = "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."


def salesforce_date(v: date | datetime, date_format: str) -> str:
    """A date or time as a Salesforce report writes it for the exporting user's locale."""
    if date_format == "ymd":
        return v.strftime("%Y-%m-%d %H:%M") if isinstance(v, datetime) else v.isoformat()
    if date_format == "mdy":
        day = f"{v.month}/{v.day}/{v.year}"
        if isinstance(v, datetime):
            return f"{day} {(v.hour % 12) or 12}:{v.minute:02d} {'PM' if v.hour >= 12 else 'AM'}"
        return day
    if date_format == "dmy":
        day = f"{v.day:02d}/{v.month:02d}/{v.year}"
        return f"{day} {v.hour:02d}:{v.minute:02d}" if isinstance(v, datetime) else day
    raise ValueError(f"unknown date format {date_format!r}")


def write_salesforce_report(path: Path, kind: str, rows: Iterable[Row], *, footer: bool = True,
                            prefix: str | Mapping[str, str] | None = None, date_format: str = "mdy",
                            copyright_broken: bool = False, encoding: str = "utf-8",
                            columns: list[str] | None = None, tz: ZoneInfo | None = None) -> Path:
    """A Salesforce report exported as CSV ("Details Only"): field labels, every cell quoted, locale dates and the
    footer (a blank line, `Grand Totals (N records)`, the confidentiality line and the copyright, broken over two
    lines inside its quotes when `copyright_broken`). `prefix` names the object of cross-object columns: a str
    prefixes every label (`Contact: Contact ID`), a mapping prefixes the labels it names; rows use bare labels."""
    header = list(columns if columns is not None else SALESFORCE_REPORTS[salesforce_kind(kind)])
    rows = list(rows)

    def value(v: Any) -> str:
        if isinstance(v, datetime):
            return salesforce_date(v.astimezone(tz) if tz is not None and v.tzinfo else v, date_format)
        if isinstance(v, date):
            return salesforce_date(v, date_format)
        if isinstance(v, bool):
            return "1" if v else "0"
        return _plain(v)

    def labelled(label: str) -> str:
        if prefix is None:
            return label
        if isinstance(prefix, str):
            return f"{prefix}: {label}"
        return f"{prefix[label]}: {label}" if label in prefix else label

    tail: list[str] = []
    if footer:
        copyright_line = COPYRIGHT.replace(", inc.", "\n, inc.") if copyright_broken else COPYRIGHT
        tail = ["", f"Grand Totals ({len(rows)} records)", "Confidential Information - Do Not Distribute",
                copyright_line]
    return _write(path, header, rows, value, delimiter=",", quote_all=True, encoding=encoding,
                  extend=columns is None, label=labelled, footer=tail)


def write_salesforce_dataloader(path: Path, kind: str, rows: Iterable[Row], *,
                                columns: list[str] | None = None) -> Path:
    """A Data Loader export: API names, every cell quoted, UTF-8 without BOM, `2026-02-07T11:17:00.000Z` times in
    UTC, `2026-02-07` dates and `true`/`false`."""
    header = list(columns if columns is not None else SALESFORCE_DATALOADER[salesforce_kind(kind)])

    def value(v: Any) -> str:
        if isinstance(v, datetime):
            utc = v.astimezone(UTC) if v.tzinfo else v
            return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"
        if isinstance(v, date):
            return v.isoformat()
        if isinstance(v, bool):
            return "true" if v else "false"
        return _plain(v)

    return _write(path, header, list(rows), value, delimiter=",", quote_all=True, encoding="utf-8",
                  extend=columns is None)


# --- Pipedrive --------------------------------------------------------------------------------------------------

PIPEDRIVE_DEALS = [
    "Deal - ID", "Deal - Title", "Deal - Value", "Deal - Currency", "Deal - Pipeline", "Deal - Stage",
    "Deal - Status", "Deal - Owner", "Deal - Deal created", "Deal - Expected close date", "Deal - Won time",
    "Deal - Lost time", "Deal - Lost reason", "Deal - Organization", "Deal - Contact person",
    "Person - ID", "Person - Name", "Person - Email", "Person - Phone", "Person - Organization",
    "Organization - ID", "Organization - Name", "Organization - Address", "Organization - Owner",
]


def write_pipedrive(path: Path, rows: Iterable[Row], *, columns: list[str] | None = None) -> Path:
    """A Pipedrive deals export: `Deal - …`, `Person - …`, `Organization - …` columns, comma-separated UTF-8 quoted
    only where needed, times `2026-02-07 11:17:05`, dates `2026-02-07`."""
    header = list(columns if columns is not None else PIPEDRIVE_DEALS)

    def value(v: Any) -> str:
        if isinstance(v, datetime):
            return v.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(v, date):
            return v.isoformat()
        return _plain(v)

    return _write(path, header, list(rows), value, delimiter=",", quote_all=False, encoding="utf-8",
                  extend=columns is None)


# --- shared -----------------------------------------------------------------------------------------------------

def _plain(v: Any) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def _keys(header: list[str]) -> list[str]:
    """The names rows use for the header's columns: a repeated name gets " (2)", " (3)" as the reader gives it."""
    seen: dict[str, int] = {}
    keys = []
    for name in header:
        seen[name] = seen.get(name, 0) + 1
        keys.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return keys


def _write(path: Path, header: list[str], rows: list[Row], value: Any, *, delimiter: str, quote_all: bool,
           encoding: str, extend: bool, label: Any = None, footer: list[str] | None = None) -> Path:
    keys = _keys(header)
    index = {k: i for i, k in enumerate(keys)}
    for row in rows:
        for key in row:
            if key not in index:
                if not extend:
                    raise ValueError(f"column {key!r} is not in the given columns")
                index[key] = len(keys)
                keys.append(key)
                header.append(key)
    written = [label(h) for h in header] if label else header
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL,
                        lineterminator="\r\n")
    writer.writerow(written)
    for row in rows:
        cells = [""] * len(keys)
        for key, v in row.items():
            cells[index[key]] = value(v)
        writer.writerow(cells)
    if footer:
        for line in footer:
            if line:
                writer.writerow([line])
            else:
                out.write("\r\n")
    path.write_bytes(_encode(out.getvalue(), encoding))
    return path


def _encode(text: str, encoding: str) -> bytes:
    name = encoding.lower().replace("_", "-")
    if name == "utf-16":
        return text.encode("utf-16")  # a BOM, then the machine's order (little-endian here), as Windows writes it
    if name == "utf-16-le":
        return b"\xff\xfe" + text.encode("utf-16-le")
    if name == "utf-16-be":
        return b"\xfe\xff" + text.encode("utf-16-be")
    return text.encode(encoding)
