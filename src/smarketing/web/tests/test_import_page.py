"""The Import page: RevOps upload a HubSpot export, read the dry run, confirm it on the stored files, follow a queued
run's progress (HTMX) and see every past run; others get 403 inside the site's layout."""

from __future__ import annotations

import hashlib
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from smarketing.crm.models import Contact
from smarketing.ingest.models import ImportRun
from smarketing.ingest.tests.test_api_imports import contact_row, contacts_export, run_worker
from smarketing.web.views.imports import run_counts, summary_view

EMAILS = {"ada1@upload.test", "ada2@upload.test"}


@pytest.fixture
def export() -> bytes:
    return contacts_export([contact_row(1), contact_row(2, stage="Sales Qualified Lead")])


def post_upload(client, body: bytes, name: str = "hubspot-contacts.csv", **fields: str):
    return client.post("/import/", {"files": [SimpleUploadedFile(name, body, content_type="text/csv")], **fields})


def test_revops_sees_the_form_and_the_nav_entry(login, active_playbook):
    response = login("revops").get("/import/")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'enctype="multipart/form-data"' in html and 'name="files"' in html and "multiple" in html
    assert re.search(r'<a href="/import/" aria-current="page">Import</a>', html)
    assert "No imports yet" in html


@pytest.mark.parametrize("role", ["marketing", "sales", "viewer"])
def test_others_get_403_inside_the_layout_and_no_nav_entry(login, active_playbook, role, export):
    client = login(role)
    page = client.get("/import/")
    posted = post_upload(client, export)
    html = page.content.decode()
    assert (page.status_code, posted.status_code) == (403, 403)
    assert "Only RevOps users can import files" in html
    assert 'aria-label="Main"' in html and 'href="/funnel/"' in html  # the layout is kept
    assert 'href="/import/"' not in login(role).get("/funnel/").content.decode()
    assert ImportRun.objects.count() == 0


def test_upload_shows_the_dry_run_then_confirm_imports_the_same_files(login, active_playbook, export):
    client = login("revops")
    # when RevOps uploads a HubSpot contacts export
    response = post_upload(client, export)
    # then they land on the dry run: the detected kind, the file's sha256, the summary and a Confirm button
    assert response.status_code == 302
    dry = ImportRun.objects.get()
    assert response["Location"] == f"/import/{dry.pk}/"
    html = client.get(response["Location"]).content.decode()
    assert f"Dry run #{dry.pk}" in html and 'data-kind="contacts"' in html
    assert hashlib.sha256(export).hexdigest()[:16] in html
    assert 'id="run-summary"' in html and 'id="confirm-form"' in html
    assert 'hx-trigger="every' not in html  # finished: nothing to poll
    assert not Contact.objects.filter(email__in=EMAILS).exists()
    # when they confirm
    confirmed = client.post(f"/import/{dry.pk}/confirm/")
    # then a real run over the same stored files has imported the contacts
    run = ImportRun.objects.exclude(pk=dry.pk).get()
    assert confirmed.status_code == 302 and confirmed["Location"] == f"/import/{run.pk}/"
    assert (run.dry_run, run.status, [f["sha256"] for f in run.files]) == (
        False, "succeeded", [f["sha256"] for f in dry.files])
    assert [f["path"] for f in run.files] == [f["path"] for f in dry.files]
    assert set(Contact.objects.filter(email__in=EMAILS).values_list("email", flat=True)) == EMAILS
    # and the page lists both runs, with who ran them and their files
    html = client.get(confirmed["Location"]).content.decode()
    assert f"Import #{run.pk}" in html and "is done" in html and 'id="confirm-form"' not in html
    runs = re.findall(r'<tr data-run="(\d+)" data-status="(\w+)">', html)
    assert runs == [(str(run.pk), "succeeded"), (str(dry.pk), "succeeded")]
    assert html.count("revops1") >= 2 and "hubspot-contacts.csv" in html


def test_a_queued_run_shows_its_progress_until_the_worker_has_imported_it(login, active_playbook, export, settings,
                                                                          django_capture_on_commit_callbacks):
    settings.SMARKETING_IMPORT_INLINE_BYTES = 100  # every upload goes to the worker
    client = login("revops")
    with django_capture_on_commit_callbacks(execute=True):
        response = post_upload(client, export)
    run = ImportRun.objects.get()
    # then the page says the run waits for the worker, and polls its panel
    html = client.get(response["Location"]).content.decode()
    assert run.status == "pending" and "Waiting for the task worker" in html
    assert f'hx-get="/import/{run.pk}/" hx-trigger="every 2s"' in html
    # when the worker has run, the polled panel shows the finished dry run and stops polling
    assert run_worker() == 1
    panel = client.get(f"/import/{run.pk}/", headers={"HX-Request": "true"})
    text = panel.content.decode()
    assert text.startswith('<section class="card" id="import-run"') and "<html" not in text
    assert 'data-status="succeeded"' in text and "hx-trigger" not in text and 'id="confirm-form"' in text
    # and the past runs list comes along out of band, with the run's new status and counts
    assert f'<tr data-run="{run.pk}" data-status="succeeded">' in text and 'id="past-runs"' in text
    assert 'hx-swap-oob="true"' in text and "contacts: 2 new, 0 updated" in text


def test_an_upload_over_the_bound_answers_413_on_the_page(login, active_playbook, export, settings):
    settings.SMARKETING_IMPORT_MAX_BYTES = 1000
    response = post_upload(login("revops"), export)
    html = response.content.decode()
    assert response.status_code == 413
    assert "the upload is larger than 1,000 bytes" in html and 'id="upload-form"' in html
    assert ImportRun.objects.count() == 0


def test_no_file_chosen_is_said_on_the_page(login, active_playbook):
    response = login("revops").post("/import/", {"system": "hubspot"})
    assert response.status_code == 422 and "choose one or more files" in response.content.decode()


def test_rejected_rows_of_a_skipping_import_are_downloaded_from_the_page(login, active_playbook):
    client = login("revops")
    rows = [contact_row(1), {**contact_row(2), "Create Date": "yesterday-ish"}]
    dry = client.post("/import/", {"files": [SimpleUploadedFile("c.csv", contacts_export(rows))],
                                   "skip_invalid": "on"})
    dry_run = ImportRun.objects.get()
    assert dry.status_code == 302 and dry_run.problems_count == 1
    html = client.get(dry["Location"]).content.decode()
    assert re.search(r'<td>c\.csv</td><td class="num">3</td><td>Create Date</td>', html)
    done = client.post(f"/import/{dry_run.pk}/confirm/", {"skip_invalid": "on"})
    html = client.get(done["Location"]).content.decode()
    link = re.search(r'href="(/import/\d+/rejected/c\.csv\.rejected\.csv)" download', html)
    assert link
    download = client.get(link.group(1))
    body = b"".join(download.streaming_content).decode()
    assert download.status_code == 200 and "yesterday-ish" in body and body.startswith("line,reason,")
    assert login("marketing").get(link.group(1)).status_code == 403


def test_a_file_that_is_not_an_export_is_refused_with_the_headers_expected_and_no_confirm(login, active_playbook):
    client = login("revops")
    response = post_upload(client, b"Name,Favourite colour\r\nAda,blue\r\n", name="notes.csv")
    html = client.get(response["Location"]).content.decode()
    assert 'data-status="refused"' in html and 'id="confirm-form"' not in html
    assert re.search(r'<td>notes\.csv</td><td class="num">1</td><td>header</td><td>[^<]*Record ID', html)


def test_the_summary_lays_out_deal_stage_moves_in_their_own_table():
    summary = {"opportunity_stages": {"discovery": 2, "closed_won": 1}, "opportunity_stage_changes": 3}
    view = summary_view(summary)
    assert view["deal_stages"] == [{"key": "discovery", "label": "Discovery", "count": 2},
                                   {"key": "closed_won", "label": "Closed won", "count": 1}]
    assert view["other"] == []  # not repeated among the figures the page has no place for
    assert run_counts(ImportRun(summary=summary, status="succeeded")) == "3 deal stage moves"
