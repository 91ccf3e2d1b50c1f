"""The fixture writers write each vendor's layout as the vendor does, and read_table reads it back whole."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from smarketing.ingest.readers import read_table
from smarketing.ingest.tests.layouts import (
    HUBSPOT_COMPANIES,
    HUBSPOT_CONTACTS,
    HUBSPOT_CONTACTS_OLD,
    PIPEDRIVE_DEALS,
    SALESFORCE_DATALOADER,
    SALESFORCE_REPORTS,
    shared_header_path,
    write_hubspot,
    write_pipedrive,
    write_salesforce_dataloader,
    write_salesforce_report,
)
from smarketing.ingest.values import detect_date_format, parse_datetime

MQL_ENTERED = 'Date entered "Marketing Qualified Lead (Lifecycle Stage Pipeline)"'


def shared_columns(kind: str) -> list[str]:
    with shared_header_path(kind).open(encoding="utf-8-sig", newline="") as fh:  # type: ignore[arg-type]
        return next(csv.reader(fh))


def contact(i: int) -> dict[str, object]:
    return {"Record ID": 1000 + i, "First Name": f"Ann{i}", "Last Name": "Lee", "Email": f"ann{i}@x.com",
            "Lifecycle Stage": "Marketing Qualified Lead", "Create Date": datetime(2026, 2, 7, 11, 17),
            MQL_ENTERED: datetime(2026, 2, 9, 8, 5), "Billing Contact": "", "Billing Contact (2)": f"B{i}",
            "Associated Deal IDs": "501;502"}


def test_the_shared_headers_are_the_real_wide_exports():
    contacts, deals = shared_columns("contacts"), shared_columns("deals")

    assert len(contacts) == 311
    assert len(deals) == 146
    assert contacts.count("Billing Contact") == 2
    assert set(HUBSPOT_CONTACTS) - set(contacts) == set()  # the issue's named columns are all in the real export


@pytest.mark.parametrize(("encoding", "read_as", "delimiter"), [
    ("utf-8-sig", "utf-8-sig", ","),
    ("utf-8", "utf-8", ","),
    ("utf-16", "utf-16-le", "\t"),
    ("utf-16-be", "utf-16-be", "\t"),
])
def test_hubspot_contacts_export_reads_back_with_every_real_column(tmp_path, encoding, read_as, delimiter):
    path = write_hubspot(tmp_path / "hubspot-crm-exports-all-contacts.csv", "contacts",
                         [contact(i) for i in range(3)], encoding=encoding)

    table = read_table(path)

    assert table.encoding == read_as
    assert table.delimiter == delimiter
    assert len(table.header) == 311
    assert table.header.count("Billing Contact") == 1 and "Billing Contact (2)" in table.header
    assert [line for line, _ in table.rows] == [2, 3, 4]
    cells = table.rows[2][1]
    assert cells[table.column("Email") or 0] == "ann2@x.com"
    assert cells[table.column(MQL_ENTERED) or 0] == "2026-02-09 08:05"
    assert cells[table.column("Billing Contact (2)") or 0] == "B2"
    assert cells[table.column("Create Date") or 0] == "2026-02-07 11:17"
    given = sum(1 for v in contact(2).values() if v != "")
    assert sum(1 for c in cells if c) == given  # every other of the 311 cells is empty


def test_hubspot_quotes_every_cell(tmp_path):
    path = write_hubspot(tmp_path / "c.csv", "contacts", [contact(1)], header_from_shared=False)

    lines = path.read_bytes().decode("utf-8-sig").split("\r\n")

    assert lines[0].startswith('"Record ID","First Name"')
    assert '"Date entered ""Marketing Qualified Lead (Lifecycle Stage Pipeline)"""' in lines[0]
    assert lines[1].startswith('"1001","Ann1","Lee"')
    assert ',"",' in lines[1]


def test_hubspot_datetimes_are_written_in_the_portal_time_zone(tmp_path):
    paris = ZoneInfo("Europe/Paris")
    row = {"Record ID": 1, "Create Date": datetime(2026, 2, 7, 10, 17, tzinfo=UTC)}
    path = write_hubspot(tmp_path / "c.csv", "contacts", [row], tz=paris)

    table = read_table(path)
    written = table.rows[0][1][table.column("Create Date") or 0]

    assert written == "2026-02-07 11:17"
    assert parse_datetime(written, tz=paris) == datetime(2026, 2, 7, 10, 17, tzinfo=UTC)


def test_hubspot_deals_export_adds_the_stage_date_columns_it_was_given(tmp_path):
    stage_col = 'Date entered "Contract Sent (Sales Pipeline)"'
    rows = [{"Record ID": 501, "Deal Name": "Acme renewal", "Amount": Decimal("1234.50"), "Is Closed Won": True,
             "Associated Contact": "Ann Lee (ann@x.com);Bob Stone (bob@y.org)", stage_col: datetime(2026, 3, 1, 9, 0)}]
    path = write_hubspot(tmp_path / "deals.csv", "deals", rows)

    table = read_table(path)

    assert len(table.header) == 147
    assert table.header[-1] == stage_col
    cells = table.rows[0][1]
    assert cells[table.column("Amount") or 0] == "1234.50"
    assert cells[table.column("Is Closed Won") or 0] == "true"
    assert cells[table.column("Associated Contact") or 0] == "Ann Lee (ann@x.com);Bob Stone (bob@y.org)"
    assert cells[-1] == "2026-03-01 09:00"


def test_hubspot_companies_and_the_older_contacts_layout(tmp_path):
    companies = write_hubspot(tmp_path / "companies.csv", "companies",
                              [{"Record ID": 9, "Company name": "Acme", "Company Domain Name": "acme.com"}])
    older = write_hubspot(tmp_path / "old.csv", "contacts",
                          [{"Contact ID": 5, "Became a Lead Date": date(2025, 1, 2)}], columns=HUBSPOT_CONTACTS_OLD)

    assert read_table(companies).header == HUBSPOT_COMPANIES
    old = read_table(older)
    assert old.header == HUBSPOT_CONTACTS_OLD
    assert old.rows[0][1][old.column("Became a Lead Date") or 0] == "2025-01-02"


def test_a_given_column_list_refuses_an_unknown_label(tmp_path):
    with pytest.raises(ValueError, match="'Nope'"):
        write_hubspot(tmp_path / "unused.csv", "contacts", [{"Nope": 1}], columns=["Record ID"])


@pytest.mark.parametrize("kind", sorted(SALESFORCE_REPORTS))
@pytest.mark.parametrize("copyright_broken", [False, True])
def test_salesforce_reports_read_back_without_their_footer(tmp_path, kind, copyright_broken):
    labels = SALESFORCE_REPORTS[kind]
    rows = [{labels[0]: f"id{i}", labels[1]: f"value {i}"} for i in range(4)]
    path = write_salesforce_report(tmp_path / f"{kind}.csv", kind, rows, copyright_broken=copyright_broken)

    table = read_table(path)

    assert table.header == labels
    assert [(line, cells[0]) for line, cells in table.rows] == [(2, "id0"), (3, "id1"), (4, "id2"), (5, "id3")]
    assert table.footer[0] == "Grand Totals (4 records)"
    assert table.footer[1] == "Confidential Information - Do Not Distribute"
    assert "".join(table.footer[2:]) == "Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved."
    assert len(table.footer) == (4 if copyright_broken else 3)


def test_salesforce_kinds_are_named_as_the_issue_writes_them(tmp_path):
    path = write_salesforce_report(tmp_path / "h.csv", "Opportunity Stage History", [{"To Stage": "Won"}])

    assert read_table(path).header == SALESFORCE_REPORTS["opportunity_stage_history"]
    with pytest.raises(ValueError, match="unknown Salesforce kind 'Tasks'"):
        write_salesforce_dataloader(tmp_path / "t.csv", "Tasks", [])


def test_salesforce_report_without_footer_and_with_a_prefix(tmp_path):
    rows = [{"Campaign ID": "701A", "Contact ID": "003B", "Member Status": "Responded",
             "Created Date": date(2026, 8, 12)}]
    path = write_salesforce_report(tmp_path / "members.csv", "campaign_members", rows, footer=False,
                                   prefix={"Contact ID": "Contact", "Campaign ID": "Campaign"})

    table = read_table(path)

    assert table.header[:3] == ["Campaign: Campaign ID", "Lead ID", "Contact: Contact ID"]
    assert table.footer == []
    assert table.rows[0][1][table.column("Contact ID") or 0] == "003B"
    assert table.rows[0][1][table.column("Created Date") or 0] == "8/12/2026"


@pytest.mark.parametrize(("date_format", "written"), [
    ("mdy", ["8/12/2026 3:04 PM", "8/13/2026 9:00 AM"]),
    ("dmy", ["12/08/2026 15:04", "13/08/2026 09:00"]),
])
def test_salesforce_locale_dates_are_detected_and_read_back(tmp_path, date_format, written):
    times = [datetime(2026, 8, 12, 15, 4), datetime(2026, 8, 13, 9, 0)]
    rows = [{"Lead ID": f"00Q{i}", "Create Date": t} for i, t in enumerate(times)]
    path = write_salesforce_report(tmp_path / "leads.csv", "leads", rows, date_format=date_format)

    table = read_table(path)
    column = table.column("Create Date") or 0
    cells = [r[column] for _, r in table.rows]

    assert cells == written
    assert detect_date_format(cells) == date_format
    assert [parse_datetime(c, tz=UTC, date_format=date_format) for c in cells] == [
        t.replace(tzinfo=UTC) for t in times]


@pytest.mark.parametrize("kind", sorted(SALESFORCE_DATALOADER))
def test_dataloader_exports_use_api_names_and_iso_times(tmp_path, kind):
    names = SALESFORCE_DATALOADER[kind]
    rows = [{"Id": "a01", names[1]: "x", "CreatedDate": datetime(2026, 2, 7, 11, 17, tzinfo=UTC)}]
    path = write_salesforce_dataloader(tmp_path / f"extract-{kind}.csv", kind, rows)

    table = read_table(path)

    assert path.read_bytes().startswith(b'"Id",')
    assert table.header == names
    assert table.encoding == "utf-8"
    assert table.rows[0][1][table.column("CreatedDate") or 0] == "2026-02-07T11:17:00.000Z"


def test_pipedrive_deals_export(tmp_path):
    rows = [{"Deal - ID": 7, "Deal - Title": "Acme, Inc. deal", "Deal - Value": 1500, "Deal - Status": "Won",
             "Deal - Won time": datetime(2026, 2, 7, 11, 17, 5), "Person - Email": "ann@x.com",
             "Organization - Name": "Acme, Inc."},
            {"Deal - ID": 8, "Deal - Status": "Open", "Deal - Expected close date": date(2026, 3, 1)}]
    path = write_pipedrive(tmp_path / "deals-export.csv", rows)

    table = read_table(path)

    assert table.header == PIPEDRIVE_DEALS
    assert path.read_bytes().startswith(b"Deal - ID,Deal - Title,")  # quoted only where needed
    first = table.rows[0][1]
    assert first[table.column("Deal - Title") or 0] == "Acme, Inc. deal"
    assert first[table.column("Deal - Won time") or 0] == "2026-02-07 11:17:05"
    assert table.rows[1][1][table.column("Deal - Expected close date") or 0] == "2026-03-01"
    assert [line for line, _ in table.rows] == [2, 3]


def test_a_wide_hubspot_export_reads_every_row_and_cell(tmp_path):
    rows = [contact(i) for i in range(2000)]
    path = write_hubspot(tmp_path / "wide.csv", "contacts", rows, encoding="utf-16")

    table = read_table(path)

    assert len(table.rows) == 2000
    assert {len(cells) for _, cells in table.rows} == {311}
    assert table.rows[-1][0] == 2001
    assert table.rows[-1][1][table.column("Email") or 0] == "ann1999@x.com"
