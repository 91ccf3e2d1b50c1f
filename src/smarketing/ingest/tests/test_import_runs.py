"""Every import is recorded as an ImportRun (CLI included): files with their sha256, status, summary, problems; and
rows meet the records already there by external id, email or domain, with conflicts reported, never merged."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.crm.models import Account, Contact
from smarketing.crm.services import account_create, contact_create
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.models import ImportRun
from smarketing.ingest.services import import_detect, import_run_create, import_run_execute
from smarketing.ingest.tests import hubspot_files as hs
from smarketing.lifecycle.models import StageChange

pytestmark = pytest.mark.skipif(not hs.EXPORTS.is_dir(), reason="../shared/datasets/crm_exports is absent")


def _run(files: list[Path], **options: Any) -> ImportRun:
    return import_run_execute(run=import_run_create(files=files, system="hubspot", dry_run=False, **options))


def test_the_cli_records_each_run_with_its_files_hashes_and_outcome(active_playbook, tmp_path):
    contacts = hs.write_contacts(tmp_path / "contacts.csv", hs.contact_rows(5))
    deals = hs.write_deals(tmp_path / "deals.csv", hs.deal_rows())
    result = CliRunner().invoke(build_app(), ["import", "hubspot", str(contacts), str(deals)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "contacts: 5 created, 0 updated, 0 unchanged" in result.output
    run = ImportRun.objects.get()
    assert (run.status, run.system, run.mapping, run.dry_run, run.actor) == ("succeeded", "hubspot", "hubspot", False,
                                                                             None)
    assert [(f["name"], f["kind"], f["size"]) for f in run.files] == [
        ("contacts.csv", "contacts", contacts.stat().st_size), ("deals.csv", "deals", deals.stat().st_size)]
    assert run.files[0]["sha256"] == hashlib.sha256(contacts.read_bytes()).hexdigest()
    assert run.started_at <= run.finished_at and run.progress["step"] == "history"
    assert run.summary["files"][0] == {"name": "contacts.csv", "kind": "contacts", "rows": 5, "rejected": 0,
                                       "unused_columns": run.summary["files"][0]["unused_columns"]}
    # no company file came: the 5 contacts' and 3 deals' companies are counted as references left unresolved
    assert run.summary["unresolved_refs"] == 8
    # a finished run is history: executing it again changes nothing
    assert import_run_execute(run=run).summary == run.summary
    assert ImportRun.objects.count() == 1


def test_a_refused_run_is_recorded_with_its_problems_and_the_cli_exits_2(active_playbook, tmp_path):
    rows = hs.contact_rows(3)
    rows[1]["Email"] = "two@@example.com x"
    path = hs.write_contacts(tmp_path / "contacts.csv", rows)
    result = CliRunner().invoke(build_app(), ["import", "hubspot", str(path), "--json"], catch_exceptions=False)
    assert result.exit_code == 2
    data = json.loads(result.output)
    run = ImportRun.objects.get()
    assert data["id"] == run.pk and run.status == ImportStatus.REFUSED and run.problems_count == 1
    assert run.problems == [{"file": "contacts.csv", "line": 3, "column": "Email",
                             "message": "'two@@example.com x' is not an email address"}]
    assert "nothing was written" in run.error
    assert Contact.objects.count() == 0


def test_detect_names_each_files_system_and_kind(active_playbook, tmp_path):
    contacts = hs.write_contacts(tmp_path / "c.csv", hs.contact_rows(1))
    companies = hs.write_companies(tmp_path / "a.csv", hs.company_rows())
    found = import_detect(files=[contacts, companies])
    assert [(f.system, f.kind, f.mapping) for f in found] == [("hubspot", "contacts", "hubspot"),
                                                               ("hubspot", "companies", "hubspot")]


def test_rows_meet_existing_records_by_email_and_domain_and_conflicts_are_reported(active_playbook, tmp_path):
    # given a contact typed in by hand, one from another system, and a company typed in by hand
    by_hand = contact_create(email="ann0@example0.com", first_name="Ann")
    other = contact_create(email="ann1@example1.com", first_name="Ann", source="salesforce", source_id="003A")
    acme = account_create(name="Company 0 (typed)", domain="example0.com")
    # when HubSpot contacts and companies with those emails and domain come in
    files = [hs.write_contacts(tmp_path / "contacts.csv", hs.contact_rows(3)),
             hs.write_companies(tmp_path / "companies.csv", hs.company_rows())]
    run = _run(files)
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    # then the hand-typed contact and company take HubSpot's keys, the other system's contact keeps its own
    by_hand.refresh_from_db()
    other.refresh_from_db()
    acme.refresh_from_db()
    assert (by_hand.source, by_hand.source_id, by_hand.last_name) == ("hubspot", "1000", "Lee")
    assert (other.source, other.source_id, other.last_name) == ("salesforce", "003A", "Lee")
    assert (acme.source, acme.source_id, acme.name) == ("hubspot", "500", "Company 0")
    assert Contact.objects.count() == 3 and Account.objects.count() == 3
    assert run.summary["contacts"] == {"created": 1, "updated": 2, "unchanged": 0}
    # and the other system's contact got its HubSpot history under HubSpot's keys
    assert StageChange.objects.filter(contact=other, source_key__startswith="hubspot:contact:1001:").exists()
    # a re-import finds them all again: nothing changes
    again = _run(files)
    assert again.summary["contacts"] == {"created": 0, "updated": 0, "unchanged": 3}
    # given a later export where another HubSpot record carries contact 1000's email
    rows = hs.contact_rows(3)
    rows.append({**rows[0], "Record ID": "1999"})
    run = _run([hs.write_contacts(tmp_path / "later.csv", rows)])
    # then the conflict is reported at its line and nothing is merged or written
    assert run.status == ImportStatus.REFUSED
    assert run.problems[0]["line"] == 5 and run.problems[0]["column"] == "Email"
    assert "ann0@example0.com" in run.problems[0]["message"]
    assert run.summary["conflicts"] and Contact.objects.count() == 3


def test_the_older_contacts_layout_imports_with_its_became_dates(active_playbook, tmp_path):
    header = ["Contact ID", "First Name", "Last Name", "Email", "Lifecycle Stage", "Original Source",
              "Original Source Drill-Down 1", "Create Date", "Became a Lead Date",
              "Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date",
              "Became an Opportunity Date", "Became a Customer Date", "Associated Company ID"]
    rows = [["51", "Old", "One", "old1@example.com", "Customer", "Organic Search", "google", "2025-11-02 10:00",
             "2025-11-02 10:00", "2025-11-20 10:00", "", "2025-12-01 10:00", "2026-01-15 10:00", ""],
            ["52", "Old", "Two", "old2@example.com", "Subscriber", "Paid Search", "", "2025-11-03 10:00",
             "", "", "", "", "", ""]]
    path = tmp_path / "old-contacts.csv"
    path.write_text("\r\n".join(",".join(f'"{c}"' for c in r) for r in [header, *rows]) + "\r\n", encoding="utf-8")
    run = _run([path])
    assert run.status == ImportStatus.SUCCEEDED, run.problems
    assert run.files[0]["kind"] == "contacts_legacy"
    assert run.summary["stages"] == {"customer": 1, "lead": 2, "mql": 1, "opportunity": 1}
    one = Contact.objects.get(source_id="51")
    assert one.lifecycle_stage == "customer"
    assert list(StageChange.objects.filter(contact=one).order_by("occurred_at").values_list("from_stage", "to_stage")) \
        == [("", "lead"), ("lead", "mql"), ("mql", "opportunity"), ("opportunity", "customer")]
    # a subscriber with no stage date is a lead since it was created
    two = Contact.objects.get(source_id="52")
    assert StageChange.objects.get(contact=two).occurred_at.isoformat() == "2025-11-03T10:00:00+00:00"


def test_the_vocabulary_is_the_playbooks_and_an_older_version_without_one_reads_the_shipped_default(
        active_playbook, users, tmp_path):
    from smarketing.playbook.services import playbook_draft_create, playbook_sign_off

    path = hs.write_contacts(tmp_path / "contacts.csv", hs.contact_rows(2))
    run = import_run_execute(run=import_run_create(files=[path], system="hubspot", dry_run=True))
    assert run.summary["vocabulary"] == "playbook v1"
    # given a version signed before the playbook had a vocabulary
    content = dict(active_playbook.content)
    content.pop("vocabulary")
    v2 = playbook_draft_create(content=content)
    playbook_sign_off(version=v2, user=users["marketing"])
    playbook_sign_off(version=v2, user=users["sales"])
    run = import_run_execute(run=import_run_create(files=[path], system="hubspot", dry_run=True))
    assert run.status == ImportStatus.SUCCEEDED, (run.error, run.problems)
    assert run.summary["vocabulary"] == "shipped default (playbook v2 has no vocabulary yet)"


def test_the_past_does_not_fire_scores_are_rebuilt_by_the_worker_afterwards(active_playbook, tmp_path,
                                                                             django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from smarketing.lifecycle.models import Notification, SlaClock

    files = [hs.write_contacts(tmp_path / "contacts.csv", hs.contact_rows(6)),
             hs.write_companies(tmp_path / "companies.csv", hs.company_rows()),
             hs.write_deals(tmp_path / "deals.csv", hs.deal_rows())]
    with django_capture_on_commit_callbacks(execute=True) as dry:
        import_run_execute(run=import_run_create(files=files, system="hubspot", dry_run=True))
    assert dry == [] and DBTaskResult.objects.count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        run = _run(files)
    assert run.status == ImportStatus.SUCCEEDED
    # one rescoring for the whole import and the lost deal's reason sorted into themes, both queued; no deal
    # outcome act, SLA clock or notification for the past
    # (the history store's debounced catch-up, which every committed write to a table it mirrors asks for, is left
    # out: whether this import queues its own depends on one an earlier write queued a moment before)
    paths = sorted(p.rsplit(".", 1)[-1] for p in DBTaskResult.objects.values_list("task_path", flat=True)
                   if not p.endswith(".store_catch_up_task"))
    assert paths == ["scores_rebuild_all_task", "themes_assign_new_task"]
    assert SlaClock.objects.count() == 0 and Notification.objects.count() == 0
