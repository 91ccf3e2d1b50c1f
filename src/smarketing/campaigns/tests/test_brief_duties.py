"""Separation of duties on campaign briefs: marketing writes, each side signs for itself (sales' side by someone
other than the author), launch needs both, and a RevOps override is recorded as one — never as a signature."""

from __future__ import annotations

from typing import Any

import pytest

from smarketing.campaigns.brief_selectors import brief_get, brief_override, brief_sides, brief_signed_off
from smarketing.campaigns.briefs import (
    brief_create,
    brief_delete,
    brief_launch,
    brief_revise,
    brief_sign_off,
    brief_update,
)
from smarketing.campaigns.briefs import (
    brief_override as brief_override_record,
)
from smarketing.campaigns.models import BriefSignoff, CampaignBrief
from smarketing.campaigns.permissions import (
    Actor,
    Sides,
    launch_refusal,
    missing_signatures,
    override_refusal,
    signing_side,
    write_refusal,
)
from smarketing.core.errors import Conflict, PermissionDenied, ValidationFailed
from smarketing.team.services import user_update
from smarketing.testing.factories import CampaignFactory, UserFactory

AUTHOR, OTHER = 7, 8
CONTENT = {"core_message": "Close the books in three days.", "talk_track": "Ask how long the close takes."}


# ------------------------------------------------------------------------------------------ the pure rules

@pytest.mark.parametrize(("actor", "author_id", "allowed"), [
    (Actor(OTHER, "mia", "marketing"), AUTHOR, True),  # any marketing user
    (Actor(AUTHOR, "ann", "sales"), AUTHOR, True),  # the author, whatever their role now
    (Actor(OTHER, "sam", "sales"), AUTHOR, False),  # sales does not rewrite marketing's brief
    (Actor(OTHER, "rob", "revops"), AUTHOR, False),  # nor RevOps
    (Actor(OTHER, "vic", "viewer"), AUTHOR, False),
    (Actor(OTHER, "root", "revops", is_superuser=True), AUTHOR, True),  # a deliberate superuser
])
def test_who_writes_a_brief(actor, author_id, allowed):
    assert (write_refusal(actor, author_id=author_id) == "") is allowed


@pytest.mark.parametrize(("actor", "side"), [
    (Actor(AUTHOR, "mia", "marketing"), "marketing"),  # marketing signs marketing's side, the author too
    (Actor(OTHER, "sam", "sales"), "sales"),
    (Actor(AUTHOR, "ann", "sales"), ""),  # the author does not sign sales' side of their own brief
    (Actor(OTHER, "rob", "revops"), ""),  # RevOps override, they do not sign
    (Actor(OTHER, "root", "revops", is_superuser=True), ""),  # a superuser is not a sales signature either
    (Actor(OTHER, "vic", "viewer"), ""),
])
def test_which_side_a_user_signs(actor, side):
    got, refusal = signing_side(actor, author_id=AUTHOR)
    assert got == side and (refusal == "") is bool(side)


@pytest.mark.parametrize(("sides", "missing"), [
    (Sides(), "no marketing and no sales sign-off"),
    (Sides(marketing=True), "no sales sign-off"),
    (Sides(sales=True), "no marketing sign-off"),
    (Sides(marketing=True, sales=True), ""),
    (Sides(override=True), ""),
])
def test_launch_needs_both_sides_or_an_override(sides, missing):
    found = missing_signatures(sides)
    assert (missing in found) if missing else found == ""


def test_who_launches_and_who_overrides():
    assert launch_refusal(Actor(OTHER, "mia", "marketing"), author_id=AUTHOR) == ""
    assert launch_refusal(Actor(OTHER, "rob", "revops"), author_id=AUTHOR) == ""
    assert launch_refusal(Actor(OTHER, "sam", "sales"), author_id=AUTHOR) != ""
    assert override_refusal(Actor(OTHER, "rob", "revops")) == ""
    assert all(override_refusal(Actor(OTHER, "x", role)) for role in ("marketing", "sales", "viewer"))


# ------------------------------------------------------------------------------------------- the services

@pytest.fixture
def brief(db, users) -> CampaignBrief:
    campaign: Any = CampaignFactory()
    return brief_create(campaign_id=campaign.pk, data=CONTENT, actor=users["marketing"])


def test_one_sales_user_cannot_rewrite_sign_and_launch_marketings_brief_alone(brief, users):
    sales = users["sales"]
    before = brief_get(pk=brief.pk).content_sha
    # when a sales user rewrites marketing's brief, then it is refused and the content is marketing's
    for write in (lambda: brief_update(brief_id=brief.pk, data={"core_message": "Anything"}, actor=sales),
                  lambda: brief_delete(brief_id=brief.pk, actor=sales)):
        with pytest.raises(PermissionDenied) as exc:
            write()
        assert exc.value.record == f"brief:{brief.pk}" and "sales1" in exc.value.message
    assert brief_get(pk=brief.pk).content_sha == before
    # when they sign and launch it, then the signature is sales' side only and the launch is refused
    brief_sign_off(brief_id=brief.pk, user=sales)
    with pytest.raises(PermissionDenied):
        brief_launch(brief_id=brief.pk, actor=sales)
    # and marketing cannot launch on sales' signature alone either
    with pytest.raises(Conflict, match="no marketing sign-off"):
        brief_launch(brief_id=brief.pk, actor=users["marketing"])
    assert brief_get(pk=brief.pk).launched_at is None
    # then with marketing's side signed too, marketing launches it
    brief_sign_off(brief_id=brief.pk, user=users["marketing"])
    assert brief_launch(brief_id=brief.pk, actor=users["marketing"]).launched_at is not None


def test_sales_cannot_write_a_brief(db, users):
    with pytest.raises(PermissionDenied, match="only marketing users"):
        brief_create(campaign_id=CampaignFactory().pk, data=CONTENT, actor=users["sales"])
    assert CampaignBrief.objects.count() == 0


def test_the_author_does_not_sign_sales_side_of_their_own_brief(db, users):
    # given a marketer who wrote a brief and then moved to sales
    author = UserFactory(username="ann", role="marketing")
    brief = brief_create(campaign_id=CampaignFactory().pk, data=CONTENT, actor=author)
    user_update(user=author, data={"role": "sales"})
    # then their sales signature is refused as self-approval, and another seller signs
    with pytest.raises(PermissionDenied, match="separation of duties"):
        brief_sign_off(brief_id=brief.pk, user=author)
    assert brief_sign_off(brief_id=brief.pk, user=users["sales"]).side == "sales"
    # and, still its author, they may edit it (which asks both sides again)
    brief_update(brief_id=brief.pk, data={"talk_track": "Open with the audit."}, actor=author)
    assert not brief_signed_off(brief_get(pk=brief.pk))


def test_another_marketer_edits_and_revises_but_sales_does_not_revise(brief, users):
    colleague = UserFactory(role="marketing")
    brief_update(brief_id=brief.pk, data={"audience": "Controllers"}, actor=colleague)
    brief_sign_off(brief_id=brief.pk, user=colleague)
    brief_sign_off(brief_id=brief.pk, user=users["sales"])
    brief_launch(brief_id=brief.pk, actor=colleague)
    with pytest.raises(PermissionDenied):
        brief_revise(brief_id=brief.pk, data={"talk_track": "x"}, actor=users["sales"])
    assert brief_revise(brief_id=brief.pk, data={"talk_track": "x"}, actor=colleague).created_by == colleague


def test_a_revops_override_is_recorded_as_an_override_not_a_sales_signature(brief, users):
    revops = users["revops"]
    brief_sign_off(brief_id=brief.pk, user=users["marketing"])
    # when RevOps try to sign, then they are told to override instead
    with pytest.raises(PermissionDenied, match="override"):
        brief_sign_off(brief_id=brief.pk, user=revops)
    # and an override needs a reason
    for reason in ("", "   "):
        with pytest.raises(ValidationFailed) as exc:
            brief_override_record(brief_id=brief.pk, user=revops, reason=reason)
        assert exc.value.field == "reason"
    # and only RevOps override
    for role in ("marketing", "sales"):
        with pytest.raises(PermissionDenied):
            brief_override_record(brief_id=brief.pk, user=users[role], reason="sales is away")
    # when RevOps override with a reason
    row = brief_override_record(brief_id=brief.pk, user=revops, reason="Sales lead on leave; launch date is fixed")
    again = brief_override_record(brief_id=brief.pk, user=revops, reason="twice")
    # then it is an override with who and why, the brief is not signed by sales, and it may launch
    assert (row.side, row.user, row.reason) == ("override", revops, "Sales lead on leave; launch date is fixed")
    assert again.pk == row.pk
    current = brief_get(pk=brief.pk)
    assert brief_sides(current) == Sides(marketing=True, sales=False, override=True)
    assert not brief_signed_off(current) and brief_override(current) == row
    assert brief_launch(brief_id=brief.pk, actor=revops).launched_at is not None


def test_an_override_of_a_changed_brief_no_longer_counts_and_a_signed_one_needs_none(brief, users):
    revops = users["revops"]
    brief_override_record(brief_id=brief.pk, user=revops, reason="launch is fixed")
    brief_update(brief_id=brief.pk, data={"talk_track": "A new opener"}, actor=users["marketing"])
    with pytest.raises(Conflict, match="no marketing and no sales"):
        brief_launch(brief_id=brief.pk, actor=revops)
    brief_sign_off(brief_id=brief.pk, user=users["marketing"])
    brief_sign_off(brief_id=brief.pk, user=users["sales"])
    with pytest.raises(Conflict, match="nothing to override"):
        brief_override_record(brief_id=brief.pk, user=revops, reason="just in case")
    assert BriefSignoff.objects.filter(brief=brief, side="override").count() == 1


# ------------------------------------------------------------------------------------------ API and web

def test_the_api_shows_sides_and_the_override_and_refuses_self_approval(api, db, users):
    campaign = CampaignFactory()
    created = api.post("/api/loop/briefs", {"campaign_id": campaign.pk, **CONTENT}, role="marketing")
    bid = created.json()["id"]
    assert api.post("/api/loop/briefs", {"campaign_id": CampaignFactory().pk, **CONTENT},
                    role="sales").status_code == 403
    # a sales user cannot rewrite it or launch it
    refused = api.patch(f"/api/loop/briefs/{bid}", {"core_message": "Mine now"}, role="sales")
    assert refused.status_code == 403 and refused.json()["code"] == "forbidden"
    assert api.post(f"/api/loop/briefs/{bid}/launch", {}, role="sales").status_code == 403
    # RevOps cannot sign; an override needs a reason (422 naming it), then is shown as an override
    assert api.post(f"/api/loop/briefs/{bid}/signoff", {}, role="revops").status_code == 403
    missing = api.post(f"/api/loop/briefs/{bid}/override", {}, role="revops")
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    assert api.post(f"/api/loop/briefs/{bid}/override", {"reason": "x"}, role="sales").status_code == 403
    done = api.post(f"/api/loop/briefs/{bid}/override", {"reason": "Sales away; date fixed"}, role="revops")
    assert done.status_code == 201, done.json()
    assert (done.json()["side"], done.json()["user"], done.json()["reason"]) == ("override", "revops1",
                                                                                 "Sales away; date fixed")
    body = api.get(f"/api/loop/briefs/{bid}").json()
    assert body["signed_off"] is False and body["sales_signed"] is False and body["marketing_signed"] is False
    assert body["override"]["user"] == "revops1" and body["override"]["reason"] == "Sales away; date fixed"
    assert body["ready_to_launch"] is True
    assert [s["side"] for s in body["signoffs"]] == ["override"]
    launched = api.post(f"/api/loop/briefs/{bid}/launch", {}, role="revops")
    assert launched.status_code == 200 and launched.json()["launched_at"]


def test_the_campaign_page_shows_an_override_as_an_override(db, users, brief):
    from django.test import Client

    brief_override_record(brief_id=brief.pk, user=users["revops"], reason="Sales away; date fixed")
    client: Any = Client()
    client.force_login(users["viewer"])
    html = client.get(f"/campaigns/{brief.campaign_id}/").content.decode()
    assert "RevOps override" in html and "Sales away; date fixed" in html and "revops1" in html
    assert "awaiting sales sign-off" in html
