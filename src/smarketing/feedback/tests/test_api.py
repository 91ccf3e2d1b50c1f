"""The feedback API: append (idempotent by source id) and list."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.feedback.models import FeedbackItem
from smarketing.testing.factories import ContactFactory, FeedbackItemFactory, OpportunityFactory


def test_feedback_is_authored_by_the_token_user_and_takes_the_contacts_account(api):
    contact = ContactFactory()

    response = api.post("/api/feedback", {"contact_id": contact.pk, "kind": "objection",
                                          "text": "They already use a competitor for reconciliation.",
                                          "occurred_at": "2026-05-02T14:00:00Z"}, role="sales")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["author_username"] == "sales1"
    assert body["account_id"] == contact.account_id
    assert body["source"] == "api"
    assert FeedbackItem.objects.get(pk=body["id"]).author.username == "sales1"


def test_feedback_with_a_source_id_is_recorded_once(api):
    opp = OpportunityFactory()
    item = {"opportunity_id": opp.pk, "account_id": opp.account_id, "kind": "loss_reason",
            "text": "Lost on price", "source": "csv", "source_id": "row-17"}

    responses = [api.post("/api/feedback", item) for _ in range(2)]

    assert [r.status_code for r in responses] == [201, 200]
    assert FeedbackItem.objects.filter(source_id="row-17").count() == 1


@pytest.mark.parametrize(("payload", "field"), [
    ({"kind": "objection", "text": ""}, "text"),
    ({"kind": "objection", "text": "   "}, "text"),
    ({"kind": "rant", "text": "x"}, "kind"),
    ({"kind": "objection", "text": "x", "contact_id": 999999}, "contact_id"),
    ({"kind": "objection", "text": "x", "opportunity_id": 999999}, "opportunity_id"),
    ({"kind": "objection", "text": "x", "source": "carrier_pigeon"}, "source"),
    ({"kind": "objection"}, "text"),
])
def test_invalid_feedback_is_422_and_writes_nothing(api, payload, field):
    response = api.post("/api/feedback", payload)

    assert response.status_code == 422
    body = response.json()
    assert field in {d["field"] for d in body.get("details", [])} | {body.get("field")}
    assert FeedbackItem.objects.count() == 0


def test_feedback_list_filters_by_kind_text_and_window(api):
    FeedbackItemFactory(kind="objection", text="Too expensive for us", occurred_at=datetime(2026, 4, 1, tzinfo=UTC))
    FeedbackItemFactory(kind="objection", text="Missing SSO", occurred_at=datetime(2026, 4, 20, tzinfo=UTC))
    FeedbackItemFactory(kind="praise", text="Expensive but worth it", occurred_at=datetime(2026, 4, 2, tzinfo=UTC))

    objections = api.get("/api/feedback", role="viewer", kind="objection").json()
    expensive = api.get("/api/feedback", q="expensive").json()
    early = api.get("/api/feedback", occurred_before="2026-04-10T00:00:00Z").json()

    assert objections["total"] == 2
    assert [i["text"] for i in objections["items"]] == ["Missing SSO", "Too expensive for us"]
    assert expensive["total"] == 2
    assert early["total"] == 2


def test_one_feedback_endpoint_guesses_the_kind_and_answers_the_same_on_its_alias(api):
    # given a quick capture without a kind, sent to the endpoint and then to its old path with the same source id
    body = {"text": "They went with Globex because of the bundle.", "source_id": "note-9"}

    first = api.post("/api/feedback", body, role="sales")
    again = api.post("/api/loop/feedback", body, role="sales")

    # then one item, its kind guessed from the wording, and both paths answer in the same shape
    assert first.status_code == 201 and first.json()["created"] is True
    assert first.json()["kind"] == "competitor" and first.json()["author_username"] == "sales1"
    assert again.status_code == 200 and again.json() == {**first.json(), "created": False}
    assert FeedbackItem.objects.count() == 1


def test_an_opportunity_gives_the_feedback_its_account(api):
    opp = OpportunityFactory()

    response = api.post("/api/feedback", {"opportunity_id": opp.pk, "text": "Lost on price"}, role="sales")

    assert response.status_code == 201, response.json()
    assert response.json()["account_id"] == opp.account_id
