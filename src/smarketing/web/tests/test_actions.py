"""Writes through the web app, and the server refusing them to roles that may not make them (direct requests)."""

from __future__ import annotations

import pytest

from smarketing.crm.models import Contact
from smarketing.feedback.models import FeedbackItem
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.selectors import default_playbook_data, playbook_to_yaml


def _stage(contact: Contact) -> str:
    return Contact.objects.get(pk=contact.pk).lifecycle_stage


@pytest.mark.parametrize("role", ["sales", "revops"])
def test_sales_and_revops_accept_an_mql_in_one_click(world, login, role):
    # given
    mql = world["mqls"][0]
    # when
    response = login(role).post(f"/handoff/{mql.pk}/accept/", HTTP_HX_REQUEST="true")
    # then
    assert response.status_code == 200
    assert "accepted" in response.content.decode()
    assert _stage(mql) == "sal"


@pytest.mark.parametrize("role", ["marketing", "viewer"])
@pytest.mark.parametrize("action", ["accept", "reject", "recycle"])
def test_other_roles_get_403_on_handoff_actions(world, login, role, action):
    # given
    mql = world["mqls"][0]
    # when
    response = login(role).post(f"/handoff/{mql.pk}/{action}/", {"reason_key": "no_budget"})
    # then
    assert response.status_code == 403
    assert _stage(mql) == "mql"


def test_reject_needs_a_reason_and_records_it(world, login):
    # given
    mql = world["mqls"][1]
    client = login("sales")
    # when
    missing = client.post(f"/handoff/{mql.pk}/reject/", HTTP_HX_REQUEST="true")
    done = client.post(f"/handoff/{mql.pk}/reject/", {"reason_key": "no_need", "note": "tiny team"},
                       HTTP_HX_REQUEST="true")
    # then
    assert "choose a rejection reason" in missing.content.decode()
    assert "rejected" in done.content.decode()
    assert _stage(mql) == "disqualified"


def test_recycle_without_htmx_redirects_back_to_the_queue_with_a_message(world, login):
    # given
    mql = world["mqls"][1]
    client = login("sales")
    # when
    response = client.post(f"/handoff/{mql.pk}/recycle/", follow=True)
    # then
    assert response.redirect_chain[-1][0] == "/handoff/"
    assert "recycled to nurture" in response.content.decode()
    assert _stage(mql) == "recycled"


def test_deciding_twice_says_it_was_already_decided(world, login):
    # given
    mql = world["mqls"][0]
    client = login("sales")
    client.post(f"/handoff/{mql.pk}/accept/", HTTP_HX_REQUEST="true")
    # when
    again = client.post(f"/handoff/{mql.pk}/accept/", HTTP_HX_REQUEST="true")
    # then
    assert "not awaiting" in again.content.decode()


def test_handoff_queue_explains_the_score_and_lists_touches(world, login):
    # when
    html = login("sales").get("/handoff/", {"scope": "all"}).content.decode()
    # then
    assert "Why they scored" in html
    assert "Asked for a demo" in html
    assert "Webinar attended" in html
    assert world["mqls"][0].name in html
    assert "Decision: " in html and "First touch: " in html and "overdue" in html


def _draft_yaml(**scoring: object) -> str:
    import yaml

    data = default_playbook_data()
    data["scoring"].update(scoring)
    return yaml.safe_dump(data, sort_keys=False)


def test_playbook_draft_shows_validation_errors_by_field(world, login):
    # when
    response = login("marketing").post("/playbook/new/", {"yaml": _draft_yaml(mql_threshold=-5), "notes": "x"})
    # then
    assert response.status_code == 422
    html = response.content.decode()
    assert "scoring.mql_threshold" in html
    assert PlaybookVersion.objects.count() == 1


def test_playbook_draft_reports_unreadable_yaml(world, login):
    response = login("sales").post("/playbook/new/", {"yaml": "name: [unclosed", "notes": ""})
    assert response.status_code == 422
    assert "cannot be read" in response.content.decode()


def test_two_sided_signoff_activates_a_draft(world, login):
    # given: marketing drafts a higher MQL threshold
    marketing, sales = login("marketing"), login("sales")
    created = marketing.post("/playbook/new/", {"yaml": _draft_yaml(mql_threshold=70), "notes": "raise the bar"})
    draft = PlaybookVersion.objects.get(number=2)
    assert created.status_code == 302 and draft.status == "draft"
    # when: marketing signs, then sales signs
    marketing.post(f"/playbook/v{draft.number}/signoff/", {"comment": "ok"})
    halfway = PlaybookVersion.objects.get(pk=draft.pk).status
    page = sales.post(f"/playbook/v{draft.number}/signoff/", {"comment": "agreed"}, follow=True)
    # then
    assert halfway == "draft"
    assert PlaybookVersion.objects.get(pk=draft.pk).status == "active"
    assert PlaybookVersion.objects.get(number=1).status == "superseded"
    assert "now the active playbook" in page.content.decode()
    assert "mql_threshold: 70" in sales.get(f"/playbook/v{draft.number}/").content.decode()


@pytest.mark.parametrize("role", ["viewer", "revops"])
def test_only_marketing_and_sales_sign_off(world, login, role):
    # given
    draft_text = playbook_to_yaml(PlaybookVersion.objects.get(number=1))
    login("marketing").post("/playbook/new/", {"yaml": draft_text, "notes": "same"})
    # when
    response = login(role).post("/playbook/v2/signoff/", {})
    # then
    assert response.status_code == 403
    assert not PlaybookVersion.objects.get(number=2).signoffs.exists()


def test_viewer_cannot_create_or_edit_drafts(world, login):
    client = login("viewer")
    assert client.get("/playbook/new/").status_code == 403
    assert client.post("/playbook/new/", {"yaml": _draft_yaml(), "notes": ""}).status_code == 403
    assert PlaybookVersion.objects.count() == 1


def test_editing_a_draft_voids_earlier_signatures(world, login):
    # given
    marketing = login("marketing")
    marketing.post("/playbook/new/", {"yaml": _draft_yaml(mql_threshold=65), "notes": "a"})
    marketing.post("/playbook/v2/signoff/", {})
    # when
    marketing.post("/playbook/v2/edit/", {"yaml": _draft_yaml(mql_threshold=66), "notes": "b"})
    html = marketing.get("/playbook/v2/").content.decode()
    # then
    assert "mql_threshold: 66" in html
    assert html.count("not yet") == 2


def test_feedback_capture_records_an_item_for_the_account(world, login, users):
    # when
    response = login("sales").post("/feedback/capture/", {"kind": "objection", "text": "Needs SSO before buying",
                                                          "account": "Acme"}, follow=True)
    # then
    item = FeedbackItem.objects.get(text="Needs SSO before buying")
    assert item.account == world["account"] and item.author == users["sales"] and item.source == "web"
    assert "feedback recorded" in response.content.decode()


def test_feedback_capture_errors_are_shown_by_field(world, login):
    response = login("marketing").post("/feedback/capture/", {"kind": "objection", "text": "",
                                                              "account": "No Such Co"})
    assert response.status_code == 422
    assert "This field is required" in response.content.decode()


def test_viewer_cannot_capture_feedback(world, login):
    response = login("viewer").post("/feedback/capture/", {"kind": "praise", "text": "great"})
    assert response.status_code == 403
    assert not FeedbackItem.objects.filter(text="great").exists()


def test_queue_shows_the_score_recorded_when_the_contact_became_an_mql(world, login, users):
    # given an MQL whose qualification recorded its score and explanation
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import ContactFactory

    contact = ContactFactory(account=world["account"], owner=users["sales"])
    stage_change_record(contact=contact, to_stage="lead")
    stage_change_record(contact=contact, to_stage="mql", details={"score": {
        "fit": 35, "engagement": 41.5, "total": 76.5,
        "explanation": [{"rule_id": "fit-industry", "description": "Target industry", "points": 15, "count": 1},
                        {"rule_id": "eng-demo", "description": "Asked for a demo", "points": 35, "count": 1}]}})
    # when
    html = login("sales").get("/handoff/", {"scope": "mine"}).content.decode()
    # then
    assert "Why they scored 76 pts" in html or "Why they scored 77 pts" in html
    assert "at MQL: fit 35" in html


def test_queue_explains_a_decayed_rule_with_the_playbooks_points_and_the_decay(world, login, users):
    # given an MQL whose recorded explanation says the playbook gave a demo request 35 points, decayed to 1.1
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.scoring.rules import line_dict
    from smarketing.testing.factories import ContactFactory

    contact = ContactFactory(account=world["account"], owner=users["sales"])
    stage_change_record(contact=contact, to_stage="lead")
    stage_change_record(contact=contact, to_stage="mql", details={"score": {
        "fit": 60, "engagement": 1.1, "total": 61.1,
        "explanation": [line_dict("eng-demo", "Asked for a demo", 1.085, 1, "engagement", 35, 0.031, 1.0),
                        line_dict("fit-industry", "Target industry", 60, 1, "fit", 60, 1.0, 1.0)]}})
    # when sales opens the queue
    html = login("sales").get("/handoff/", {"scope": "mine"}).content.decode()
    # then the line says the playbook's points, the decay and the points after it
    assert "Asked for a demo: 35 pts × 1 × decay 0.031 = 1.1 pts" in html
    assert "Target industry: 60 pts" in html


def test_queue_pages_through_mqls(world, login, monkeypatch):
    # given a page size of one
    from smarketing.web.views import handoff

    monkeypatch.setattr(handoff, "PAGE_SIZE", 1)
    client = login("sales")
    # when
    first = client.get("/handoff/", {"scope": "all"})
    second = client.get("/handoff/", {"scope": "all", "offset": 1})
    # then: the two MQLs are split over two pages, each linking on
    assert len(first.context["items"]) == 1 and first.context["has_more"]
    assert len(second.context["items"]) == 1 and not second.context["has_more"]
    assert first.context["items"][0]["row"].contact.pk != second.context["items"][0]["row"].contact.pk


def test_queue_names_the_rep_of_each_sales_touch_and_flags_someone_elses(world, login, users):
    from datetime import timedelta

    from smarketing.testing.factories import TouchpointFactory

    # Given an MQL owned by the sales user, touched by its owner and by a colleague (revops)
    mql = world["mqls"][0]
    at = world["mqls"][0].first_seen_at + timedelta(days=2)
    TouchpointFactory(contact=mql, kind="sales_call", channel="sales", occurred_at=at, actor=users["sales"])
    TouchpointFactory(contact=mql, kind="sales_email", channel="sales", occurred_at=at + timedelta(hours=1),
                      actor=users["revops"])
    # When sales opens the queue
    html = login("sales").get("/handoff/", {"scope": "all"}).content.decode()
    # Then each touch names its rep, and only the colleague's touch is flagged
    assert f"by {users['sales'].username}" in html and f"by {users['revops'].username}" in html
    assert html.count("touched by someone else</span>") == 1
