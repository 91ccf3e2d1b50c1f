"""Campaign briefs: content, sales comments before launch, recorded sign-off, outreach capture."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from smarketing.campaigns.brief_selectors import brief_get, brief_signed_off
from smarketing.campaigns.briefs import (
    BriefLaunched,
    brief_comment_add,
    brief_create,
    brief_delete,
    brief_launch,
    brief_revise,
    brief_sign_off,
    brief_update,
    outreach_record,
)
from smarketing.campaigns.models import BriefSignoff, CampaignBrief, Outreach
from smarketing.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from smarketing.testing.factories import CampaignFactory, ContactFactory

CONTENT = {
    "audience": "Controllers at 200-2000 employee companies",
    "core_message": "Close the books in three days.",
    "proof_points": ["Northwind: 10 to 3 days", "  "],
    "talk_track": "Ask how long the close takes.",
    "objection_handling": [{"objection": "Too expensive", "response": "Pays back in one quarter"}],
    "assets": [{"title": "Case study", "url": "https://example.com/northwind.pdf"}],
}


def test_brief_lifecycle_comment_signoff_launch(db, users):
    # Given a brief written by marketing
    campaign = CampaignFactory()
    brief = brief_create(campaign_id=campaign.pk, data=CONTENT, actor=users["marketing"])
    assert brief.proof_points == ["Northwind: 10 to 3 days"] and brief.content_sha
    # When sales comments and signs off, marketing edits, and sales signs again
    brief_comment_add(brief_id=brief.pk, author=users["sales"], text="Add mid-market banks", topic="targeting")
    brief_sign_off(brief_id=brief.pk, user=users["sales"], comment="Good to go")
    assert brief_signed_off(brief_get(pk=brief.pk))
    brief_update(brief_id=brief.pk, data={"audience": "Controllers and banks"}, actor=users["marketing"])
    # Then the earlier sign-off no longer counts, launch waits for new ones from both sides
    assert not brief_signed_off(brief_get(pk=brief.pk))
    with pytest.raises(Conflict, match="no marketing and no sales sign-off"):
        brief_launch(brief_id=brief.pk, actor=users["marketing"])
    brief_sign_off(brief_id=brief.pk, user=users["marketing"])
    with pytest.raises(Conflict, match="no sales sign-off"):
        brief_launch(brief_id=brief.pk, actor=users["marketing"])
    brief_sign_off(brief_id=brief.pk, user=users["sales"])
    brief_sign_off(brief_id=brief.pk, user=users["sales"])  # same content: recorded once
    assert BriefSignoff.objects.filter(brief=brief).count() == 3
    launched = brief_launch(brief_id=brief.pk, actor=users["marketing"])
    assert launched.launched_at is not None
    # And after launch comments are closed and the brief is kept
    with pytest.raises(Conflict, match="already launched"):
        brief_comment_add(brief_id=brief.pk, author=users["sales"], text="late")
    with pytest.raises(Conflict):
        brief_delete(brief_id=brief.pk, actor=users["marketing"])


def test_each_side_signs_for_itself_and_revops_and_viewers_sign_neither(db, users):
    brief = brief_create(campaign_id=CampaignFactory().pk, data=CONTENT, actor=users["marketing"])
    assert brief_sign_off(brief_id=brief.pk, user=users["marketing"]).side == "marketing"
    assert brief_sign_off(brief_id=brief.pk, user=users["sales"]).side == "sales"
    for role in ("revops", "viewer"):
        with pytest.raises(PermissionDenied):
            brief_sign_off(brief_id=brief.pk, user=users[role])


@pytest.mark.parametrize(("data", "field"), [
    ({"core_message": ""}, "core_message"),
    ({"core_message": "x", "proof_points": "one"}, "proof_points"),
    ({"core_message": "x", "objection_handling": [{"objection": "Price"}]}, "objection_handling.0"),
    ({"core_message": "x", "assets": [{"url": "ftp://x"}]}, "assets.0.url"),
    ({"core_message": "x", "colour": "red"}, "colour"),
])
def test_brief_validation_names_the_field(db, users, data, field):
    campaign = CampaignFactory(core_message="")
    with pytest.raises(ValidationFailed) as exc:
        brief_create(campaign_id=campaign.pk, data=data, actor=users["marketing"])
    assert exc.value.field == field
    assert CampaignBrief.objects.count() == 0


def test_one_brief_per_campaign_and_core_message_defaults_to_the_campaign(db, users):
    campaign = CampaignFactory()
    marketer = users["marketing"]
    brief = brief_create(campaign_id=campaign.pk, data={}, actor=marketer)
    assert brief.core_message == campaign.core_message
    with pytest.raises(Conflict):
        brief_create(campaign_id=campaign.pk, data={}, actor=marketer)
    with pytest.raises(NotFound):
        brief_create(campaign_id=999999, data={}, actor=marketer)


def test_outreach_is_recorded_idempotently_and_validated(db, users):
    contact = ContactFactory()
    o, created = outreach_record(rep=users["sales"], text="Close in three days", contact_id=contact.pk,
                                 source="outreach_tool", source_id="m-1",
                                 sent_at=datetime(2026, 3, 1, tzinfo=UTC))
    again, created_again = outreach_record(rep=users["sales"], text="Close in three days", source="outreach_tool",
                                           source_id="m-1")
    assert created and not created_again and again.pk == o.pk and o.account == contact.account
    for kwargs, field in [({"text": ""}, "text"), ({"text": "x", "kind": "fax"}, "kind"),
                          ({"text": "x", "campaign_id": 99999}, "campaign_id")]:
        with pytest.raises((ValidationFailed, NotFound)) as exc:
            outreach_record(rep=users["sales"], **kwargs)
        assert exc.value.field == field
    assert Outreach.objects.count() == 1


def test_brief_and_outreach_api(api, db):
    campaign = CampaignFactory()
    created = api.post("/api/loop/briefs", {"campaign_id": campaign.pk, **CONTENT}, role="marketing")
    assert created.status_code == 201, created.content
    bid = created.json()["id"]
    assert created.json()["objection_handling"][0]["response"] == "Pays back in one quarter"
    assert api.post("/api/loop/briefs", {"campaign_id": campaign.pk}, role="marketing").status_code == 409
    comment = api.post(f"/api/loop/briefs/{bid}/comments", {"text": "Target banks too", "topic": "targeting"},
                       role="sales")
    assert comment.status_code == 201 and comment.json()["author"] == "sales1"
    assert api.post(f"/api/loop/briefs/{bid}/signoff", {}, role="revops").status_code == 403
    assert api.post(f"/api/loop/briefs/{bid}/signoff", {}, role="marketing").json()["side"] == "marketing"
    signed = api.post(f"/api/loop/briefs/{bid}/signoff", {"comment": "ok"}, role="sales")
    assert signed.status_code == 201 and signed.json()["current"] and signed.json()["side"] == "sales"
    patched = api.patch(f"/api/loop/briefs/{bid}", {"talk_track": "New opener"}, role="marketing")
    assert patched.status_code == 200 and not patched.json()["signed_off"]
    assert api.post(f"/api/loop/briefs/{bid}/launch", {}, role="marketing").status_code == 409
    api.post(f"/api/loop/briefs/{bid}/signoff", {}, role="sales")
    api.post(f"/api/loop/briefs/{bid}/signoff", {}, role="marketing")
    launched = api.post(f"/api/loop/briefs/{bid}/launch", {}, role="marketing")
    assert launched.status_code == 200 and launched.json()["launched_at"]
    detail = api.get(f"/api/loop/briefs/{bid}")
    assert len(detail.json()["comments"]) == 1 and len(detail.json()["signoffs"]) == 4
    assert api.get("/api/loop/briefs", campaign_id=campaign.pk).json()[0]["id"] == bid
    bad = api.post("/api/loop/briefs", {"campaign_id": CampaignFactory().pk, "core_message": "x",
                                        "assets": [{"url": "javascript:alert(1)"}]}, role="marketing")
    assert bad.status_code == 422 and bad.json()["field"] == "assets.0.url"
    out = api.post("/api/loop/outreach", {"text": "Close in three days", "campaign_id": campaign.pk,
                                          "kind": "call_note"}, role="sales")
    assert out.status_code == 201 and out.json()["rep"] == "sales1"
    assert api.get("/api/loop/outreach", campaign_id=campaign.pk).json()[0]["kind"] == "call_note"
    other = CampaignFactory()
    draft = api.post("/api/loop/briefs", {"campaign_id": other.pk, "core_message": "x"}, role="marketing")
    assert api.delete(f"/api/loop/briefs/{draft.json()['id']}", role="marketing").status_code == 204


# ------------------------------------------------------------------------------ frozen after launch, revised

def _launched(users) -> CampaignBrief:
    campaign: Any = CampaignFactory()
    brief = brief_create(campaign_id=campaign.pk, data=CONTENT, actor=users["marketing"])
    brief_sign_off(brief_id=brief.pk, user=users["marketing"])
    brief_sign_off(brief_id=brief.pk, user=users["sales"], comment="Good to go")
    return brief_launch(brief_id=brief.pk, actor=users["marketing"])


def test_a_launched_brief_cannot_be_edited_and_is_revised_into_a_new_version(db, users):
    # given a launched brief signed off by sales
    launched = _launched(users)
    before = brief_get(pk=launched.pk)
    # when marketing edits it, then it is refused and stays as signed
    with pytest.raises(BriefLaunched, match="revise it to make v2") as refused:
        brief_update(brief_id=launched.pk, data={"talk_track": "A new opener"}, actor=users["marketing"])
    assert (refused.value.code, refused.value.field) == ("brief_launched", "launched_at")
    # when it is revised instead
    revision = brief_revise(brief_id=launched.pk, data={"talk_track": "A new opener"}, actor=users["marketing"])
    # then the revision is v2 of the same campaign, a draft with the change, awaiting its own sign-off
    assert (revision.campaign_id, revision.version, revision.previous_id) == (launched.campaign_id, 2, launched.pk)
    assert revision.talk_track == "A new opener" and revision.core_message == CONTENT["core_message"]
    assert revision.launched_at is None and not brief_signed_off(brief_get(pk=revision.pk))
    with pytest.raises(Conflict, match="no sales sign-off"):
        brief_launch(brief_id=revision.pk, actor=users["marketing"])
    # and the launched version is unchanged, still signed off
    after = brief_get(pk=launched.pk)
    assert (after.talk_track, after.content_sha, after.launched_at) == (
        before.talk_track, before.content_sha, before.launched_at)
    assert brief_signed_off(after)
    # and the revision is launched once both sides sign it
    brief_sign_off(brief_id=revision.pk, user=users["sales"])
    brief_sign_off(brief_id=revision.pk, user=users["marketing"])
    assert brief_launch(brief_id=revision.pk, actor=users["marketing"]).launched_at is not None


def test_only_a_launched_brief_is_revised_and_only_once(db, users):
    marketer = users["marketing"]
    draft = brief_create(campaign_id=CampaignFactory().pk, data=CONTENT, actor=marketer)
    with pytest.raises(Conflict, match="not launched yet; edit it instead"):
        brief_revise(brief_id=draft.pk, data={"talk_track": "x"}, actor=marketer)
    launched = _launched(users)
    brief_revise(brief_id=launched.pk, data={"talk_track": "x"}, actor=marketer)
    with pytest.raises(Conflict, match="already revised"):
        brief_revise(brief_id=launched.pk, data={"talk_track": "y"}, actor=marketer)
    assert CampaignBrief.objects.filter(campaign_id=launched.campaign_id).count() == 2
    other = _launched(users)
    with pytest.raises(ValidationFailed) as bad:
        brief_revise(brief_id=other.pk, data={"core_message": " "}, actor=marketer)
    assert bad.value.field == "core_message"
    assert CampaignBrief.objects.filter(campaign_id=other.campaign_id).count() == 1


def test_brief_api_refuses_a_change_after_launch_and_offers_a_revision(api, db):
    # given a brief launched through the API
    campaign = CampaignFactory()
    bid = api.post("/api/loop/briefs", {"campaign_id": campaign.pk, **CONTENT}, role="marketing").json()["id"]
    api.post(f"/api/loop/briefs/{bid}/signoff", {}, role="sales")
    api.post(f"/api/loop/briefs/{bid}/signoff", {}, role="marketing")
    launched = api.post(f"/api/loop/briefs/{bid}/launch", {}, role="marketing").json()
    # when it is patched, then 409 with a code that says why
    patched = api.patch(f"/api/loop/briefs/{bid}", {"talk_track": "New opener"}, role="marketing")
    assert patched.status_code == 409
    assert (patched.json()["code"], patched.json()["field"]) == ("brief_launched", "launched_at")
    assert f"/api/loop/briefs/{bid}/revisions" in patched.json()["message"]
    # when it is revised, then a new draft version awaits sign-off
    revised = api.post(f"/api/loop/briefs/{bid}/revisions", {"talk_track": "New opener"}, role="marketing")
    assert revised.status_code == 201, revised.json()
    body = revised.json()
    assert (body["version"], body["previous_id"], body["campaign_id"]) == (2, bid, campaign.pk)
    assert (body["talk_track"], body["signed_off"], body["launched_at"], body["signoffs"]) == (
        "New opener", False, None, [])
    # and the launched one is as it was
    old = api.get(f"/api/loop/briefs/{bid}").json()
    assert {k: old[k] for k in ("talk_track", "content_sha", "signed_off", "launched_at", "version")} == {
        k: launched[k] for k in ("talk_track", "content_sha", "signed_off", "launched_at", "version")}
    # and the campaign's newest brief comes first
    assert [b["id"] for b in api.get("/api/loop/briefs", campaign_id=campaign.pk).json()] == [body["id"], bid]
    assert api.post(f"/api/loop/briefs/{bid}/revisions", {}, role="marketing").status_code == 409
    assert api.post("/api/loop/briefs/999999/revisions", {}, role="marketing").status_code == 404
    assert api.post(f"/api/loop/briefs/{body['id']}/revisions", {}, role="viewer").status_code == 403
