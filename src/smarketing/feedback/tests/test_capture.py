"""Capture from every source: web form, API, CSV import, lost opportunities, handoff rejections; bad texts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smarketing.core.errors import NotFound, ValidationFailed
from smarketing.feedback.capture import (
    feedback_capture,
    feedback_capture_opportunity_losses,
    feedback_import_csv,
    guess_kind,
)
from smarketing.feedback.forms import FeedbackCaptureForm
from smarketing.feedback.models import FeedbackItem
from smarketing.feedback.services import MAX_TEXT, feedback_record
from smarketing.testing.factories import AccountFactory, ContactFactory, OpportunityFactory

WHEN = datetime(2026, 5, 4, 9, tzinfo=UTC)


def run_cli(args: list[str]) -> int:
    from smarketing.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_web_form_captures_with_guessed_kind_and_links_the_account(db, users):
    # Given a form filled by a seller with an account and no kind
    account = AccountFactory()
    form = FeedbackCaptureForm(data={"text": "They went with Globex because of the bundle.", "account": account.pk})
    # When it is captured
    item = form.capture(author=users["sales"])
    # Then the item is stored from the web source, kind guessed, author and account kept
    assert item is not None and item.source == "web" and item.kind == "competitor"
    assert item.author == users["sales"] and item.account == account


def test_web_form_reports_a_blank_text_on_the_field(db, users):
    form = FeedbackCaptureForm(data={"text": "   "})
    assert form.capture(author=users["sales"]) is None
    assert "text" in form.errors
    assert FeedbackItem.objects.count() == 0


def test_web_form_maps_control_character_only_text_to_a_field_error(db, users):
    form = FeedbackCaptureForm(data={"text": "\x01\x02\x03"})
    assert form.capture(author=users["sales"]) is None
    assert "control characters" in str(form.errors["text"])


def test_api_quick_capture_is_idempotent_by_source_id(api):
    # Given a quick capture with a source id, sent twice
    body = {"text": "Pricing is too high for a team our size.", "source_id": "note-17"}
    first = api.post("/api/loop/feedback", body, role="sales")
    second = api.post("/api/loop/feedback", body, role="sales")
    # Then the first creates (201) and the second returns the same item (200)
    assert first.status_code == 201, first.content
    assert second.status_code == 200 and second.json()["id"] == first.json()["id"]
    assert first.json()["source"] == "api" and first.json()["kind"] == "objection"
    assert FeedbackItem.objects.count() == 1


def test_api_quick_capture_names_the_missing_account(api):
    # an id in the body that names no record is a bad field of the request (422), as for every API write
    res = api.post("/api/loop/feedback", {"text": "Love it", "account_id": 999}, role="sales")
    assert res.status_code == 422
    assert res.json()["field"] == "account_id" and "999" in res.json()["message"]


def test_viewer_cannot_capture(api):
    res = api.post("/api/loop/feedback", {"text": "Love it"}, role="viewer")
    assert res.status_code == 403


def test_lost_opportunities_become_feedback_once(db, users):
    # Given two lost deals with reasons, one lost without a reason and one open deal
    contact = ContactFactory()
    lost = OpportunityFactory(account=contact.account, primary_contact=contact, outcome="lost", stage="closed_lost",
                              loss_reason="Chose Acme: cheaper per seat", closed_at=WHEN, owner=users["sales"])
    OpportunityFactory(outcome="lost", loss_reason="No budget this year", closed_at=WHEN)
    OpportunityFactory(outcome="lost", loss_reason="")
    OpportunityFactory(outcome="open", loss_reason="")
    # When losses are captured twice
    first = feedback_capture_opportunity_losses()
    second = feedback_capture_opportunity_losses()
    # Then each reason became one item, linked to its deal, account, contact and owner
    assert (first.created, first.existing) == (2, 0)
    assert (second.created, second.existing) == (0, 2)
    item = FeedbackItem.objects.get(source="opportunity_loss", source_id=str(lost.pk))
    assert item.kind == "loss_reason" and item.opportunity == lost and item.account == contact.account
    assert item.contact == contact and item.author == users["sales"] and item.occurred_at == WHEN


def test_handoff_rejection_reason_is_recorded_with_its_source(db, users):
    # Given the handoff app recording a rejection reason (its way into the loop)
    contact = ContactFactory()
    item, created = feedback_record(kind="rejection_reason", text="Student, not a buyer", occurred_at=WHEN,
                                    source="handoff_rejection", source_id="handoff:42", contact=contact,
                                    author=users["sales"])
    again, created_again = feedback_record(kind="rejection_reason", text="Student, not a buyer", occurred_at=WHEN,
                                           source="handoff_rejection", source_id="handoff:42", contact=contact)
    # Then it is stored once with the contact's account
    assert created and not created_again and again.pk == item.pk
    assert item.account == contact.account


CSV_OK = (
    "id,text,kind,date,account_domain,contact_email\n"
    "r1,They need SSO with Okta before rollout,feature request,2026-03-02,{domain},{email}\n"
    "r2,\"Price is too high, they asked for 20% off\",objection,2026-03-05T10:00:00Z,,\n"
    "r3,Ils trouvent le produit trop cher pour leur équipe,,2026-03-06,,\n"
)


def test_csv_import_is_transactional_and_idempotent(db):
    # Given a CSV with ids, an alias kind, ISO dates, an account domain and a contact email
    contact = ContactFactory()
    data = CSV_OK.format(domain=contact.account.domain, email=contact.email)
    # When it is imported twice
    first = feedback_import_csv(data=data.encode())
    second = feedback_import_csv(data=data.encode())
    # Then three items exist once, linked and typed
    assert (first.rows, first.created, first.existing) == (3, 3, 0)
    assert (second.created, second.existing) == (0, 3)
    sso = FeedbackItem.objects.get(source="csv", source_id="r1")
    assert sso.kind == "feature_request" and sso.account == contact.account and sso.contact == contact
    assert FeedbackItem.objects.get(source_id="r2").occurred_at == datetime(2026, 3, 5, 10, tzinfo=UTC)
    assert FeedbackItem.objects.get(source_id="r3").text.startswith("Ils trouvent")


def test_csv_without_ids_is_idempotent_by_content(db):
    data = "text\nThey need a mobile app\nSupport was slow\n"
    assert feedback_import_csv(data=data).created == 2
    assert feedback_import_csv(data=data).created == 0


def test_csv_errors_name_every_row_and_field_and_nothing_is_written(db):
    # Given a file with one good row and several bad ones
    huge = "x" * (MAX_TEXT + 1)
    data = ("id,text,kind,date,account_id\n"
            "a,Good row,objection,2026-01-01,\n"
            "b,,objection,2026-01-01,\n"
            "c,Bad kind,gossip,2026-01-01,\n"
            "d,Bad date,objection,01/13/2026,\n"
            f"e,{huge},objection,2026-01-01,\n"
            "f,Unknown account,objection,2026-01-01,424242\n")
    # When it is imported
    with pytest.raises(ValidationFailed) as exc:
        feedback_import_csv(data=data)
    # Then the error names each bad row and field, and nothing was imported
    problems = {(d["row"], d["field"]) for d in exc.value.details}
    assert problems == {(2, "text"), (3, "kind"), (4, "occurred_at"), (5, "text"), (6, "account_id")}
    assert "nothing was imported" in exc.value.message and "row 3 (line 4), kind" in exc.value.message
    assert FeedbackItem.objects.count() == 0


def test_csv_skip_invalid_imports_the_rest_and_returns_rejects(db):
    data = "id,text,kind\na,Good row,objection\nb,,objection\nc,Another good one,praise\n"
    report = feedback_import_csv(data=data, skip_invalid=True)
    assert report.created == 2
    assert report.rejected == [{"id": "b", "text": "", "kind": "objection", "error": "text: is empty"}]


@pytest.mark.parametrize(("data", "field", "fragment"), [
    (b"text\nfine\n\xff\xfe broken\n", "(file)", "line 3"),
    ("", "(file)", "empty"),
    ("comment_body,who\nhello,me\n", "text", "no text column"),
    ("text\nok\x00\n", "(file)", "NUL"),
    ('text\n"unterminated\n', "(file)", None),
])
def test_malformed_files_are_refused_with_a_clear_error(db, data, field, fragment):
    try:
        report = feedback_import_csv(data=data)
    except ValidationFailed as exc:
        assert exc.field == field
        if fragment:
            assert fragment in exc.message
        assert FeedbackItem.objects.count() == 0
    else:
        # an unterminated quote is read by csv as one cell up to the end: it is imported, not lost
        assert report.created == 1 and FeedbackItem.objects.get().text == "unterminated"


def test_semicolon_files_and_bom_are_read(db):
    data = "\ufefftext;kind\nNeed EU data residency;objection\n".encode()
    assert feedback_import_csv(data=data).created == 1


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("\x00\x07", "control characters"),
    ("x" * (MAX_TEXT + 1), "limit is 20,000"),
])
def test_bad_texts_are_refused_by_name(db, text, message):
    with pytest.raises(ValidationFailed) as exc:
        feedback_record(kind="objection", text=text, occurred_at=WHEN)
    assert exc.value.field == "text" and message in exc.value.message


@pytest.mark.parametrize("text", [
    "Der Preis ist zu hoch für unser Team.",
    "価格が高すぎます",
    "🙄🙄🙄",
    "Price\x00 is too high",
    "a" * MAX_TEXT,
])
def test_unusual_texts_are_kept_whole(db, text):
    item, _ = feedback_record(kind="objection", text=text, occurred_at=WHEN)
    item.refresh_from_db()
    assert item.text == text.replace("\x00", "")


def test_feedback_record_names_bad_kind_and_source(db):
    with pytest.raises(ValidationFailed) as exc:
        feedback_record(kind="rumour", text="x", occurred_at=WHEN)
    assert exc.value.field == "kind"
    with pytest.raises(ValidationFailed) as exc:
        feedback_record(kind="objection", text="x", occurred_at=WHEN, source="fax")
    assert exc.value.field == "source"


@pytest.mark.parametrize(("text", "kind"), [
    ("They went with Acme", "competitor"),
    ("Asked for a Salesforce integration", "feature_request"),
    ("They love the reports", "praise"),
    ("Too expensive for them", "objection"),
    ("Met the team at the conference", "story"),
])
def test_guess_kind(text, kind):
    assert guess_kind(text) == kind


def test_capture_links_the_deal_account(db):
    opp = OpportunityFactory()
    item, _ = feedback_capture(text="Legal wants net 60", opportunity_id=opp.pk, occurred_at=WHEN)
    assert item.account == opp.account and item.opportunity == opp
    with pytest.raises(NotFound):
        feedback_capture(text="x", contact_id=123456)


def test_cli_import_reports_and_writes_rejects(db, tmp_path, capsys):
    # Given a file with a bad row, imported with --skip-invalid
    path = tmp_path / "notes.csv"
    path.write_text("id,text\n1,Need SSO\n2,\n")
    assert run_cli(["feedback", "import", str(path), "--skip-invalid", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    # Then the good row is in and the bad one is in the rejects file with its error
    assert body["created"] == 1 and body["rejected"] == 1
    rejected = (tmp_path / "notes.rejected.csv").read_text()
    assert "text: is empty" in rejected
    # And without the flag a bad file exits 2 with the row named and nothing imported
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text,kind\n9,Hello,nonsense\n")
    assert run_cli(["feedback", "import", str(bad)]) == 2
    assert "row 1 (line 2), kind" in capsys.readouterr().err
    assert FeedbackItem.objects.count() == 1


def test_capture_queues_theme_assignment_after_commit(db, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    for text in ("They need SSO", "They need SCIM"):
        with django_capture_on_commit_callbacks(execute=True):
            feedback_capture(text=text, occurred_at=WHEN)
    queued = DBTaskResult.objects.get(queue_name="themes")  # one waiting task serves both items
    assert queued.task_path.endswith("themes_assign_new_task")


@pytest.mark.parametrize(("body", "status", "field"), [
    ({"text": "x" * (MAX_TEXT + 1)}, 422, "text"),
    ({"text": ""}, 422, "text"),
    ({"text": None}, 422, "text"),
    ({}, 422, "text"),
    ({"text": "Ok", "kind": "rumour"}, 422, "kind"),
    ({"text": "Ok", "occurred_at": "yesterday"}, 422, "occurred_at"),
    ({"text": "El precio es demasiado alto para nuestro equipo."}, 201, None),
    ({"text": "価格が高すぎます"}, 201, None),
])
def test_api_capture_handles_bad_and_foreign_texts(api, body, status, field):
    res = api.post("/api/loop/feedback", body, role="sales")
    assert res.status_code == status, res.content
    if field:
        assert res.json()["field"] == field
        assert FeedbackItem.objects.count() == 0
    else:
        assert FeedbackItem.objects.get().text == body["text"]


def test_api_capture_rejects_malformed_json(api):
    res = api.client.post("/api/loop/feedback", "{not json", content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {api.tokens['sales']}")
    assert res.status_code in (400, 422)
    assert FeedbackItem.objects.count() == 0
