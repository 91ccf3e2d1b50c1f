"""/api/imports: a HubSpot export uploaded as a dry run writes nothing, its confirmation imports the stored files,
large uploads are queued for the worker, the bounds and roles are enforced, and every run is listed."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from smarketing.crm.models import Contact
from smarketing.ingest.models import ImportRun
from smarketing.ingest.tests.layouts import write_hubspot
from smarketing.ingest.uploads import safe_name, uploads_root

pytestmark = pytest.mark.django_db(transaction=False)

EMAILS = [f"ada{n}@upload.test" for n in range(1, 4)]
ENTERED = 'Date entered "{} (Lifecycle Stage Pipeline)"'


def contact_row(n: int, *, stage: str = "Marketing Qualified Lead", source: str = "Organic Search",
                created: str = "2026-02-07 11:17", last: str = "Importer") -> dict[str, str]:
    """HubSpot contact n: created as a lead, then at `stage` three days later (the stage dates HubSpot exports)."""
    row = {"Record ID": str(7000 + n), "First Name": f"Ada{n}", "Last Name": last, "Email": f"ada{n}@upload.test",
           "Create Date": created, "Lifecycle Stage": stage, "Original Traffic Source": source,
           "Job Title": "Head of Growth", "Country/Region": "France", ENTERED.format("Lead"): created}
    if stage != "Lead":
        row[ENTERED.format(stage)] = created.replace("-07 ", "-10 ")
    return row


def contacts_export(rows: list[dict[str, str]]) -> bytes:
    """A HubSpot contacts export's bytes, as the portal writes it (the real 311-column header, every cell quoted,
    a BOM), through the shared fixture writer."""
    with tempfile.TemporaryDirectory() as folder:
        return write_hubspot(Path(folder) / "contacts.csv", "contacts", rows).read_bytes()


@pytest.fixture
def export() -> bytes:
    return contacts_export([contact_row(1), contact_row(2, stage="Sales Qualified Lead"),
                            contact_row(3, stage="Lead", source="Paid Social")])


def upload(api: Any, files: dict[str, bytes], role: str = "revops", **fields: str) -> Any:
    data: dict[str, Any] = {"files": [SimpleUploadedFile(name, body, content_type="text/csv")
                                      for name, body in files.items()], **fields}
    return api.client.post("/api/imports", data, headers={"Authorization": f"Bearer {api.tokens[role]}"})


def stored_folders() -> set[Path]:
    root = uploads_root()
    return set(root.iterdir()) if root.is_dir() else set()


def run_worker() -> int:
    """Run the ready tasks as `smarketing worker` does (claim, call, record); how many ran."""
    from django_tasks_db.models import DBTaskResult

    ran = 0
    for row in DBTaskResult.objects.ready().order_by("enqueued_at"):
        row.claim("test-worker")
        args = row.args_kwargs
        row.set_successful(row.task.func(*args["args"], **args["kwargs"]))
        ran += 1
    return ran


def test_a_dry_run_reports_the_files_and_writes_nothing_then_confirm_imports_the_stored_files(api, active_playbook,
                                                                                              export):
    # given a HubSpot contacts export
    before = stored_folders()
    # when RevOps uploads it (a dry run by default)
    response = upload(api, {"hubspot-contacts.csv": export})
    # then the run is done inline, names the file with its sha256, and nothing is written
    assert response.status_code == 201, response.content
    dry = response.json()
    assert (dry["dry_run"], dry["status"], dry["system"]) == (True, "succeeded", "hubspot")
    assert dry["files"] == [{"name": "hubspot-contacts.csv", "sha256": hashlib.sha256(export).hexdigest(),
                             "size": len(export), "kind": "contacts"}]
    assert dry["actor"] == "revops1" and dry["problems"] == [] and dry["summary"]
    assert not Contact.objects.filter(email__in=EMAILS).exists()
    # and the file is kept in a folder of its own under the data folder, byte for byte
    (folder,) = stored_folders() - before
    assert folder.parent == Path(django_settings.DATA_DIR) / "imports"
    assert (folder / "hubspot-contacts.csv").read_bytes() == export
    # when RevOps confirms the dry run
    confirmed = api.client.post(f"/api/imports/{dry['id']}/confirm", {}, content_type="application/json",
                                headers={"Authorization": f"Bearer {api.tokens['revops']}"})
    # then the same stored files are imported (no new upload folder) and the contacts exist
    assert confirmed.status_code == 201, confirmed.content
    run = confirmed.json()
    assert (run["dry_run"], run["status"], run["files"]) == (False, "succeeded", dry["files"])
    assert stored_folders() - before == {folder}
    assert set(Contact.objects.filter(email__in=EMAILS).values_list("email", flat=True)) == set(EMAILS)
    # and both runs are listed, newest first, and each can be read back
    listed = api.get("/api/imports").json()
    assert listed["total"] == 2 and [r["id"] for r in listed["items"]] == [run["id"], dry["id"]]
    assert api.get(f"/api/imports/{run['id']}").json() == run
    assert api.get("/api/imports", status="succeeded").json()["total"] == 2


def test_the_run_never_shows_the_server_path_of_its_files(api, active_playbook, export):
    response = upload(api, {"contacts.csv": export})
    text = response.content.decode()
    assert response.status_code == 201
    assert str(django_settings.DATA_DIR) not in text and "path" not in response.json()["files"][0]


@pytest.mark.parametrize("role", ["marketing", "sales", "viewer"])
def test_only_revops_imports_or_reads_the_runs(api, active_playbook, export, role):
    # when another role uploads, lists or reads a run
    posted = upload(api, {"contacts.csv": export}, role=role)
    listed = api.get("/api/imports", role=role)
    # then each is refused with the house error shape, and nothing is stored or recorded
    assert (posted.status_code, listed.status_code) == (403, 403)
    assert posted.json()["code"] == listed.json()["code"] == "forbidden"
    assert ImportRun.objects.count() == 0


def test_an_upload_over_the_bound_is_refused_with_413_and_nothing_is_kept(api, active_playbook, export, settings):
    # given a bound smaller than the export
    settings.SMARKETING_IMPORT_MAX_BYTES = len(export) // 2
    before = stored_folders()
    # when it is uploaded
    response = upload(api, {"contacts.csv": export})
    # then 413 too_large names the bound, and neither a file nor a run is left
    assert response.status_code == 413
    body = response.json()
    assert body["code"] == "too_large" and f"{len(export) // 2:,} bytes" in body["message"]
    assert stored_folders() == before and ImportRun.objects.count() == 0


def test_a_large_upload_is_queued_and_the_worker_imports_it_with_progress(api, active_playbook, export, settings,
                                                                            django_capture_on_commit_callbacks):
    # given files above the inline bound
    settings.SMARKETING_IMPORT_INLINE_BYTES = 100
    # when RevOps uploads them for real
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(api, {"contacts.csv": export}, dry_run="false")
    # then the answer is 202 with the pending run, and nothing is imported yet
    assert response.status_code == 202, response.content
    pending = response.json()
    assert (pending["status"], pending["dry_run"]) == ("pending", False)
    assert not Contact.objects.filter(email__in=EMAILS).exists()
    # when the worker runs
    assert run_worker() == 1
    # then the run has succeeded with its progress complete, and the contacts exist
    done = api.get(f"/api/imports/{pending['id']}").json()
    assert done["status"] == "succeeded" and done["finished_at"]
    assert done["progress"]["total"] and done["progress"]["done"] == done["progress"]["total"]
    assert Contact.objects.filter(email__in=EMAILS).count() == 3


def test_a_run_left_running_by_a_dead_worker_is_imported_when_its_task_is_given_back(api, active_playbook, export,
                                                                                     settings):
    from smarketing.ingest.tasks import import_run_task

    # given a queued import whose worker died mid-run (its transaction rolled back: nothing written)
    settings.SMARKETING_IMPORT_INLINE_BYTES = 100
    run = upload(api, {"contacts.csv": export}, dry_run="false").json()
    ImportRun.objects.filter(pk=run["id"]).update(status="running", progress={"step": "contacts", "done": 1,
                                                                                "total": 3})
    # when the queue gives the task back and it runs again
    result = import_run_task.func(run["id"])
    # then the run is imported from the start
    assert result["status"] == "succeeded"
    assert Contact.objects.filter(email__in=EMAILS).count() == 3


def test_the_task_leaves_a_finished_run_alone(api, active_playbook, export):
    from smarketing.ingest.tasks import import_run_task

    run = upload(api, {"contacts.csv": export}).json()
    result = import_run_task.func(run["id"])
    assert result["skipped"] is True and api.get(f"/api/imports/{run['id']}").json() == run


def test_a_file_the_importer_does_not_recognise_is_refused_naming_the_file_and_the_expected_headers(
        api, active_playbook):
    response = upload(api, {"notes.csv": b"Name,Favourite colour\r\nAda,blue\r\n"})
    assert response.status_code == 201, response.content
    run = response.json()
    assert run["status"] == "refused" and run["problems_count"] == 1
    (problem,) = run["problems"]
    assert (problem["file"], problem["line"], problem["column"]) == ("notes.csv", 1, "header")
    assert "Record ID" in problem["message"]  # the headers a HubSpot export has
    assert not Contact.objects.filter(first_name="Ada").exists()
    confirm = api.client.post(f"/api/imports/{run['id']}/confirm", {}, content_type="application/json",
                              headers={"Authorization": f"Bearer {api.tokens['revops']}"})
    assert confirm.status_code == 422 and "notes.csv is not an export" in confirm.json()["message"]
    assert ImportRun.objects.count() == 1


def test_a_bad_time_zone_is_422_naming_the_field_and_keeps_no_file(api, active_playbook, export):
    before = stored_folders()
    response = upload(api, {"contacts.csv": export}, timezone="Mars/Olympus")
    assert response.status_code == 422 and response.json()["field"] == "timezone"
    assert stored_folders() == before and ImportRun.objects.count() == 0


def test_problems_are_listed_by_file_line_and_column_and_confirming_without_skipping_writes_nothing(
        api, active_playbook):
    rows = [contact_row(1), {**contact_row(2), "Create Date": "not a date"}]
    dry = upload(api, {"contacts.csv": contacts_export(rows)}).json()
    assert dry["problems_count"] >= 1
    assert {"file": "contacts.csv", "line": 3, "column": "Create Date"} in [
        {k: p[k] for k in ("file", "line", "column")} for p in dry["problems"]]
    headers = {"Authorization": f"Bearer {api.tokens['revops']}"}
    refused = api.client.post(f"/api/imports/{dry['id']}/confirm", {}, content_type="application/json",
                              headers=headers).json()
    assert refused["status"] == "refused" and not Contact.objects.filter(email__in=EMAILS).exists()
    skipped = api.client.post(f"/api/imports/{dry['id']}/confirm", {"skip_invalid": True},
                              content_type="application/json", headers=headers).json()
    assert (skipped["status"], skipped["skip_invalid"]) == ("succeeded", True)
    assert list(Contact.objects.filter(email__in=EMAILS).values_list("email", flat=True)) == [EMAILS[0]]
    assert skipped["rejected_file"] == "contacts.csv.rejected.csv"
    # and the rejected rows can be downloaded, the bad row with its reason
    download = api.client.get(f"/api/imports/{skipped['id']}/rejected/contacts.csv.rejected.csv", headers=headers)
    assert download.status_code == 200 and download["Content-Type"] == "text/csv"
    lines = b"".join(download.streaming_content).decode().splitlines()
    assert lines[0].startswith("line,reason,") and len(lines) == 2 and lines[1].startswith("3,")
    assert "Create Date" in lines[1] and "ada2@upload.test" in lines[1]
    other = api.client.get(f"/api/imports/{skipped['id']}/rejected/..%2Fcontacts.csv", headers=headers)
    assert other.status_code == 404


@pytest.mark.parametrize(("fields", "files", "field"), [
    ({"dry_run": "maybe"}, {"c.csv": b"x"}, "dry_run"),
    ({"skip_invalid": "2"}, {"c.csv": b"x"}, "skip_invalid"),
    ({"dryrun": "true"}, {"c.csv": b"x"}, "dryrun"),
    ({}, {}, "files"),
])
def test_bad_form_fields_are_422_naming_the_field(api, active_playbook, fields, files, field):
    response = upload(api, files, **fields)
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error" and response.json()["field"] == field
    assert ImportRun.objects.count() == 0


def test_only_a_finished_dry_run_can_be_confirmed(api, active_playbook, export):
    run = upload(api, {"contacts.csv": export}, dry_run="false").json()
    headers = {"Authorization": f"Bearer {api.tokens['revops']}"}
    again = api.client.post(f"/api/imports/{run['id']}/confirm", {}, content_type="application/json", headers=headers)
    missing = api.client.post("/api/imports/999999/confirm", {}, content_type="application/json", headers=headers)
    assert again.status_code == 422 and "not a dry run" in again.json()["message"]
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert api.get("/api/imports/999999").status_code == 404


@pytest.mark.parametrize(("given", "stored"), [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("C:\\Users\\ana\\HubSpot export (2).csv", "HubSpot export _2_.csv"),
    (".hidden.csv", "hidden.csv"),
    ("contacts;rm -rf.csv", "contacts_rm -rf.csv"),
    ("", "upload.csv"),
    ("Société – contacts.csv", "Société _ contacts.csv"),
    ("é" * 300 + ".csv", "é" * 116 + ".csv"),
])
def test_uploaded_names_are_sanitised(given, stored):
    assert safe_name(given) == stored
