"""Salesforce exports in through the shipped mapping, as report exports (field labels, `Account: Account ID`
prefixes, the footer, locale dates) and as Data Loader exports (API names, UTC times): the funnel equals the
fixture's own counts by stage and by source, a re-import changes nothing, a later export appends exactly its new
moves, and bad files are refused by file, line and column with nothing written."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
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
from smarketing.ingest.tests.layouts import write_salesforce_dataloader, write_salesforce_report
from smarketing.lifecycle.enums import FUNNEL_ORDER, ActorKind
from smarketing.lifecycle.models import SlaClock, StageChange
from smarketing.team.models import User

STATUSES = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]
STATUS_STAGE = {"Open - Not Contacted": "lead", "Working - Contacted": "sal", "Closed - Converted": "sql",
                "Closed - Not Converted": "disqualified"}
SOURCES = {"Web": "organic_search", "Trade Show": "event", "Partner Referral": "partner",
           "Employee Referral": "referral", "Seminar - Internal": "webinar"}
# What each report label is called in a Data Loader export
API_NAMES = {
    "leads": {"Lead ID": "Id", "First Name": "FirstName", "Last Name": "LastName", "Title": "Title",
              "Company / Account": "Company", "Email": "Email", "Lead Source": "LeadSource", "Lead Status": "Status",
              "Rating": "Rating", "Create Date": "CreatedDate", "Converted": "IsConverted",
              "Converted Date": "ConvertedDate", "Lead Owner": "OwnerId"},
    "accounts": {"Account ID": "Id", "Account Name": "Name", "Industry": "Industry", "Employees": "NumberOfEmployees",
                 "Website": "Website", "Billing Country": "BillingCountry", "Account Owner": "OwnerId"},
    "contacts": {"Contact ID": "Id", "Account ID": "AccountId", "First Name": "FirstName", "Last Name": "LastName",
                 "Email": "Email", "Lead Source": "LeadSource", "Created Date": "CreatedDate",
                 "Contact Owner": "OwnerId", "Title": "Title", "Mailing Country": "MailingCountry"},
    "opportunities": {"Opportunity ID": "Id", "Opportunity Name": "Name", "Account ID": "AccountId",
                      "Stage": "StageName", "Amount": "Amount", "Close Date": "CloseDate", "Created Date": "CreatedDate",
                      "Type": "Type", "Won": "IsWon", "Closed": "IsClosed", "Opportunity Owner": "OwnerId"},
}


def lead_rows(n: int) -> list[dict[str, Any]]:
    """n leads in report labels: statuses and sources in turn, days 13 and later so month/day order is plain."""
    rows = []
    for i in range(n):
        status = STATUSES[i % len(STATUSES)]
        created = datetime(2026, 3, 13 + i % 15, 9 + i % 8, 30, tzinfo=UTC)
        rows.append({"Lead ID": f"00Q{i:05d}", "Lead Owner": ["Rita Rep", "Sam Seller"][i % 2],
                     "First Name": f"Lea{i}", "Last Name": "Lead", "Title": "Ops", "Company / Account": f"Co {i}",
                     "Email": f"lead{i}@example.com", "Lead Source": list(SOURCES)[i % len(SOURCES)],
                     "Lead Status": status, "Rating": "Warm", "Create Date": created,
                     "Converted": status == "Closed - Converted",
                     "Converted Date": date(2026, 4, 20 + i % 5) if status == "Closed - Converted" else None})
    return rows


def account_rows() -> list[dict[str, Any]]:
    return [{"Account ID": f"001{i:05d}", "Account Name": f"Account {i}", "Account Owner": "Rita Rep",
             "Industry": "Software", "Employees": 50 * (i + 1), "Website": f"account{i}.example",
             "Billing Country": "France", "Created Date": date(2026, 1, 20)} for i in range(3)]


def contact_rows() -> list[dict[str, Any]]:
    return [{"Contact ID": f"003{i:05d}", "Account ID": f"001{i % 3:05d}", "First Name": f"Cora{i}",
             "Last Name": "Contact", "Title": "CFO", "Email": f"contact{i}@account{i % 3}.example",
             "Account Name": f"Account {i % 3}", "Contact Owner": "Sam Seller",
             "Lead Source": ["Web", "Seminar - Internal"][i % 2], "Mailing Country": "France",
             "Created Date": datetime(2026, 2, 14 + i, 10, 0, tzinfo=UTC)} for i in range(6)]


def opportunity_rows() -> list[dict[str, Any]]:
    base = {"Opportunity Owner": "Sam Seller", "Type": "New Business", "Lead Source": "Web",
            "Created Date": date(2026, 3, 20)}
    return [
        {**base, "Opportunity ID": "006W", "Opportunity Name": "Won deal", "Account ID": "00100000",
         "Account Name": "Account 0", "Stage": "Closed Won", "Amount": "12000", "Probability (%)": "100",
         "Close Date": date(2026, 5, 14), "Won": True, "Closed": True},
        {**base, "Opportunity ID": "006L", "Opportunity Name": "Lost deal", "Account ID": "00100001",
         "Account Name": "Account 1", "Stage": "Closed Lost", "Amount": "5000", "Probability (%)": "0",
         "Close Date": date(2026, 5, 15), "Won": False, "Closed": True},
        {**base, "Opportunity ID": "006O", "Opportunity Name": "Open deal", "Account ID": "00100002",
         "Account Name": "Account 2", "Stage": "Proposal/Price Quote", "Amount": "8000", "Probability (%)": "60",
         "Close Date": date(2026, 6, 30), "Won": False, "Closed": False},
    ]


def _api(kind: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    names = API_NAMES[kind]
    return [{names[k]: v for k, v in row.items() if k in names} for row in rows]


def write_company(folder: Path, layout: str, leads: list[dict[str, Any]], *, date_format: str = "mdy"
                  ) -> list[Path]:
    """The four exports of one company in a layout: `report` (labels, prefixes, footer) or `dataloader`."""
    folder.mkdir(exist_ok=True)
    parts = {"leads": leads, "accounts": account_rows(), "contacts": contact_rows(),
             "opportunities": opportunity_rows()}
    if layout == "dataloader":
        return [write_salesforce_dataloader(folder / f"{kind}.csv", kind, _api(kind, rows))
                for kind, rows in parts.items()]
    prefixes: dict[str, Any] = {"leads": None, "accounts": None, "contacts": {"Account ID": "Account",
                                                                             "Account Name": "Account"},
                                "opportunities": {"Account ID": "Account", "Account Name": "Account"}}
    return [write_salesforce_report(folder / f"{kind}.csv", kind, rows, prefix=prefixes[kind],
                                    date_format=date_format, copyright_broken=kind == "contacts")
            for kind, rows in parts.items()]


def _import(files: list[Path], **options: Any) -> ImportRun:
    run = import_run_create(files=files, system="salesforce", dry_run=options.pop("dry_run", False), **options)
    return import_run_execute(run=run)


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _funnel(*args: str) -> dict[str, Any]:
    code, out = _cli("funnel", "--json", *args)
    assert code == 0, out
    data: dict[str, Any] = json.loads(out)
    return data


def _counts() -> tuple[int, int, int, int]:
    return Contact.objects.count(), Account.objects.count(), Opportunity.objects.count(), StageChange.objects.count()


def _expected(leads: list[dict[str, Any]]) -> tuple[Counter[str], dict[str, list[int]]]:
    """Each funnel stage reached (a later stage passes the earlier ones), and lead → SQL by source, from the rows."""
    order = [str(s) for s in FUNNEL_ORDER]
    reached: Counter[str] = Counter()
    by_source: dict[str, list[int]] = {}
    people = [(STATUS_STAGE[r["Lead Status"]], r["Lead Source"]) for r in leads]
    people += [("lead", r["Lead Source"]) for r in contact_rows()]
    for stage, source in people:
        top = order.index(stage) if stage in order else 0
        reached.update(str(s) for s in FUNNEL_ORDER[:top + 1])
        counts = by_source.setdefault(SOURCES[source], [0, 0])
        counts[0] += 1
        counts[1] += top >= order.index("sql")
    return reached, by_source


@pytest.mark.parametrize("layout", ["report", "dataloader"])
def test_funnel_after_import_equals_the_fixture_by_stage_and_source(active_playbook, tmp_path, layout):
    # given a Salesforce company: 20 leads through the statuses, 3 accounts, 6 contacts, a won, a lost, an open deal
    leads = lead_rows(20)
    files = write_company(tmp_path / layout, layout, leads)
    reached, by_source = _expected(leads)
    # when its exports are imported (kinds detected from the headers)
    run = _import(files)
    # then the run succeeded and says what it wrote
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    kinds = ["leads", "accounts", "contacts", "opportunities"]
    assert [f["kind"] for f in run.files] == (kinds if layout == "report" else [f"{k}_api" for k in kinds])
    assert run.summary["contacts"] == {"created": 26, "updated": 0, "unchanged": 0}
    assert run.summary["accounts"]["created"] == 3 and run.summary["opportunities"]["created"] == 3
    # and the funnel from lead reads the fixture's counts at every stage, and lead → SQL by source
    steps = {s["stage"]: s["reached"] for s in _funnel("--from", "lead", "--to", "customer")["total"]["steps"]}
    assert steps == {str(s): reached[s] for s in FUNNEL_ORDER}
    groups = _funnel("--from", "lead", "--to", "sql", "--by", "source")["groups"]
    assert {g["key"]: [g["entered"], g["converted"]] for g in groups} == by_source
    # and a converted lead entered SQL at its Converted Date; a not-converted one is disqualified
    converted = Contact.objects.get(source_id="00Q00002")
    assert converted.lifecycle_stage == "sql"
    sql = StageChange.objects.get(contact=converted, to_stage="sql")
    assert sql.occurred_at == datetime(2026, 4, 22, tzinfo=UTC)
    assert Contact.objects.get(source_id="00Q00003").lifecycle_stage == "disqualified"
    # and the history is the import's past: actor import, no SLA clock
    assert set(StageChange.objects.values_list("actor_kind", flat=True)) == {ActorKind.IMPORT}
    assert SlaClock.objects.count() == 0
    # and opportunities carry their outcome, amount and account; the won one made its account a customer
    won = Opportunity.objects.get(source_id="006W")
    assert (won.outcome, won.stage, str(won.amount), won.account.name) == ("won", "closed_won", "12000.00",
                                                                           "Account 0")
    assert won.closed_at == datetime(2026, 5, 14, tzinfo=UTC) and won.type == "new_business"
    assert won.account.is_customer
    assert Opportunity.objects.get(source_id="006L").outcome == "lost"
    assert (Opportunity.objects.get(source_id="006O").outcome, Opportunity.objects.get(source_id="006O").stage) == (
        "open", "proposal")
    # and contacts link their account through the prefixed Account ID column
    cora = Contact.objects.get(source_id="00300004")
    assert (cora.account.source_id, cora.lead_source, cora.email) == ("00100001", "organic_search",
                                                                      "contact4@account1.example")
    if layout == "report":  # reports name owners; unknown ones become inactive sales users
        assert run.summary["owners_created"] == ["Rita Rep", "Sam Seller"]
        sam = User.objects.get(first_name="Sam", last_name="Seller")
        assert (sam.is_active, sam.role) == (False, "sales") and won.owner == sam
    else:  # Data Loader writes owner ids only: kept as an attribute, no user made up
        assert run.summary["owners_created"] == [] and won.owner is None
        assert converted.attributes["owner_id"] == leads[2]["Lead Owner"]


def test_a_reimport_changes_nothing_and_a_later_export_appends_exactly_its_new_moves(active_playbook, tmp_path):
    leads = lead_rows(8)
    files = write_company(tmp_path / "first", "report", leads)
    assert _import(files).status == ImportStatus.SUCCEEDED
    before = _counts()
    # when the same exports come in again
    again = _import(files)
    # then nothing is created, updated or appended
    assert again.status == ImportStatus.SUCCEEDED, again.problems
    assert _counts() == before
    assert again.summary["contacts"] == {"created": 0, "updated": 0, "unchanged": 14}
    assert again.summary["opportunities"] == {"created": 0, "updated": 0, "unchanged": 3}
    assert again.summary["stages"] == {} and again.summary["loss_feedback"] == 0
    # given a later leads export: lead 0 converted, lead 1's create date moved, lead 5 changed title
    later = [dict(r) for r in leads]
    later[0].update({"Lead Status": "Closed - Converted", "Converted": True, "Converted Date": date(2026, 5, 18)})
    later[1]["Create Date"] = datetime(2026, 2, 27, 8, 0, tzinfo=UTC)
    later[5]["Title"] = "CFO"
    run = _import([write_salesforce_report(tmp_path / "later-leads.csv", "leads", later)])
    # then exactly the new move is appended, the moved date reported and not rewritten, the title updated
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["stages"] == {"sql": 1}
    assert StageChange.objects.count() == before[3] + 1
    # (lead 1 is "Working - Contacted": its lead and its SAL were both dated by Create Date)
    assert len(run.summary["moved"]) == 2 and all("00Q00001" in note for note in run.summary["moved"])
    assert run.summary["contacts"] == {"created": 0, "updated": 3, "unchanged": 5}  # 0, 1 (first seen) and 5
    assert Contact.objects.get(source_id="00Q00000").lifecycle_stage == "sql"
    assert Contact.objects.get(source_id="00Q00005").title == "CFO"


def test_day_first_reports_read_with_the_date_format_and_ambiguous_ones_are_refused(active_playbook, tmp_path):
    # given a report from a day/month locale whose days are all above 12: the order is read from the file
    leads = lead_rows(4)
    run = _import([write_salesforce_report(tmp_path / "leads-fr.csv", "leads", leads, date_format="dmy")])
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert Contact.objects.get(source_id="00Q00002").first_seen_at == datetime(2026, 3, 15, 11, 30, tzinfo=UTC)
    # given one whose dates all read both ways (days 1 to 12)
    early = [{**r, "Create Date": datetime(2026, 3, 2 + n, 9, 0, tzinfo=UTC),
              "Converted Date": date(2026, 4, 3) if r["Converted"] else None} for n, r in enumerate(lead_rows(4))]
    early = [{**r, "Lead ID": f"00QE{n}", "Email": f"early{n}@example.com"} for n, r in enumerate(early)]
    path = write_salesforce_report(tmp_path / "leads-early.csv", "leads", early, date_format="dmy")
    before = _counts()
    # then without a date format it is refused at its first ambiguous cell, nothing written
    run = _import([path])
    assert run.status == ImportStatus.REFUSED and _counts() == before
    problem = run.problems[0]
    assert (problem["file"], problem["line"], problem["column"]) == ("leads-early.csv", 2, "Create Date")
    assert "--date-format" in problem["message"]
    # and with --date-format dmy (the CLI's) it reads day first
    code, out = _cli("import", "salesforce", str(path), "--date-format", "dmy", "--json")
    assert code == 0, out
    assert Contact.objects.get(source_id="00QE1").first_seen_at == datetime(2026, 3, 3, 9, 0, tzinfo=UTC)


def _break_date(rows: list[dict[str, Any]]) -> None:
    rows[2]["Create Date"] = "13/45/2026"


def _break_email(rows: list[dict[str, Any]]) -> None:
    rows[3]["Email"] = "LEAD1@example.com"


def _break_status(rows: list[dict[str, Any]]) -> None:
    rows[4]["Lead Status"] = "Nurturing"


def _break_source(rows: list[dict[str, Any]]) -> None:
    rows[1]["Lead Source"] = "Carrier Pigeon"


@pytest.mark.parametrize("break_it, line, column, words", [
    (_break_date, 4, "Create Date", "13/45/2026"),
    (_break_email, 5, "Email", "also on line 3"),
    (_break_status, 6, "Lead Status", "'Nurturing' is not in the playbook's lead_statuses"),
    (_break_source, 3, "Lead Source", "'Carrier Pigeon'"),
])
def test_bad_rows_are_refused_by_file_line_and_column_with_nothing_written(active_playbook, tmp_path, break_it,
                                                                            line, column, words):
    rows = lead_rows(6)
    break_it(rows)
    path = write_salesforce_report(tmp_path / "leads.csv", "leads", rows)
    run = _import([path])
    assert run.status == ImportStatus.REFUSED
    assert _counts() == (0, 0, 0, 0) and User.objects.count() == 0
    problem = run.problems[0]
    assert (problem["file"], problem["line"], problem["column"]) == ("leads.csv", line, column)
    assert words in problem["message"]
    if break_it is _break_status:
        assert run.summary["unmapped"] == {"lead_statuses: Nurturing": 1}


def test_an_unknown_header_is_refused_naming_the_file(active_playbook, tmp_path):
    odd = tmp_path / "report.csv"
    odd.write_text('"Case ID","Subject"\r\n"500A","Broken"\r\n', encoding="utf-8")
    run = import_run_create(files=[odd], system="salesforce", dry_run=False)
    assert run.status == ImportStatus.REFUSED
    assert "report.csv" in run.error and "Lead ID, Lead Status" in run.error
    assert run.problems[0]["line"] == 1


def test_cli_dry_run_reports_without_writing(active_playbook, tmp_path):
    files = write_company(tmp_path / "co", "report", lead_rows(6))
    code, out = _cli("import", "salesforce", *map(str, files), "--dry-run", "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["status"] == "succeeded" and data["summary"]["written"] is False
    assert data["summary"]["contacts"]["created"] == 12
    assert data["summary"]["stages"]["lead"] == 12
    assert _counts() == (0, 0, 0, 0)
    assert FeedbackItem.objects.count() == 0


def campaign_rows() -> list[dict[str, Any]]:
    return [
        {"Campaign ID": "701A", "Campaign Name": "Spring webinar", "Type": "Webinar", "Start Date": date(2026, 3, 14),
         "End Date": date(2026, 3, 28), "Budgeted Cost in Campaign": "2000", "Actual Cost in Campaign": "1850.50"},
        {"Campaign ID": "701B", "Campaign Name": "Paris trade show", "Type": "Trade Show",
         "Start Date": date(2026, 4, 15), "End Date": None, "Budgeted Cost in Campaign": "9000",
         "Actual Cost in Campaign": ""},
    ]


@pytest.mark.parametrize("layout", ["report", "dataloader"])
def test_campaigns_come_in_with_their_cost_and_campaign_members_join_them(active_playbook, tmp_path, layout):
    from smarketing.campaigns.models import Campaign, CampaignMember

    # given the campaigns export and the leads export
    leads = lead_rows(4)
    if layout == "report":
        files = [write_salesforce_report(tmp_path / "campaigns.csv", "campaigns", campaign_rows()),
                 write_salesforce_report(tmp_path / "leads.csv", "leads", leads)]
    else:
        names = {"Campaign ID": "Id", "Campaign Name": "Name", "Type": "Type", "Start Date": "StartDate",
                 "End Date": "EndDate", "Budgeted Cost in Campaign": "BudgetedCost",
                 "Actual Cost in Campaign": "ActualCost"}
        files = [write_salesforce_dataloader(tmp_path / "campaigns.csv", "campaigns",
                                             [{names[k]: v for k, v in r.items()} for r in campaign_rows()]),
                 write_salesforce_dataloader(tmp_path / "leads.csv", "leads", _api("leads", leads))]
    # when they are imported
    run = _import(files)
    # then the campaigns exist with their channel, type, dates and costs
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.files[0]["kind"] == ("campaigns" if layout == "report" else "campaigns_api")
    assert run.summary["campaign_records"] == {"created": 2, "updated": 0, "unchanged": 0}
    webinar = Campaign.objects.get(source="salesforce", source_id="701A")
    assert (webinar.name, webinar.channel, webinar.type) == ("Spring webinar", "webinar", "demand_gen")
    assert (webinar.start_date, webinar.end_date) == (date(2026, 3, 14), date(2026, 3, 28))
    assert (str(webinar.budget), str(webinar.actual_cost)) == ("2000.00", "1850.50")
    show = Campaign.objects.get(source_id="701B")
    assert (show.channel, show.type, show.end_date, str(show.actual_cost)) == ("event", "event", None, "0.00")
    # when the same files come in again nothing changes; a later export's actual cost updates the campaign
    assert _import(files).summary["campaign_records"] == {"created": 0, "updated": 0, "unchanged": 2}
    later = campaign_rows()
    later[1]["Actual Cost in Campaign"] = "8700"
    again = _import([write_salesforce_report(tmp_path / "campaigns-later.csv", "campaigns", later)])
    assert again.summary["campaign_records"] == {"created": 0, "updated": 1, "unchanged": 1}
    assert str(Campaign.objects.get(source_id="701B").actual_cost) == "8700.00"
    # when the Campaign Members report comes in (its own importer, matched by the Salesforce ids)
    member_rows: list[dict[str, Any]] = [
        {"Campaign ID": "701A", "Lead ID": "00Q00000", "Member Status": "Responded",
         "First Responded Date": date(2026, 3, 20), "Created Date": date(2026, 3, 14)},
        {"Campaign ID": "701A", "Lead ID": "00Q00001", "Member Status": "Sent", "Created Date": date(2026, 3, 14)},
        {"Campaign ID": "701B", "Lead ID": "00Q00001", "Member Status": "Attended",
         "First Responded Date": date(2026, 4, 16), "Created Date": date(2026, 4, 1)}]
    if layout == "report":
        members = write_salesforce_report(tmp_path / "members.csv", "campaign_members", member_rows)
    else:
        names = {"Campaign ID": "CampaignId", "Lead ID": "LeadId", "Member Status": "Status",
                 "First Responded Date": "FirstRespondedDate", "Created Date": "CreatedDate"}
        members = write_salesforce_dataloader(tmp_path / "members.csv", "campaign_members", [
            {**{names[k]: v for k, v in r.items()}, "HasResponded": "First Responded Date" in r}
            for r in member_rows])
    code, out = _cli("import", "members", str(members))
    # then each lead is a member of its campaign with its status and first response
    assert code == 0, out
    responded = CampaignMember.objects.get(campaign=webinar, contact__source_id="00Q00000")
    assert (responded.status, responded.first_responded_at.date()) == ("responded", date(2026, 3, 20))
    assert CampaignMember.objects.get(campaign=webinar, contact__source_id="00Q00001").status == "sent"
    assert CampaignMember.objects.get(campaign=show).status == "attended"
    assert CampaignMember.objects.count() == 3


def test_a_converted_lead_exported_beside_its_contact_continues_on_the_contact(active_playbook, tmp_path):
    # given Data Loader exports where lead 2 (Closed - Converted) became contact 0: one email, and the lead names
    # the contact in ConvertedContactId; the contact was created at the conversion
    leads, contacts = lead_rows(4), contact_rows()
    lead, contact = leads[2], contacts[0]
    assert lead["Lead Status"] == "Closed - Converted"
    lead["Email"] = contact["Email"]
    contact["Created Date"] = datetime.combine(lead["Converted Date"], datetime.min.time(), tzinfo=UTC)
    api_leads = _api("leads", leads)
    api_leads[2]["ConvertedContactId"] = contact["Contact ID"]
    files = [write_salesforce_dataloader(tmp_path / "leads.csv", "leads", api_leads),
             write_salesforce_dataloader(tmp_path / "contacts.csv", "contacts", _api("contacts", contacts))]
    # when both come in together
    run = _import(files)
    # then there is no conflict: the lead is the contact, written once, with the lead's history first
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["conflicts"] == []
    assert Contact.objects.count() == len(leads) + len(contacts) - 1
    assert not Contact.objects.filter(source_id=lead["Lead ID"]).exists()
    person = Contact.objects.get(source_id=contact["Contact ID"])
    moves = list(StageChange.objects.filter(contact=person).order_by("occurred_at", "id")
                 .values_list("from_stage", "to_stage", "occurred_at"))
    assert [(f, t) for f, t, _ in moves] == [("", "lead"), ("lead", "sql")]
    assert moves[0][2] == lead["Create Date"]
    assert person.lifecycle_stage == "sql"
    # when the same files come in again, nothing changes
    before = _counts()
    again = _import(files)
    assert again.status == ImportStatus.SUCCEEDED, again.problems
    assert _counts() == before
    assert again.summary["stages"] == {} and again.summary["conflicts"] == []
