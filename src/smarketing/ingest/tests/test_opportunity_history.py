"""Opportunity stage history in: a HubSpot deals export's `Date entered "<stage> (<pipeline>)"` columns and the
Salesforce stage-history report (and Data Loader's OpportunityHistory) become each opportunity's stage changes,
keyed so a re-import adds none and a later export appends exactly its new moves; and a Salesforce lead report's
`Converted Contact: Contact ID` links the lead to the contact it became."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from smarketing.crm.models import Account, Contact, Opportunity, OpportunityStageChange
from smarketing.crm.timeline import opportunity_timeline
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.models import ImportRun
from smarketing.ingest.services import import_run_create, import_run_execute
from smarketing.ingest.tests.layouts import (
    write_hubspot,
    write_salesforce_dataloader,
    write_salesforce_report,
)
from smarketing.ingest.tests.test_salesforce import contact_rows, lead_rows, opportunity_rows
from smarketing.lifecycle.models import SlaClock, StageChange


def entered(stage: str) -> str:
    return f'Date entered "{stage} (Sales Pipeline)"'


def exited(stage: str) -> str:
    return f'Date exited "{stage} (Sales Pipeline)"'


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def deal_rows() -> list[dict[str, Any]]:
    base = {"Pipeline": "Sales Pipeline", "Deal owner": "Sam Seller", "Deal Type": "New Business"}
    return [
        {**base, "Record ID": "901", "Deal Name": "Won deal", "Amount": "12000.0",
         "Create Date": at("2026-03-02 10:00"), "Close Date": at("2026-03-20 16:00"), "Deal Stage": "Closed Won",
         "Is Closed Won": True, "Is closed lost": False,
         entered("Appointment Scheduled"): at("2026-03-02 10:00"),
         exited("Appointment Scheduled"): at("2026-03-05 09:00"),
         entered("Qualified To Buy"): at("2026-03-05 09:00"), entered("Presentation Scheduled"): at("2026-03-09 14:30"),
         entered("Closed Won"): at("2026-03-20 16:00")},
        # Contract Sent and Decision Maker Bought-In both mean negotiation: the move is the earlier of the two
        {**base, "Record ID": "902", "Deal Name": "Open deal", "Amount": "8000.0",
         "Create Date": at("2026-03-03 11:00"), "Deal Stage": "Contract Sent", "Is Closed Won": False,
         "Is closed lost": False,
         entered("Appointment Scheduled"): at("2026-03-03 11:00"),
         entered("Decision Maker Bought-In"): at("2026-03-08 12:00"), entered("Contract Sent"): at("2026-03-10 08:00")},
    ]


def _import(files: list[Path], system: str, **options: Any) -> ImportRun:
    run = import_run_create(files=files, system=system, dry_run=False, **options)
    return import_run_execute(run=run)


def _moves(source_id: str) -> list[tuple[str, str, datetime]]:
    return list(OpportunityStageChange.objects.filter(opportunity__source_id=source_id).order_by("occurred_at", "id")
                .values_list("from_stage", "to_stage", "occurred_at"))


def test_a_deals_export_with_date_entered_columns_gives_the_stage_history(active_playbook, tmp_path):
    # given a HubSpot deals export with the date entered (and exited) columns of its pipeline's stages
    rows = deal_rows()
    files = [write_hubspot(tmp_path / "deals.csv", "deals", rows)]
    # when it is imported
    run = _import(files, "hubspot")
    # then each deal's moves are its stage changes, the earliest entry into each of our stages, in time order
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert _moves("901") == [("", "discovery", at("2026-03-02 10:00")),
                             ("discovery", "qualification", at("2026-03-05 09:00")),
                             ("qualification", "proposal", at("2026-03-09 14:30")),
                             ("proposal", "closed_won", at("2026-03-20 16:00"))]
    assert _moves("902") == [("", "discovery", at("2026-03-03 11:00")),
                             ("discovery", "negotiation", at("2026-03-08 12:00"))]
    assert run.summary["opportunity_stages"] == {"closed_won": 1, "discovery": 2, "negotiation": 1,
                                                 "proposal": 1, "qualification": 1}
    first = OpportunityStageChange.objects.get(opportunity__source_id="901", to_stage="discovery")
    assert first.details["exited_at"] == "2026-03-05T09:00:00+00:00"
    # the opportunity's page shows its moves on its timeline
    page = opportunity_timeline(opportunity_id=first.opportunity_id)
    assert [e.summary for e in page.items if e.kind == "opportunity_stage"][0].startswith("Proposal → Closed won")
    # the opportunity keeps its current stage from its Deal Stage; imported history fires nothing
    assert Opportunity.objects.get(source_id="902").stage == "negotiation"
    assert not SlaClock.objects.exists()
    # when the same file comes in again, nothing is added
    again = _import(files, "hubspot")
    assert again.status == ImportStatus.SUCCEEDED, again.problems
    assert OpportunityStageChange.objects.count() == 6
    assert again.summary["opportunity_stages"] == {} and again.summary["moved"] == []
    # given a later export: deal 902 was lost, and 901's Qualified To Buy date moved
    later = [dict(r) for r in rows]
    later[1].update({"Deal Stage": "Closed Lost", "Is closed lost": True, "Close Date": at("2026-04-01 10:00"),
                     "Closed Lost Reason": "No budget", entered("Closed Lost"): at("2026-04-01 10:00")})
    later[0][entered("Qualified To Buy")] = at("2026-03-06 09:00")
    run = _import([write_hubspot(tmp_path / "later.csv", "deals", later)], "hubspot")
    # then exactly the new move is appended; the moved date is reported and history is not rewritten
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["opportunity_stages"] == {"closed_lost": 1}
    assert _moves("902")[-1] == ("negotiation", "closed_lost", at("2026-04-01 10:00"))
    assert OpportunityStageChange.objects.count() == 7
    assert len(run.summary["moved"]) == 1 and "opportunity 901: qualification" in run.summary["moved"][0]
    assert _moves("901")[1][2] == at("2026-03-05 09:00")


def test_an_unknown_deal_stage_in_a_date_entered_column_is_refused_naming_the_column(active_playbook, tmp_path):
    rows = deal_rows()[:1]
    rows[0][entered("Legal Review")] = at("2026-03-15 10:00")
    run = _import([write_hubspot(tmp_path / "deals.csv", "deals", rows)], "hubspot")
    assert run.status == ImportStatus.REFUSED
    assert run.problems[0]["column"] == entered("Legal Review") and run.problems[0]["line"] == 2
    assert "deal_stages" in run.problems[0]["message"]
    assert not Opportunity.objects.exists() and not OpportunityStageChange.objects.exists()


HISTORY = [  # (opportunity, from, to, when): 006W climbs to won; Needs Analysis and Qualification mean one stage
    ("006W", "", "Prospecting", datetime(2026, 3, 20, 9, 0, tzinfo=UTC)),
    ("006W", "Prospecting", "Needs Analysis", datetime(2026, 3, 25, 15, 0, tzinfo=UTC)),
    ("006W", "Needs Analysis", "Qualification", datetime(2026, 3, 28, 10, 0, tzinfo=UTC)),
    ("006W", "Qualification", "Proposal/Price Quote", datetime(2026, 4, 14, 11, 0, tzinfo=UTC)),
    ("006W", "Proposal/Price Quote", "Closed Won", datetime(2026, 5, 14, 17, 0, tzinfo=UTC)),
    ("006O", "", "Prospecting", datetime(2026, 3, 20, 9, 30, tzinfo=UTC)),
    ("006O", "Prospecting", "Proposal/Price Quote", datetime(2026, 4, 22, 13, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize("layout", ["report", "dataloader"])
def test_the_salesforce_stage_history_report_imports_as_opportunity_history(active_playbook, tmp_path, layout):
    # given the opportunities and their stage history, as a report (From/To Stage, Last Modified) or Data Loader
    opportunities = opportunity_rows()
    if layout == "report":
        files = [write_salesforce_report(tmp_path / "opportunities.csv", "opportunities", opportunities),
                 write_salesforce_report(tmp_path / "history.csv", "opportunity_stage_history", [
                     {"Opportunity ID": o, "Opportunity Name": o, "From Stage": f, "To Stage": t, "Last Modified": w,
                      "Amount": "12000", "Probability (%)": "50", "Close Date": date(2026, 5, 14)}
                     for o, f, t, w in HISTORY])]
    else:
        files = [write_salesforce_dataloader(tmp_path / "opportunities.csv", "opportunities", [
                     {"Id": o["Opportunity ID"], "Name": o["Opportunity Name"], "StageName": o["Stage"],
                      "CreatedDate": o["Created Date"], "CloseDate": o["Close Date"], "IsWon": o["Won"],
                      "Amount": o["Amount"]} for o in opportunities]),
                 write_salesforce_dataloader(tmp_path / "history.csv", "opportunity_stage_history", [
                     {"Id": f"008{n:05d}", "OpportunityId": o, "StageName": t, "CreatedDate": w, "Amount": "12000",
                      "CloseDate": date(2026, 5, 14)} for n, (o, _, t, w) in enumerate(HISTORY)])]
    # when they are imported together
    run = _import(files, "salesforce")
    # then the history file is recognised and each opportunity's moves are recorded
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert [f["kind"] for f in run.files][1].startswith("opportunity_history")
    assert _moves("006W") == [("", "discovery", HISTORY[0][3]), ("discovery", "qualification", HISTORY[1][3]),
                              ("qualification", "proposal", HISTORY[3][3]), ("proposal", "closed_won", HISTORY[4][3])]
    assert _moves("006O") == [("", "discovery", HISTORY[5][3]), ("discovery", "proposal", HISTORY[6][3])]
    assert Opportunity.objects.get(source_id="006O").stage == "proposal"
    # when the history report comes in alone again, nothing is added
    again = _import(files[1:], "salesforce")
    assert again.status == ImportStatus.SUCCEEDED, again.problems
    assert OpportunityStageChange.objects.count() == 6 and again.summary["opportunity_stages"] == {}


def test_a_lead_report_naming_its_converted_contact_continues_on_the_contact(active_playbook, tmp_path):
    # given report exports where lead 2 (Closed - Converted) became contact 0, named in `Converted Contact: Contact ID`
    leads, contacts = lead_rows(4), contact_rows()
    lead, contact = leads[2], contacts[0]
    assert lead["Lead Status"] == "Closed - Converted"
    lead["Email"] = contact["Email"]
    contact["Created Date"] = datetime.combine(lead["Converted Date"], datetime.min.time(), tzinfo=UTC)
    for row in leads:
        row["Contact ID"] = contact["Contact ID"] if row is lead else ""
    files = [write_salesforce_report(tmp_path / "leads.csv", "leads", leads,
                                     prefix={"Contact ID": "Converted Contact"}),
             write_salesforce_report(tmp_path / "contacts.csv", "contacts", contacts,
                                     prefix={"Account ID": "Account", "Account Name": "Account"})]
    assert "Converted Contact: Contact ID" in files[0].read_text(encoding="utf-8").splitlines()[0]
    # when both come in together
    run = _import(files, "salesforce")
    # then the lead is the contact: no conflict, written once, the lead's history first
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["conflicts"] == []
    assert Contact.objects.count() == len(leads) + len(contacts) - 1
    person = Contact.objects.get(source_id=contact["Contact ID"])
    assert [(f, t) for f, t in StageChange.objects.filter(contact=person).order_by("occurred_at", "id")
            .values_list("from_stage", "to_stage")] == [("", "lead"), ("lead", "sql")]


def test_a_companies_export_gives_the_accounts_lifecycle_history(active_playbook, tmp_path):
    # given a HubSpot companies export with lifecycle stage dates, and one company with only its current stage
    life = 'Date entered "{} (Lifecycle Stage Pipeline)"'
    rows = [{"Record ID": "501", "Company name": "Acme", "Company Domain Name": "acme.example",
             "Lifecycle Stage": "Opportunity", "Create Date": at("2026-01-05 09:00"),
             life.format("Lead"): at("2026-01-05 09:00"), life.format("Opportunity"): at("2026-02-10 12:00")},
            {"Record ID": "502", "Company name": "Globex", "Company Domain Name": "globex.example",
             "Lifecycle Stage": "Lead", "Create Date": at("2026-01-07 10:00")}]
    files = [write_hubspot(tmp_path / "companies.csv", "companies", rows)]
    # when it is imported
    run = _import(files, "hubspot")
    # then each account's stages are its stage changes, and its cached stage is the latest
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    moves = list(StageChange.objects.filter(account__source_id="501").order_by("occurred_at")
                 .values_list("from_stage", "to_stage", "occurred_at"))
    assert moves == [("", "lead", at("2026-01-05 09:00")), ("lead", "opportunity", at("2026-02-10 12:00"))]
    assert list(StageChange.objects.filter(account__source_id="502").values_list("to_stage", flat=True)) == ["lead"]
    assert Account.objects.get(source_id="501").lifecycle_stage == "opportunity"
    # when it comes in again, nothing is added
    again = _import(files, "hubspot")
    assert again.summary["stages"] == {} and StageChange.objects.count() == 3
