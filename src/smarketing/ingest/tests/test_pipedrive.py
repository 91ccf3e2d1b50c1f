"""Pipedrive's deals export in through the shipped mapping: deals become opportunities (Open / Won / Lost, won and
lost times, the lost reason as feedback), the `Person - …` and `Organization - …` columns contacts and accounts;
the funnel equals the fixture's own counts, a re-import changes nothing, a later export appends exactly its new
moves, and bad rows are refused by file, line and column with nothing written."""

from __future__ import annotations

import json
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
from smarketing.ingest.tests.layouts import write_pipedrive
from smarketing.lifecycle.models import SlaClock, StageChange
from smarketing.team.models import User

STAGES = {"Qualified": "qualification", "Contact Made": "discovery", "Demo Scheduled": "proposal",
          "Proposal Made": "proposal", "Negotiations Started": "negotiation"}


def deal_rows(n: int) -> list[dict[str, Any]]:
    """n deals: every third won, every third lost, the rest open; persons shared by two deals each, four
    organizations, one deal without a person and one without an organization."""
    rows = []
    for i in range(n):
        status = ["Open", "Won", "Lost"][i % 3]
        person, org = i // 2, i % 4
        created = datetime(2026, 2, 1 + i, 9, 15, 5)
        row: dict[str, Any] = {
            "Deal - ID": str(100 + i), "Deal - Title": f"Deal {i}", "Deal - Value": str(1000 * (i + 1)),
            "Deal - Currency": "EUR", "Deal - Pipeline": "Sales", "Deal - Stage": list(STAGES)[i % len(STAGES)],
            "Deal - Status": status, "Deal - Owner": ["Paula Pipe", "Olav Owner"][i % 2],
            "Deal - Deal created": created, "Deal - Expected close date": date(2026, 6, 30),
            "Deal - Won time": datetime(2026, 4, 1 + i, 16, 0, 0) if status == "Won" else None,
            "Deal - Lost time": datetime(2026, 4, 1 + i, 17, 0, 0) if status == "Lost" else None,
            "Deal - Lost reason": "Price too high" if status == "Lost" else None,
            "Deal - Organization": f"Org {org}", "Deal - Contact person": f"Person {person}",
            "Person - ID": str(500 + person), "Person - Name": f"Person {person}",
            "Person - Email": f"person{person}@org{org}.example", "Person - Phone": "+33 1 23 45 67 89",
            "Person - Organization": f"Org {org}", "Organization - ID": str(900 + org),
            "Organization - Name": f"Org {org}", "Organization - Address": "1 rue de la Paix, Paris",
            "Organization - Owner": "Paula Pipe"}
        rows.append(row)
    for key in ("Deal - Contact person", "Person - ID", "Person - Name", "Person - Email", "Person - Phone",
                "Person - Organization"):
        rows[-1][key] = None  # the last deal has no person
    for key in ("Deal - Organization", "Organization - ID", "Organization - Name", "Organization - Address",
                "Organization - Owner"):
        rows[-2][key] = None  # the one before has no organization
    return rows


def _fix_emails(rows: list[dict[str, Any]]) -> None:
    """A person is one person on every deal: their first row's email (and organization) stand."""
    first: dict[str, dict[str, Any]] = {}
    for row in rows:
        if row["Person - ID"]:
            seen = first.setdefault(row["Person - ID"], row)
            row["Person - Email"] = seen["Person - Email"]


def _rows(n: int) -> list[dict[str, Any]]:
    rows = deal_rows(n)
    _fix_emails(rows)
    return rows


def _import(files: list[Path], **options: Any) -> ImportRun:
    run = import_run_create(files=files, system="pipedrive", dry_run=options.pop("dry_run", False), **options)
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


def test_deals_persons_and_organizations_come_in_and_the_funnel_equals_the_fixture(active_playbook, tmp_path):
    # given a deals export of 12 deals with their persons and organizations
    rows = _rows(12)
    path = write_pipedrive(tmp_path / "deals.csv", rows)
    persons = {r["Person - ID"] for r in rows if r["Person - ID"]}
    orgs = {r["Organization - ID"] for r in rows if r["Organization - ID"]}
    # a person becomes a customer when they are the contact of a won deal
    customers = {r["Person - ID"] for r in rows if r["Person - ID"] and r["Deal - Status"] == "Won"}
    # when it is imported (the kind detected from its header)
    code, out = _cli("import", "pipedrive", str(path), "--json")
    assert code == 0, out
    run = json.loads(out)
    # then deals, persons and organizations were created
    assert [f["kind"] for f in run["files"]] == ["deals"]
    assert run["summary"]["opportunities"] == {"created": 12, "updated": 0, "unchanged": 0}
    assert run["summary"]["contacts"] == {"created": len(persons), "updated": 0, "unchanged": 0}
    assert run["summary"]["accounts"] == {"created": len(orgs), "updated": 0, "unchanged": 0}
    assert sorted(run["summary"]["owners_created"]) == ["Olav Owner", "Paula Pipe"]
    # and the funnel from opportunity to customer reads the fixture's persons and won persons
    total = _funnel("--from", "opportunity", "--to", "customer")["total"]
    assert (total["entered"], total["converted"]) == (len(persons), len(customers))
    accounts = _funnel("--from", "opportunity", "--to", "customer", "--level", "account")["total"]
    # (an account converts when it or one of its contacts becomes a customer; a person's organization is the one
    # on their first row)
    person_org: dict[str, str] = {}
    for r in rows:
        if r["Person - ID"]:
            person_org.setdefault(r["Person - ID"], r["Organization - ID"])
    won_orgs = {r["Organization - ID"] for r in rows if r["Organization - ID"] and r["Deal - Status"] == "Won"}
    won_orgs |= {person_org[p] for p in customers if person_org[p]}
    assert (accounts["entered"], accounts["converted"]) == (len(orgs), len(won_orgs))
    # and each deal carries status, stage, amount, times, owner, organization and person
    won = Opportunity.objects.get(source="pipedrive", source_id="101")
    assert (won.outcome, won.stage, str(won.amount), won.currency) == ("won", "closed_won", "2000.00", "EUR")
    assert won.closed_at == datetime(2026, 4, 2, 16, 0, tzinfo=UTC)
    assert won.opened_at == datetime(2026, 2, 2, 9, 15, 5, tzinfo=UTC)
    assert (won.account.name, won.primary_contact.email) == ("Org 1", "person0@org0.example")
    assert won.owner == User.objects.get(first_name="Olav", last_name="Owner")
    lost = Opportunity.objects.get(source_id="102")
    assert (lost.outcome, lost.loss_reason, lost.closed_at) == ("lost", "Price too high",
                                                                datetime(2026, 4, 3, 17, 0, tzinfo=UTC))
    assert FeedbackItem.objects.filter(opportunity=lost).get().text == "Price too high"
    assert run["summary"]["loss_feedback"] == 4
    open_deal = Opportunity.objects.get(source_id="103")
    assert (open_deal.outcome, open_deal.stage) == ("open", STAGES[rows[3]["Deal - Stage"]])
    assert open_deal.closed_at == datetime(2026, 6, 30, tzinfo=UTC)  # the expected close date
    # and the deal without a person or an organization has none, the others link them
    assert Opportunity.objects.get(source_id="111").primary_contact is None
    assert Opportunity.objects.get(source_id="110").account is None
    assert Contact.objects.get(source_id="500").account.source_id == "900"
    # and the history is the import's past, no SLA clock
    assert SlaClock.objects.count() == 0


def test_a_reimport_changes_nothing_and_a_later_export_appends_exactly_its_new_moves(active_playbook, tmp_path):
    rows = _rows(9)
    assert _import([write_pipedrive(tmp_path / "deals.csv", rows)]).status == ImportStatus.SUCCEEDED
    before = _counts()
    # when the same export comes in again, nothing changes
    again = _import([write_pipedrive(tmp_path / "deals-again.csv", rows)])
    assert again.status == ImportStatus.SUCCEEDED, again.problems
    assert _counts() == before and FeedbackItem.objects.count() == 3
    assert again.summary["opportunities"] == {"created": 0, "updated": 0, "unchanged": 9}
    assert again.summary["stages"] == {} and again.summary["loss_feedback"] == 0
    # given a later export where open deal 103 was won
    later = [dict(r) for r in rows]
    later[3].update({"Deal - Status": "Won", "Deal - Won time": datetime(2026, 5, 20, 10, 0, 0)})
    run = _import([write_pipedrive(tmp_path / "deals-later.csv", later)])
    # then the deal is updated and exactly its person and organization become customers
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.summary["opportunities"] == {"created": 0, "updated": 1, "unchanged": 8}
    assert run.summary["stages"] == {"customer": 2}
    assert StageChange.objects.count() == before[3] + 2
    deal = Opportunity.objects.get(source_id="103")
    assert (deal.outcome, deal.closed_at) == ("won", datetime(2026, 5, 20, 10, 0, tzinfo=UTC))
    assert deal.account.is_customer


def _break_stage(rows: list[dict[str, Any]]) -> None:
    rows[2]["Deal - Stage"] = "Waiting for Godot"


def _break_status(rows: list[dict[str, Any]]) -> None:
    rows[4]["Deal - Status"] = "Maybe"


def _break_date(rows: list[dict[str, Any]]) -> None:
    rows[1]["Deal - Deal created"] = "2026-02-30 10:00:00"


def _break_email(rows: list[dict[str, Any]]) -> None:
    rows[6]["Person - Email"] = rows[0]["Person - Email"].upper()  # person 503 given person 500's email


@pytest.mark.parametrize("break_it, line, column, words", [
    (_break_stage, 4, "Deal - Stage", "'Waiting for Godot' is not in the playbook's deal_stages"),
    (_break_status, 6, "Deal - Status", "'Maybe' is not one of"),
    (_break_date, 3, "Deal - Deal created", "2026-02-30"),
    (_break_email, 8, "Email", "also on line 2"),
])
def test_bad_rows_are_refused_by_file_line_and_column_with_nothing_written(active_playbook, tmp_path, break_it,
                                                                            line, column, words):
    rows = _rows(8)
    break_it(rows)
    run = _import([write_pipedrive(tmp_path / "deals.csv", rows)])
    assert run.status == ImportStatus.REFUSED
    assert _counts() == (0, 0, 0, 0) and User.objects.count() == 0 and FeedbackItem.objects.count() == 0
    problem = run.problems[0]
    assert (problem["file"], problem["line"], problem["column"]) == ("deals.csv", line, column)
    assert words in problem["message"]


def test_an_unknown_header_is_refused_with_the_headers_expected(active_playbook, tmp_path):
    path = tmp_path / "activities.csv"
    path.write_text("Activity - ID,Activity - Subject\n1,Call\n", encoding="utf-8")
    run = import_run_create(files=[path], system="pipedrive", dry_run=False)
    assert run.status == ImportStatus.REFUSED
    assert "activities.csv" in run.error and "Deal - ID, Deal - Title, Deal - Status" in run.error


@pytest.mark.parametrize("change, field, words", [
    (lambda kinds: kinds["deals"].update({"also": ["people"]}), "kinds.deals.also.0", "no other file kind 'people'"),
    (lambda kinds: kinds["deals"].update({"also": ["deals"]}), "kinds.deals.also.0", "no other file kind 'deals'"),
    (lambda kinds: kinds["organizations"]["fields"].update({"budget": {"column": "Organization - Budget",
                                                                       "type": "number"}}),
     "kinds.organizations.fields.budget", "an account has no field 'budget'"),
])
def test_a_mapping_that_names_a_kind_it_lacks_is_refused_by_field(change, field, words):
    from importlib import resources

    import yaml

    from smarketing.core.errors import ValidationFailed
    from smarketing.ingest.mapping import mapping_parse

    data = yaml.safe_load(resources.files("smarketing.ingest").joinpath("mappings", "pipedrive.yaml").read_text())
    change(data["kinds"])
    with pytest.raises(ValidationFailed) as caught:
        mapping_parse(data, source="pipedrive.yaml")
    assert caught.value.field == field and words in str(caught.value)


def test_people_and_organizations_exports_on_their_own_are_the_deals_exports_records(active_playbook, tmp_path):
    # given Pipedrive's organizations and people exports
    orgs = write_pipedrive(tmp_path / "organizations.csv", [
        {"Organization - ID": str(900 + n), "Organization - Name": f"Org {n}", "Organization - Owner": "Paula Pipe",
         "Organization - Address": "1 rue de la Paix, Paris"} for n in range(4)],
        columns=["Organization - ID", "Organization - Name", "Organization - Owner", "Organization - Address"])
    people_columns = ["Person - ID", "Person - Name", "Person - First name", "Person - Last name", "Person - Email",
                      "Person - Organization", "Organization - ID", "Person - Owner", "Person - Person created"]
    people = write_pipedrive(tmp_path / "people.csv", [
        {"Person - ID": str(500 + n), "Person - Name": f"Pat Person{n}", "Person - First name": "Pat",
         "Person - Last name": f"Person{n}", "Person - Email": f"person{n}@org{n % 4}.example",
         "Person - Organization": f"Org {n % 4}", "Organization - ID": str(900 + n % 4),
         "Person - Owner": "Olav Owner", "Person - Person created": datetime(2026, 1, 10 + n, 8, 0, 0)}
        for n in range(6)], columns=people_columns)
    # when they are imported
    run = _import([orgs, people])
    # then they are accounts and contacts, each person a lead from their creation, linked to their organization
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert [f["kind"] for f in run.files] == ["organizations", "persons"]
    assert (run.summary["accounts"]["created"], run.summary["contacts"]["created"]) == (4, 6)
    pat = Contact.objects.get(source="pipedrive", source_id="502")
    assert (pat.first_name, pat.last_name, pat.account.name) == ("Pat", "Person2", "Org 2")
    assert run.summary["stages"] == {"lead": 6}
    # and a deals export naming the same persons and organizations updates them, it does not duplicate them
    deals = _import([write_pipedrive(tmp_path / "deals.csv", _rows(12))])
    assert deals.status == ImportStatus.SUCCEEDED, deals.problems
    assert deals.summary["accounts"]["created"] == 0 and deals.summary["contacts"]["created"] == 0
    assert Contact.objects.count() == 6 and Account.objects.count() == 4
    assert Opportunity.objects.get(source_id="101").primary_contact == Contact.objects.get(source_id="500")
