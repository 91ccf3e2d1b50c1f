"""HubSpot exports in: the funnel equals the fixture's own counts, re-imports change nothing, a later export appends
exactly its new moves, and bad files are refused by file, line and column with nothing written."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.feedback.models import FeedbackItem
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.models import ImportRun
from smarketing.ingest.services import import_run_create, import_run_execute
from smarketing.ingest.tests import hubspot_files as hs
from smarketing.lifecycle.enums import FUNNEL_ORDER, ActorKind
from smarketing.lifecycle.models import SlaClock, StageChange
from smarketing.team.models import User

pytestmark = pytest.mark.skipif(not hs.EXPORTS.is_dir(), reason="../shared/datasets/crm_exports is absent")

SOURCE_KEYS = {"Organic Search": "organic_search", "Paid Search": "paid_search", "Referrals": "referral",
               "Email Marketing": "email", "Direct Traffic": "direct"}
STAGE_KEYS = {"Lead": "lead", "Marketing Qualified Lead": "mql", "Sales Qualified Lead": "sql",
              "Opportunity": "opportunity", "Customer": "customer"}


def _import(files: list[Path], **options: Any) -> ImportRun:
    run = import_run_create(files=files, system="hubspot", dry_run=options.pop("dry_run", False), **options)
    return import_run_execute(run=run)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _funnel(*args: str) -> dict[str, Any]:
    code, out = _cli("funnel", "--to", "customer", "--json", *args)
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)
    return data


def _company(tmp_path: Path, contacts: list[dict[str, str]]) -> list[Path]:
    return [hs.write_contacts(tmp_path / "hubspot-contacts.csv", contacts),
            hs.write_companies(tmp_path / "hubspot-companies.csv", hs.company_rows()),
            hs.write_deals(tmp_path / "hubspot-deals.csv", hs.deal_rows())]


def _history_counts() -> tuple[int, int, int, int]:
    return Contact.objects.count(), Account.objects.count(), Opportunity.objects.count(), StageChange.objects.count()


def test_funnel_after_import_equals_the_fixture_by_stage_and_source(active_playbook, tmp_path):
    # given a HubSpot company: 40 contacts on the stage ladder, 3 companies, a won, a lost and an open deal
    contacts = hs.contact_rows(40)
    files = _company(tmp_path, contacts)
    # and the counts straight from the fixture: each stage reached (a later stage passes the earlier ones), and
    # lead → customer per original source
    won_primary = {"1000"}  # deal 9001 is won; its first associated contact is the primary one
    reached: Counter[str] = Counter()
    by_source: dict[str, list[int]] = {}
    for row in contacts:
        stages = {STAGE_KEYS[label] for label in hs.LADDER if row.get(hs.ENTERED.format(label))}
        if row["Record ID"] in won_primary:
            stages.add("customer")
        top = max(FUNNEL_ORDER.index(s) for s in stages)
        reached.update(str(s) for s in FUNNEL_ORDER[:top + 1])
        counts = by_source.setdefault(SOURCE_KEYS[row["Original Traffic Source"]], [0, 0])
        counts[0] += 1
        counts[1] += "customer" in stages
    # when the files are imported
    run = _import(files)
    # then the run succeeded and says what it wrote
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["contacts"] == {"created": 40, "updated": 0, "unchanged": 0}
    assert run.summary["accounts"]["created"] == 3
    assert run.summary["opportunities"]["created"] == 3
    assert run.summary["owners_created"] == ["Nora New", "Rita Rep", "Sam Seller"]
    assert [f["kind"] for f in run.files] == ["contacts", "companies", "deals"]
    # and the funnel from lead reads the fixture's counts at every stage, and by source
    steps = {s["stage"]: s["reached"] for s in _funnel("--from", "lead")["total"]["steps"]}
    assert steps == {str(s): reached[s] for s in FUNNEL_ORDER}
    groups = _funnel("--from", "lead", "--by", "source")["groups"]
    assert {g["key"]: [g["entered"], g["converted"]] for g in groups} == by_source
    # and the history is the import's past: actor import, no SLA clock
    assert set(StageChange.objects.values_list("actor_kind", flat=True)) == {ActorKind.IMPORT}
    assert SlaClock.objects.count() == 0
    # and deals carry their outcome, account and primary contact; the won one made its account a customer
    won = Opportunity.objects.get(source_id="9001")
    assert (won.outcome, won.stage, str(won.amount), won.account.name) == ("won", "closed_won", "12000.00",
                                                                           "Company 0")
    assert won.primary_contact.source_id == "1000" and won.account.is_customer
    lost = Opportunity.objects.get(source_id="9002")
    assert (lost.outcome, lost.loss_reason) == ("lost", "Went with a competitor")
    assert FeedbackItem.objects.get(opportunity=lost).text == "Went with a competitor"
    assert run.summary["loss_feedback"] == 1
    assert Opportunity.objects.get(source_id="9003").stage == "qualification"
    # and unknown owners are inactive sales users
    nora = User.objects.get(first_name="Nora", last_name="New")
    assert (nora.is_active, nora.role, nora.has_usable_password()) == (False, "sales", False)
    # and emails are kept lower-case, contacts linked to their company
    ann = Contact.objects.get(source="hubspot", source_id="1005")
    assert (ann.email, ann.account.source_id, ann.lead_source) == ("ann5@example1.com", "502", "referral")
    assert ann.attributes["lead_response_time"] == 142 * 3600 + 46 * 60 + 8


def test_a_reimport_changes_nothing_and_a_later_export_appends_exactly_its_new_moves(active_playbook, tmp_path):
    contacts = hs.contact_rows(12)
    files = _company(tmp_path, contacts)
    assert _import(files).status == ImportStatus.SUCCEEDED
    before = _history_counts()
    # when the same files come in again
    again = _import(files)
    # then nothing is created, updated or appended
    assert again.status == ImportStatus.SUCCEEDED
    assert _history_counts() == before
    assert again.summary["contacts"] == {"created": 0, "updated": 0, "unchanged": 12}
    assert again.summary["opportunities"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again.summary["stages"] == {} and again.summary["loss_feedback"] == 0
    # given a later export: contact 1000 reached MQL, 1001's lead date moved, 1002 changed title
    later = [dict(r) for r in contacts]
    later[0][hs.ENTERED.format("Marketing Qualified Lead")] = "2026-06-01 09:00"
    later[0]["Lifecycle Stage"] = "Marketing Qualified Lead"
    later[1][hs.ENTERED.format("Lead")] = "2026-02-01 09:00"
    later[2]["Job Title"] = "CFO"
    run = _import([hs.write_contacts(tmp_path / "later.csv", later)])
    # then exactly the new move is appended, the moved date is reported and not rewritten, the title updated
    assert run.summary["stages"] == {"mql": 1}
    assert StageChange.objects.count() == before[3] + 1
    assert len(run.summary["moved"]) == 1 and "1001" in run.summary["moved"][0]
    assert run.summary["contacts"] == {"created": 0, "updated": 1, "unchanged": 11}
    assert Contact.objects.get(source_id="1000").lifecycle_stage == "mql"
    assert Contact.objects.get(source_id="1002").title == "CFO"


@pytest.mark.parametrize("break_it, column, message", [
    (lambda rows: rows[2].update({"Create Date": "2026-13-45 10:00"}), "Create Date", ""),
    (lambda rows: rows[3].update({"Email": "ann1@EXAMPLE1.com"}), "Email", "also on line 3"),
    (lambda rows: rows[4].update({"Lifecycle Stage": "Champion"}), "Lifecycle Stage", "'Champion'"),
    (lambda rows: rows[1].update({"Original Traffic Source": "Carrier Pigeon"}), "Original Traffic Source",
     "'Carrier Pigeon'"),
])
def test_bad_rows_are_refused_by_file_line_and_column_with_nothing_written(active_playbook, tmp_path, break_it,
                                                                            column, message):
    rows = hs.contact_rows(6)
    break_it(rows)
    path = hs.write_contacts(tmp_path / "contacts.csv", rows)
    run = _import([path])
    assert run.status == ImportStatus.REFUSED
    assert _history_counts() == (0, 0, 0, 0)
    problem = run.problems[0]
    assert (problem["file"], problem["column"]) == ("contacts.csv", column)
    line = next(i for i, r in enumerate(rows) if r != hs.contact_rows(6)[i]) + 2
    assert problem["line"] == line
    assert message in problem["message"]
    if "Champion" in message:
        assert run.summary["unmapped"] == {"stages: Champion": 1}


def test_skip_invalid_writes_the_valid_rows_and_rejects_the_others_beside_the_input(active_playbook, tmp_path):
    rows = hs.contact_rows(5)
    rows[1]["Create Date"] = "yesterday"
    rows[3]["First Name"] = "=HYPERLINK(\"http://x\")"
    rows[3]["Email"] = "not an email"
    path = hs.write_contacts(tmp_path / "contacts.csv", rows)
    run = _import([path], skip_invalid=True)
    assert run.status == ImportStatus.SUCCEEDED and run.problems_count == 2
    assert Contact.objects.count() == 3
    rejected = (tmp_path / "contacts.csv.rejected.csv").read_text(encoding="utf-8").splitlines()
    assert run.rejected_file == "contacts.csv.rejected.csv"
    assert rejected[0].startswith("line,reason,Record ID")
    assert [r.split(",")[0] for r in rejected[1:]] == ["3", "5"]
    assert "'=HYPERLINK" in rejected[2]  # a formula is neutralised


def test_an_unknown_file_is_refused_with_the_headers_expected(active_playbook, tmp_path):
    path = tmp_path / "export.csv"
    path.write_text('"Id","Name"\r\n"1","x"\r\n', encoding="utf-8")
    run = import_run_create(files=[path], system="hubspot", dry_run=False)
    assert run.status == ImportStatus.REFUSED
    assert "export.csv" in run.error and "Record ID, Email, Lifecycle Stage" in run.error


def test_cli_dry_run_json_reports_without_writing(active_playbook, tmp_path):
    files = _company(tmp_path, hs.contact_rows(8))
    code, out = _cli("import", "hubspot", *map(str, files), "--dry-run", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["status"] == "succeeded" and data["dry_run"] is True
    assert data["summary"]["contacts"]["created"] == 8
    assert data["summary"]["stages"]["lead"] == 8 + 3  # the 8 contacts and the 3 companies (their Lifecycle Stage)
    assert data["summary"]["written"] is False
    assert [f["kind"] for f in data["files"]] == ["contacts", "companies", "deals"]
    assert _history_counts() == (0, 0, 0, 0)
    assert User.objects.filter(first_name="Nora").count() == 0
    assert ImportRun.objects.get().dry_run
    # and with a problem the CLI exits 2 and names it
    rows = hs.contact_rows(3)
    rows[2]["Create Date"] = "31/31/2026"
    bad = hs.write_contacts(tmp_path / "bad.csv", rows)
    code, out = _cli("import", "hubspot", str(bad))
    assert code == 2
    assert "bad.csv, line 4, column 'Create Date'" in out


def test_campaigns_a_contacts_export_names_become_campaign_members(active_playbook, tmp_path):
    from smarketing.campaigns.models import Campaign, CampaignMember

    rows = hs.contact_rows(4)
    rows[0].update({"Associated Campaign": "Spring webinar;Q2 ebook", "Associated Campaign IDs": "11;12"})
    rows[2].update({"Associated Campaign": "Spring webinar", "Associated Campaign IDs": "11"})
    path = hs.write_contacts(tmp_path / "contacts.csv", rows)
    run = _import([path])
    assert run.summary["campaigns"] == {"created": 2, "members_created": 3, "members_updated": 0}
    assert sorted(Campaign.objects.values_list("source_id", "name")) == [("11", "Spring webinar"), ("12", "Q2 ebook")]
    members = CampaignMember.objects.filter(campaign__source_id="11")
    assert sorted(m.contact.source_id for m in members) == ["1000", "1002"]
    assert {m.status for m in CampaignMember.objects.all()} == {"sent"}
    # a re-import adds no campaign and no member
    again = _import([path])
    assert again.summary["campaigns"] == {"created": 0, "members_created": 0, "members_updated": 0}
    assert CampaignMember.objects.count() == 3


def test_locale_dates_that_read_both_ways_are_refused_unless_the_format_is_given(active_playbook, tmp_path):
    rows = hs.contact_rows(3)
    for row in rows:
        for key, value in list(row.items()):
            if value.startswith("2026-03-"):  # 2026-03-05 10:00 → 03/05/2026 10:00, month first
                day = value[8:10]
                row[key] = f"03/{day}/2026 {value[11:]}"
    path = hs.write_contacts(tmp_path / "contacts.csv", rows)
    run = import_run_execute(run=import_run_create(files=[path], system="hubspot", dry_run=True, date_format=None))
    # the shipped HubSpot mapping says dates are year-month-day: a locale date is refused by cell
    assert run.status == ImportStatus.REFUSED
    assert run.problems[0]["line"] == 2 and "Date" in run.problems[0]["column"]
    # given the exporting user's order, the same file reads
    run = _import([path], date_format="mdy", dry_run=True)
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["contacts"]["created"] == 3


def test_a_utf16_tab_separated_export_imports_as_the_csv_one(active_playbook, tmp_path):
    rows = hs.contact_rows(6)
    run = _import([hs.write_contacts_utf16_tabs(tmp_path / "contacts.txt", rows)])
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["contacts"]["created"] == 6
    # the same contacts as a UTF-8 CSV are the same records: nothing changes
    again = _import([hs.write_contacts(tmp_path / "contacts.csv", rows)])
    assert again.summary["contacts"] == {"created": 0, "updated": 0, "unchanged": 6}
    assert again.summary["stages"] == {}


def test_a_deals_export_without_a_required_column_is_refused_once_at_its_header(active_playbook, tmp_path):
    header = hs.header_line("deals").replace('"Create Date",', "")
    path = tmp_path / "deals.csv"
    path.write_bytes(hs._export(header, [{k: v for k, v in r.items() if k != "Create Date"} for r in hs.deal_rows()]))
    run = _import([path])
    assert run.status == ImportStatus.REFUSED
    assert run.problems == [{"file": "deals.csv", "line": 1, "column": "Create Date",
                             "message": "this required column is missing from the header"}]
