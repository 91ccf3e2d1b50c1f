"""The X Education mapping: contacts, activity, outcome; idempotent, all-or-nothing, errors naming line and column."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smarketing.campaigns.models import Touchpoint
from smarketing.cli import build_app
from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Contact
from smarketing.ingest.xeducation import MAX_VISIT_TOUCHES, xeducation_import
from smarketing.lifecycle.models import StageChange
from smarketing.testing.csvfiles import csv_write

HEADER = ["Prospect ID", "Lead Number", "Lead Origin", "Lead Source", "Do Not Email", "Do Not Call", "Converted",
          "TotalVisits", "Total Time Spent on Website", "Page Views Per Visit", "Last Activity", "Country",
          "Specialization", "How did you hear about X Education", "What is your current occupation",
          "What matters most to you in choosing a course", "Search", "Magazine", "Newspaper Article",
          "X Education Forums", "Newspaper", "Digital Advertisement", "Through Recommendations",
          "Receive More Updates About Our Courses", "Tags", "Lead Quality", "Update me on Supply Chain Content",
          "Get updates on DM Content", "Lead Profile", "City", "Asymmetrique Activity Index",
          "Asymmetrique Profile Index", "Asymmetrique Activity Score", "Asymmetrique Profile Score",
          "I agree to pay the amount through cheque", "A free copy of Mastering The Interview",
          "Last Notable Activity", ""]


def lead(pid: str, number: int, converted: int = 0, **overrides: str) -> dict[str, str]:
    row = {h: "No" for h in HEADER}
    row.update({"Prospect ID": pid, "Lead Number": str(number), "Lead Origin": "Landing Page Submission",
                "Lead Source": "Google", "Converted": str(converted), "TotalVisits": "3",
                "Total Time Spent on Website": "674", "Page Views Per Visit": "2.5", "Last Activity": "Email Opened",
                "Country": "India", "Specialization": "Select", "How did you hear about X Education": "Select",
                "What is your current occupation": "Unemployed",
                "What matters most to you in choosing a course": "Better Career Prospects", "Tags": "Ringing",
                "Lead Quality": "", "Lead Profile": "Select", "City": "Mumbai",
                "Asymmetrique Activity Index": "02.Medium", "Asymmetrique Profile Index": "02.Medium",
                "Asymmetrique Activity Score": "15", "Asymmetrique Profile Score": "15",
                "Last Notable Activity": "Modified", "": ""})
    row.update(overrides)
    return row


def write(path: Path, rows: list[dict[str, str]], header: list[str] = HEADER) -> Path:
    return csv_write(path, rows, header)


@pytest.fixture
def leads_csv(tmp_path):
    return write(tmp_path / "Leads.csv", [
        lead("p-1", 600001, 1, TotalVisits="25", **{"A free copy of Mastering The Interview": "Yes"}),
        lead("p-2", 600002, 0, **{"Last Activity": "Email Bounced", "Lead Origin": "Lead Import"}),
        lead("p-3", 600003, 0, TotalVisits="", **{"Page Views Per Visit": "", "Last Activity": "SMS Sent"}),
    ])


def test_import_maps_contacts_activity_and_outcome(active_playbook, leads_csv):
    # when the file is imported
    result = xeducation_import(path=leads_csv)
    # then each row is a contact keyed by its Prospect ID, with the columns as attributes ('Select' left out)
    assert (result.rows, result.contacts_created, result.conversions_recorded) == (3, 3, 1)
    c1 = Contact.objects.get(source="xeducation", source_id="p-1")
    assert c1.lead_source == "Google" and c1.country == "India"
    assert c1.attributes["total_visits"] == 25 and c1.attributes["tags"] == "Ringing"
    assert c1.attributes["do_not_email"] is False and "specialization" not in c1.attributes
    # and activity becomes touchpoints: origin form, capped page views, guide download, last activity
    kinds = sorted(Touchpoint.objects.filter(contact=c1).values_list("kind", flat=True))
    assert kinds.count("page_view") == MAX_VISIT_TOUCHES
    assert {"form_fill", "content_download", "email_open"} <= set(kinds)
    assert Touchpoint.objects.filter(contact__source_id="p-2").count() == 3  # no origin touch, no bounce touch
    # missing visits make no page views; an SMS from sales is a sales touch
    assert sorted(Touchpoint.objects.filter(contact__source_id="p-3").values_list("kind", flat=True)) == [
        "form_fill", "sales_email"]
    # and every lead's history starts with a lead stage change on its first day; Converted = 1 adds the move to
    # customer later, both recorded by the import
    lead_change, won = StageChange.objects.filter(contact=c1).order_by("occurred_at")
    assert (lead_change.from_stage, lead_change.to_stage, lead_change.actor_kind) == ("", "lead", "import")
    assert (won.from_stage, won.to_stage, won.actor_kind) == ("lead", "customer", "import")
    assert lead_change.occurred_at == c1.first_seen_at < won.occurred_at
    assert c1.lifecycle_stage == "customer"
    assert list(StageChange.objects.filter(contact__source_id="p-2").values_list("to_stage", flat=True)) == ["lead"]
    assert Contact.objects.get(source_id="p-2").lifecycle_stage == "lead"


def test_reimport_updates_and_never_duplicates(active_playbook, leads_csv, tmp_path):
    # given the file was imported
    xeducation_import(path=leads_csv)
    counts = (Contact.objects.count(), Touchpoint.objects.count(), StageChange.objects.count())
    # when the same file is imported again
    again = xeducation_import(path=leads_csv)
    # then nothing is duplicated
    assert (again.contacts_created, again.contacts_updated, again.touchpoints_created,
            again.conversions_recorded) == (0, 0, 0, 0)
    assert (Contact.objects.count(), Touchpoint.objects.count(), StageChange.objects.count()) == counts
    # when a row changes (new tag, conversion withdrawn)
    changed = write(tmp_path / "changed.csv", [lead("p-1", 600001, 0, TotalVisits="25", Tags="Closed by Horizzon")])
    result = xeducation_import(path=changed)
    # then the contact is updated in place and the history gains a row rather than losing one
    assert (result.contacts_created, result.contacts_updated, result.reversals_recorded) == (0, 1, 1)
    c1 = Contact.objects.get(source_id="p-1")
    assert c1.attributes["tags"] == "Closed by Horizzon" and c1.lifecycle_stage == "lead"
    assert list(StageChange.objects.filter(contact=c1).values_list("to_stage", flat=True)) == [
        "lead", "customer", "lead"]


@pytest.mark.parametrize(
    ("bad_row", "line", "column"),
    [
        (lead("p-9", 600009, Converted="yes"), 3, "Converted"),
        (lead("p-9", 600009, TotalVisits="many"), 3, "TotalVisits"),
        (lead("p-9", 600009, TotalVisits="-2"), 3, "TotalVisits"),
        (lead("p-9", 600009, 0, **{"Do Not Email": "Maybe"}), 3, "Do Not Email"),
        (lead("", 600009), 3, "Prospect ID"),
        (lead("p-1", 600009), 3, "Prospect ID"),  # repeats line 2
        (lead("p-9", 600009, 0, **{"Lead Number": ""}), 3, "Lead Number"),
    ],
)
def test_a_bad_row_names_line_and_column_and_writes_nothing(active_playbook, tmp_path, bad_row, line, column):
    # given a good row followed by a bad one
    path = write(tmp_path / "bad.csv", [lead("p-1", 600001, 1), bad_row])
    # when imported, then the error names the line and the column
    with pytest.raises(ValidationFailed) as err:
        xeducation_import(path=path)
    assert err.value.field == column
    assert f"line {line}" in err.value.message and "nothing was imported" in err.value.message
    # and nothing was written, not even the good row
    assert Contact.objects.count() == 0 and Touchpoint.objects.count() == 0 and StageChange.objects.count() == 0


def test_a_missing_required_column_is_named(active_playbook, tmp_path):
    header = [h for h in HEADER if h != "Converted"]
    path = write(tmp_path / "nocol.csv", [lead("p-1", 600001)], header=header)
    with pytest.raises(ValidationFailed) as err:
        xeducation_import(path=path)
    assert err.value.field == "Converted" and "header" in err.value.message


def test_cli_imports_and_reports_json(active_playbook, leads_csv):
    result = CliRunner().invoke(build_app(), ["import", "xeducation", str(leads_csv), "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1])["contacts_created"] == 3
