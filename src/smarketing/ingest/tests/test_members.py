"""The Salesforce Campaign Members import: contacts by source id or email, all-or-nothing with errors naming line and
column, statuses only forward, and a re-import that changes nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smarketing.campaigns.models import CampaignMember
from smarketing.cli import build_app
from smarketing.core.errors import ValidationFailed
from smarketing.ingest.members import members_import, parse_when
from smarketing.testing.csvfiles import csv_write
from smarketing.testing.factories import CampaignFactory, ContactFactory

HEADER = ["Campaign ID", "Lead ID", "Contact ID", "Email", "Member Status", "First Responded Date", "Created Date"]


def write(path: Path, rows: list[dict[str, object]], header: list[str] = HEADER) -> Path:
    return csv_write(path, rows, header)


@pytest.fixture
def crm(db):
    return {"webinar": CampaignFactory(source="salesforce", source_id="7015g000000AAA"),
            "lead": ContactFactory(source="salesforce", source_id="00Q5g000001LLL"),
            "contact": ContactFactory(source="salesforce", source_id="0035g000002CCC"),
            "by_email": ContactFactory(email="Jo@Customer.test")}


def report(crm) -> list[dict[str, object]]:
    return [
        {"Campaign ID": "7015g000000AAA", "Lead ID": "00Q5g000001LLL", "Member Status": "Sent",
         "Created Date": "3/1/2026"},
        {"Campaign ID": "7015g000000AAA", "Contact ID": "0035g000002CCC", "Member Status": "Responded",
         "First Responded Date": "3/4/2026 9:30 AM", "Created Date": "2026-03-01T08:00:00Z"},
        {"Campaign ID": "7015g000000AAA", "Lead ID": "00Q-unknown", "Email": "jo@customer.test",
         "Member Status": "attended", "Created Date": "2026-03-02"},
    ]


def test_import_matches_contacts_by_source_id_or_email_and_reimport_changes_nothing(crm, tmp_path):
    path = write(tmp_path / "members.csv", report(crm))

    first = members_import(path=path)
    stored = {m.contact_id: m for m in CampaignMember.objects.all()}
    again = members_import(path=path)

    assert (first.created, first.updated, again.created, again.updated, again.unchanged) == (3, 0, 0, 0, 3)
    assert {pk: m.status for pk, m in stored.items()} == {
        crm["lead"].pk: "sent", crm["contact"].pk: "responded", crm["by_email"].pk: "attended"}
    assert stored[crm["contact"].pk].first_responded_at == datetime(2026, 3, 4, 9, 30, tzinfo=UTC)
    assert stored[crm["lead"].pk].created_at == datetime(2026, 3, 1, tzinfo=UTC)
    assert all(m.campaign_id == crm["webinar"].pk for m in stored.values())
    assert {m.contact_id: (m.status, m.first_responded_at, m.updated_at) for m in CampaignMember.objects.all()} == {
        pk: (m.status, m.first_responded_at, m.updated_at) for pk, m in stored.items()}


def test_a_later_export_moves_statuses_forward_never_back(crm, tmp_path):
    members_import(path=write(tmp_path / "members.csv", report(crm)))
    later = report(crm)
    later[0]["Member Status"] = "Attended"  # the lead came
    later[2]["Member Status"] = "Sent"  # an older status from a stale export

    result = members_import(path=write(tmp_path / "later.csv", later))

    assert (result.created, result.updated) == (0, 1)
    assert CampaignMember.objects.get(contact=crm["lead"]).status == "attended"
    assert CampaignMember.objects.get(contact=crm["by_email"]).status == "attended"


def test_bad_rows_are_all_reported_with_line_and_column_and_nothing_is_written(crm, tmp_path):
    rows = report(crm)
    rows[0]["Campaign ID"] = "701-nope"
    rows[1]["Member Status"] = "Waitlisted"
    rows[2]["Created Date"] = "the second of March"
    rows.append({"Campaign ID": "7015g000000AAA", "Lead ID": "00Q-ghost", "Member Status": "Sent",
                 "Created Date": "3/1/2026"})

    with pytest.raises(ValidationFailed) as exc:
        members_import(path=write(tmp_path / "members.csv", rows))

    problems = {(d["field"], d["message"].split(",")[0]) for d in exc.value.details}
    assert problems == {("Campaign ID", "line 2"), ("Member Status", "line 3"), ("Created Date", "line 4"),
                        ("Lead ID", "line 5")}
    assert CampaignMember.objects.count() == 0


def test_a_header_without_a_contact_column_is_refused(crm, tmp_path):
    path = write(tmp_path / "members.csv", report(crm), header=["Campaign ID", "Member Status", "Created Date"])

    with pytest.raises(ValidationFailed) as exc:
        members_import(path=path)

    assert exc.value.field == "Contact ID"
    assert "line 1" in exc.value.message


@pytest.mark.parametrize(("text", "expected"), [
    ("3/1/2026", datetime(2026, 3, 1, tzinfo=UTC)),
    ("12/31/2026 11:05 PM", datetime(2026, 12, 31, 23, 5, tzinfo=UTC)),
    ("2026-03-01T10:00:00+01:00", datetime(2026, 3, 1, 9, tzinfo=UTC)),
    ("yesterday", None),
])
def test_report_dates(text, expected):
    assert parse_when(text) == expected


def test_cli_import_members(crm, tmp_path):
    path = write(tmp_path / "members.csv", report(crm))

    result = CliRunner().invoke(build_app(), ["import", "members", str(path), "--json"])

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"rows": 3, "created": 3, "updated": 0, "unchanged": 0}
