"""HubSpot exports as the portal writes them, for the import tests: the shared data set's exact header lines
(contacts: 311 columns with `Billing Contact` twice and quotes inside headers; deals: 146 columns), every cell
quoted, CRLF lines, dates without seconds; companies with the headers the issue names."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from pathlib import Path

# ../shared/datasets beside the repository, like ingest.xeducation.default_path
EXPORTS = Path(__file__).resolve().parents[4].parent / "shared" / "datasets" / "crm_exports"
ENTERED = 'Date entered "{} (Lifecycle Stage Pipeline)"'
COMPANY_HEADER = ["Record ID", "Company name", "Company Domain Name", "Industry", "Number of Employees",
                  "Annual Revenue", "Company owner", "Country/Region", "Lifecycle Stage", "Create Date"]


def header_line(kind: str) -> str:
    return (EXPORTS / f"hubspot-{kind}-export.header.csv").read_text(encoding="utf-8-sig").splitlines()[0]


def _export(header_text: str, rows: Sequence[Mapping[str, str]], *, bom: bool = False) -> bytes:
    header = next(csv.reader([header_text]))
    unknown = {k for row in rows for k in row} - set(header)
    assert not unknown, f"not in the export's header: {unknown}"
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    for row in rows:
        # a repeated header (Billing Contact) is filled at its first place only
        writer.writerow([row.get(name, "") if header.index(name) == i else "" for i, name in enumerate(header)])
    return ("\ufeff" if bom else "").encode() + (header_text + "\r\n" + out.getvalue()).encode("utf-8")


def write_contacts(path: Path, rows: Sequence[Mapping[str, str]], *, bom: bool = True) -> Path:
    path.write_bytes(_export(header_line("contacts"), rows, bom=bom))
    return path


def write_contacts_utf16_tabs(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    """The same export saved as UTF-16 (with its byte order mark) and tab-separated, quoted only where needed."""
    header = next(csv.reader([header_line("contacts")]))
    out = io.StringIO()
    writer = csv.writer(out, delimiter="\t", lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") if header.index(name) == i else "" for i, name in enumerate(header)])
    path.write_bytes(out.getvalue().encode("utf-16"))
    return path


def write_deals(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    path.write_bytes(_export(header_line("deals"), rows))
    return path


def write_companies(path: Path, rows: Sequence[Mapping[str, str]]) -> Path:
    text = ",".join(f'"{h}"' for h in COMPANY_HEADER)
    path.write_bytes(_export(text, rows))
    return path


# The lifecycle labels HubSpot exports, in funnel order, and where each contact of the fixture stops.
LADDER = ["Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"]
SOURCES = ["Organic Search", "Paid Search", "Referrals", "Email Marketing", "Direct Traffic"]
OWNERS = ["Sam Seller", "Rita Rep", ""]


def contact_rows(n: int, *, first_id: int = 1000) -> list[dict[str, str]]:
    """n contacts; contact i climbs the ladder to step i % 5 (a day per step) and comes from SOURCES[i % 5 or 3]."""
    rows = []
    for i in range(n):
        top = (i * 7) % 5
        day = 1 + i % 20
        row = {"Record ID": str(first_id + i), "First Name": f"Ann{i}", "Last Name": "Lee",
               "Email": f"Ann{i}@Example{i % 4}.com", "Contact owner": OWNERS[i % 3],
               "Create Date": f"2026-03-{day:02d} 09:{i % 60:02d}", "Lifecycle Stage": LADDER[top],
               "Lead Status": "Open" if top < 3 else "Open Deal", "Original Traffic Source": SOURCES[(i // 2) % 5],
               "Original Traffic Source Drill-Down 1": "spring-launch", "Job Title": "VP Sales",
               "Country/Region": "France", "Associated Company IDs (Primary)": str(500 + i % 3),
               "Associated Company (Primary)": f"Company {i % 3}",
               "Lead response time (HH:mm:ss)": "142:46:08", "Buying Role": "Decision Maker;Champion"}
        for step in range(top + 1):
            row[ENTERED.format(LADDER[step])] = f"2026-03-{day + step * 2:02d} 10:{i % 60:02d}"
        rows.append(row)
    return rows


def company_rows() -> list[dict[str, str]]:
    return [{"Record ID": str(500 + k), "Company name": f"Company {k}", "Company Domain Name": f"example{k}.com",
             "Industry": "Software", "Number of Employees": f"{(k + 1) * 150}.0", "Annual Revenue": "1000000.0",
             "Company owner": "Sam Seller", "Country/Region": "France", "Lifecycle Stage": "Lead",
             "Create Date": "2026-01-05 08:00"} for k in range(3)]


def deal_rows() -> list[dict[str, str]]:
    return [
        {"Record ID": "9001", "Deal Name": "Company 0 platform", "Amount": "12000.0",
         "Amount in company currency": "12000.0", "Create Date": "2026-04-01 10:00", "Close Date": "2026-05-02 16:30",
         "Deal Stage": "Closed Won", "Pipeline": "Sales Pipeline", "Deal owner": "Sam Seller",
         "Deal Type": "New Business", "Is Closed Won": "true", "Is closed lost": "false",
         "Associated Company IDs (Primary)": "500", "Associated Contact IDs": "1000;1003"},
        {"Record ID": "9002", "Deal Name": "Company 1 pilot", "Amount": "5000", "Create Date": "2026-04-03 10:00",
         "Close Date": "2026-04-20 12:00", "Deal Stage": "Closed Lost", "Pipeline": "Sales Pipeline",
         "Deal owner": "Rita Rep", "Is Closed Won": "false", "Is closed lost": "true",
         "Closed Lost Reason": "Went with a competitor", "Associated Company IDs (Primary)": "501",
         "Associated Contact IDs": "1001"},
        {"Record ID": "9003", "Deal Name": "Company 2 expansion", "Amount": "", "Create Date": "2026-04-05 10:00",
         "Deal Stage": "Qualified To Buy", "Pipeline": "Sales Pipeline", "Deal owner": "Nora New",
         "Deal Type": "Existing Business", "Is Closed Won": "false", "Is closed lost": "false",
         "Associated Company IDs (Primary)": "502"},
    ]
