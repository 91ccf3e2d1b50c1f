"""Import campaign members from a Salesforce Campaign Members report (CSV), one membership per row.

Columns (Salesforce's report headers; extra columns are ignored)
- `Campaign ID`: the campaign's Salesforce id, matched against campaigns imported with the same source
  (`source` = `salesforce` by default, `source_id` = the id).
- `Lead ID` or `Contact ID` (one of the two columns is required; a row may fill either): the contact's
  Salesforce id, matched against contacts of the same source. `Email` (optional): used when the row's ids match
  no contact (case-insensitive).
- `Member Status`: sent, opened, responded, registered, attended or converted (any case; Salesforce's
  "Received" reads as sent and "Clicked" as opened). A membership only moves forward.
- `Created Date`: when the contact joined the campaign. `First Responded Date` (optional).
  Dates are ISO 8601 (`2026-03-01`, `2026-03-01T09:30:00Z`) or Salesforce's US layout (`3/1/2026`,
  `3/1/2026 9:30 AM`); a time without a UTC offset is read as UTC.
- `Campaign Member ID` (optional): the member's Salesforce id, kept as its source id.
- A Data Loader export's API names read as these (`CampaignId`, `LeadId`, `ContactId`, `Status`,
  `FirstRespondedDate`, `CreatedDate`, `Id`); a report's footer and cross-object prefixes are left out.

Every row is checked first (each problem names the line and the column, and nothing is written if there is
any), then all rows are written in one transaction. Importing the same file again changes nothing; a later
export moves statuses forward and sets first responses not known before.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from django.db import transaction

from smarketing.campaigns.enums import MemberStatus
from smarketing.core.validation import activity_window_problem
from smarketing.ingest.csvfile import Problem, problems_error
from smarketing.ingest.readers import read_table

# Models, services and selectors load in the functions that use them: the CLI imports this module before Django
# is set up (smarketing.commands).

DEFAULT_SOURCE = "salesforce"
REQUIRED = ("Campaign ID", "Member Status", "Created Date")
CONTACT_COLUMNS = ("Lead ID", "Contact ID")
STATUS_ALIASES = {"received": MemberStatus.SENT, "clicked": MemberStatus.OPENED}
# A Data Loader export of CampaignMember names its columns by API name.
DATALOADER_NAMES = {"Id": "Campaign Member ID", "CampaignId": "Campaign ID", "LeadId": "Lead ID",
                    "ContactId": "Contact ID", "Status": "Member Status", "FirstRespondedDate": "First Responded Date",
                    "CreatedDate": "Created Date"}
DATE_LAYOUTS = ("%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M", "%m/%d/%Y")


@dataclass(frozen=True)
class MemberImportResult:
    rows: int
    created: int
    updated: int
    unchanged: int

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


def parse_when(text: str) -> datetime | None:
    """A report date or time as an aware datetime (UTC when it carries no offset); None when unreadable."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        for layout in DATE_LAYOUTS:
            try:
                at = datetime.strptime(text, layout)
                break
            except ValueError:
                continue
        else:
            return None
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def parse_status(text: str) -> str | None:
    """A report's member status as ours, or None when it is not one."""
    key = text.strip().lower()
    if key in MemberStatus.values:
        return key
    alias = STATUS_ALIASES.get(key)
    return str(alias) if alias is not None else None


def read_members(path: Path, *, source: str = DEFAULT_SOURCE) -> list[dict[str, Any]]:
    """Parse and check every row; all problems are raised together, each naming its line and column."""
    from smarketing.campaigns.selectors import campaign_ids_by_source
    from smarketing.crm.selectors import contact_ids_by_email, contact_ids_by_source

    # Read as the report is exported: its footer (Grand Totals, Confidential, Copyright) left out, cross-object
    # prefixes (`Campaign: Campaign ID`) read by the name after them.
    table = read_table(path)
    header = [DATALOADER_NAMES.get(h, h.split(": ", 1)[-1]) for h in table.header]
    raw = [(line, {h: c.strip() for h, c in zip(header, cells, strict=True)}) for line, cells in table.rows]
    problems = [Problem(1, col, "this column is missing from the header") for col in REQUIRED if col not in header]
    if not any(c in header for c in CONTACT_COLUMNS):
        problems.append(Problem(1, "Contact ID", "the header needs a Lead ID or a Contact ID column"))
    if problems:
        raise problems_error(problems, path)
    if not raw:
        raise problems_error([Problem(2, "Campaign ID", "the file has no rows")], path)

    campaigns = campaign_ids_by_source(source=source, source_ids={r["Campaign ID"] for _, r in raw})
    person_ids = sorted({r.get(c, "") for _, r in raw for c in CONTACT_COLUMNS} - {""})
    contacts = contact_ids_by_source(source=source, source_ids=person_ids)
    by_email = contact_ids_by_email(emails={r["Email"] for _, r in raw if r.get("Email")})

    out: list[dict[str, Any]] = []
    seen: dict[tuple[int | None, int | None], int] = {}
    for line, r in raw:
        bad = len(problems)

        def problem(column: str, message: str, line: int = line) -> None:
            problems.append(Problem(line, column, message))

        m: dict[str, Any] = {"source": source}
        campaign_id = campaigns.get(r["Campaign ID"])
        if campaign_id is None:
            problem("Campaign ID", f"no {source} campaign has id {r['Campaign ID']!r}" if r["Campaign ID"]
                    else "is empty: name the campaign")
        m["campaign_id"] = campaign_id
        ids = [(c, r[c]) for c in CONTACT_COLUMNS if r.get(c)]
        contact_id = next((contacts[v] for _, v in ids if v in contacts), None)
        if contact_id is None and r.get("Email"):
            found = by_email.get(r["Email"].lower())
            contact_id = found[0] if found else None
        if contact_id is None:
            column, value = ids[0] if ids else ("Contact ID" if "Contact ID" in table.header else "Lead ID", "")
            problem(column, f"no {source} contact has id {value!r}" + (f" or the email {r['Email']!r}"
                                                                         if r.get("Email") else "")
                    if value or r.get("Email") else "is empty: name the lead or contact")
        m["contact_id"] = contact_id
        status = parse_status(r["Member Status"])
        if status is None:
            problem("Member Status", f"{r['Member Status']!r} is not a member status; use one of "
                                     f"{', '.join(MemberStatus.values)}")
        m["status"] = status
        for column, key, required in (("Created Date", "created_at", True),
                                      ("First Responded Date", "first_responded_at", False)):
            text = r.get(column, "")
            if not text:
                if required:
                    problem(column, "is empty: give the date the contact joined")
                continue
            at = parse_when(text)
            if at is None:
                problem(column, f"{text!r} is not a date (2026-03-01, 2026-03-01T09:30:00Z or 3/1/2026 9:30 AM)")
            elif window := activity_window_problem(at):
                problem(column, window)
            else:
                m[key] = at
        if len(r.get("Campaign Member ID", "")) > 128:
            problem("Campaign Member ID", "is longer than 128 characters")
        if len(problems) > bad:
            continue
        key_pair = (campaign_id, contact_id)
        if key_pair in seen:
            problem("Campaign ID", f"the same campaign and contact as line {seen[key_pair]}")
            continue
        seen[key_pair] = line
        m["source_id"] = r.get("Campaign Member ID") or f"{r['Campaign ID']}:{contact_id}"
        out.append(m)
    if problems:
        raise problems_error(problems, path)
    return out


def members_import(*, path: Path, source: str = DEFAULT_SOURCE) -> MemberImportResult:
    """Import a Campaign Members report, all or nothing; re-importing the same file changes nothing."""
    from smarketing.campaigns.services import campaign_members_upsert_many

    rows = read_members(path, source=source)
    with transaction.atomic():
        created, updated = campaign_members_upsert_many(members=rows)
    return MemberImportResult(rows=len(rows), created=created, updated=updated,
                              unchanged=len(rows) - created - updated)


def command(
    path: Path = typer.Argument(..., help="Salesforce Campaign Members report (CSV): Campaign ID, Lead ID or "
                                          "Contact ID, Member Status, First Responded Date, Created Date"),
    source: str = typer.Option(DEFAULT_SOURCE, help="The system the ids come from (campaigns and contacts)"),
    json_out: bool = typer.Option(False, "--json", help="Print the result as JSON"),
) -> None:
    """Import campaign members from a Salesforce Campaign Members report (idempotent; all or nothing)."""
    result = members_import(path=path, source=source)
    if json_out:
        typer.echo(json.dumps(result.as_dict()))
    else:
        typer.echo(f"imported {result.rows} rows from {path}: {result.created} members added, "
                   f"{result.updated} moved forward, {result.unchanged} unchanged")
