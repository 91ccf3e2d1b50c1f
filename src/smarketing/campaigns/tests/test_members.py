"""Campaign members: one membership per campaign and contact, a status that only moves forward, the API, and the
pipeline and revenue of the members who reached each status."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.campaigns.enums import MemberStatus
from smarketing.campaigns.models import CampaignMember
from smarketing.campaigns.selectors import campaign_member_summary
from smarketing.campaigns.services import campaign_member_upsert, campaign_members_upsert_many, member_advance
from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.testing.factories import CampaignFactory, ContactFactory, OpportunityFactory

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
JAN = datetime(2026, 1, 10, tzinfo=UTC)
FEB = datetime(2026, 2, 10, tzinfo=UTC)


@pytest.mark.parametrize(("status", "first", "new", "new_first", "expected"), [
    ("sent", None, "opened", None, ("opened", None)),
    ("attended", None, "sent", None, ("attended", NOW)),
    ("sent", None, "responded", None, ("responded", NOW)),
    ("sent", None, "registered", FEB, ("registered", FEB)),
    ("responded", JAN, "attended", FEB, ("attended", JAN)),
    ("converted", JAN, "opened", None, ("converted", JAN)),
])
def test_member_status_moves_forward_and_first_response_is_set_once(status, first, new, new_first, expected):
    assert member_advance(status=status, first_responded_at=first, new_status=new,
                          new_first_responded_at=new_first, now=NOW) == expected


def test_upsert_keeps_one_membership_and_never_moves_back(db):
    clock.freeze(NOW)
    campaign, contact = CampaignFactory(), ContactFactory()

    member, created = campaign_member_upsert(campaign=campaign, contact=contact, status="attended", created_at=JAN)
    again, created_again = campaign_member_upsert(campaign=campaign, contact=contact, status="sent",
                                                  created_at=FEB, first_responded_at=FEB)

    assert (created, created_again) == (True, False)
    assert again.pk == member.pk
    stored = CampaignMember.objects.get()
    assert (stored.status, stored.created_at, stored.first_responded_at) == ("attended", JAN, NOW)


def test_upsert_refuses_an_unknown_status_naming_the_field(db):
    with pytest.raises(ValidationFailed) as exc:
        campaign_member_upsert(campaign=CampaignFactory(), contact=ContactFactory(), status="clicked")

    assert exc.value.field == "status"
    assert CampaignMember.objects.count() == 0


def test_bulk_upsert_twice_changes_nothing_the_second_time(db):
    campaign, a, b = CampaignFactory(), ContactFactory(), ContactFactory()
    rows = [{"campaign_id": campaign.pk, "contact_id": a.pk, "status": "sent", "created_at": JAN, "source": "sf",
             "source_id": "m1"},
            {"campaign_id": campaign.pk, "contact_id": b.pk, "status": "responded", "created_at": JAN,
             "first_responded_at": FEB, "source": "sf", "source_id": "m2"}]

    assert campaign_members_upsert_many(members=rows) == (2, 0)
    assert campaign_members_upsert_many(members=rows) == (0, 0)
    assert campaign_members_upsert_many(members=[{**rows[0], "status": "attended"}]) == (0, 1)
    assert dict(CampaignMember.objects.values_list("contact_id", "status")) == {a.pk: "attended", b.pk: "responded"}
    assert CampaignMember.objects.get(contact=b).first_responded_at == FEB


def test_summary_counts_the_pipeline_of_members_who_reached_each_status(db):
    # given a campaign with three members at different statuses
    campaign = CampaignFactory(actual_cost=900)
    other = CampaignFactory()
    sent, responded, attended = ContactFactory(), ContactFactory(), ContactFactory()
    for contact, status in ((sent, "sent"), (responded, "responded"), (attended, "attended")):
        campaign_member_upsert(campaign=campaign, contact=contact, status=status, created_at=FEB)
    # and the attended contact is converted in another campaign (must not leak into this one's statuses)
    campaign_member_upsert(campaign=other, contact=sent, status="converted", created_at=FEB)
    # and opportunities: one per member opened after joining, one opened before joining (not counted)
    OpportunityFactory(primary_contact=sent, amount=100, opened_at=datetime(2026, 3, 1, tzinfo=UTC))
    OpportunityFactory(primary_contact=responded, amount=1000, opened_at=datetime(2026, 3, 1, tzinfo=UTC),
                       outcome="won")
    OpportunityFactory(primary_contact=attended, amount=10000, opened_at=datetime(2026, 3, 1, tzinfo=UTC))
    OpportunityFactory(primary_contact=attended, amount=50000, opened_at=JAN, outcome="won")

    summary = campaign_member_summary(campaign_id=campaign.pk)

    stages = {s.status: s for s in summary.stages}
    assert [s.status for s in summary.stages] == list(MemberStatus.values)
    assert summary.members == 3
    assert (stages["sent"].members, stages["sent"].reached, stages["sent"].pipeline) == (1, 3, 11100)
    assert (stages["responded"].reached, stages["responded"].pipeline, stages["responded"].revenue) == (2, 11000, 1000)
    assert (stages["attended"].reached, stages["attended"].pipeline, stages["attended"].revenue) == (1, 10000, 0)
    assert stages["attended"].cost_per_reached == 900
    assert (stages["converted"].reached, stages["converted"].pipeline, stages["converted"].cost_per_reached) == (
        0, 0, None)


# ---------------------------------------------------------------------------------------------------- the API

def test_api_post_member_is_201_then_200_and_moves_forward(api):
    campaign, contact = CampaignFactory(), ContactFactory()
    url = f"/api/campaigns/{campaign.pk}/members"

    first = api.post(url, {"contact_id": contact.pk, "status": "registered", "created_at": "2026-02-10T00:00:00Z"},
                     role="marketing")
    repeat = api.post(url, {"contact_id": contact.pk, "status": "sent"}, role="marketing")
    later = api.post(url, {"contact_id": contact.pk, "status": "attended"}, role="marketing")

    assert (first.status_code, repeat.status_code, later.status_code) == (201, 200, 200), first.json()
    assert first.json()["id"] == repeat.json()["id"] == later.json()["id"]
    assert (repeat.json()["status"], later.json()["status"]) == ("registered", "attended")
    assert later.json()["created_at"].startswith("2026-02-10")
    assert later.json()["first_responded_at"] == first.json()["first_responded_at"] is not None
    assert CampaignMember.objects.count() == 1


def test_api_member_errors_name_the_field_or_record(api):
    campaign = CampaignFactory()

    unknown_contact = api.post(f"/api/campaigns/{campaign.pk}/members", {"contact_id": 98765})
    bad_status = api.post(f"/api/campaigns/{campaign.pk}/members",
                          {"contact_id": ContactFactory().pk, "status": "clicked"})
    missing_campaign = api.post("/api/campaigns/98765/members", {"contact_id": ContactFactory().pk})
    viewer = api.post(f"/api/campaigns/{campaign.pk}/members", {"contact_id": ContactFactory().pk}, role="viewer")

    assert (unknown_contact.status_code, unknown_contact.json()["field"]) == (422, "contact_id")
    assert bad_status.status_code == 422
    assert "status" in str(bad_status.json())
    assert missing_campaign.status_code == 404
    assert viewer.status_code == 403
    assert CampaignMember.objects.count() == 0


def test_api_member_list_pages_and_filters_by_status(api):
    campaign = CampaignFactory()
    for i, status in enumerate(["sent", "attended", "attended"]):
        campaign_member_upsert(campaign=campaign, contact=ContactFactory(), status=status,
                               created_at=datetime(2026, 2, 1 + i, tzinfo=UTC))
    campaign_member_upsert(campaign=CampaignFactory(), contact=ContactFactory(), status="attended")

    attended = api.get(f"/api/campaigns/{campaign.pk}/members", role="viewer", status="attended", limit=1).json()
    everyone = api.get(f"/api/campaigns/{campaign.pk}/members", role="viewer").json()

    assert (attended["total"], len(attended["items"]), attended["items"][0]["status"]) == (2, 1, "attended")
    assert [m["status"] for m in everyone["items"]] == ["sent", "attended", "attended"]
    assert api.get("/api/campaigns/98765/members").status_code == 404


def test_api_member_summary(api):
    campaign = CampaignFactory(actual_cost=500)
    contact = ContactFactory()
    campaign_member_upsert(campaign=campaign, contact=contact, status="responded", created_at=FEB)
    OpportunityFactory(primary_contact=contact, amount=2500, opened_at=datetime(2026, 3, 1, tzinfo=UTC),
                       outcome="won")

    body = api.get(f"/api/campaigns/{campaign.pk}/members/summary", role="viewer").json()

    responded = next(s for s in body["stages"] if s["status"] == "responded")
    assert (body["members"], responded["reached"], responded["pipeline"], responded["revenue"]) == (1, 1, 2500, 2500)
    assert responded["cost_per_reached"] == 500
    assert api.get("/api/campaigns/98765/members/summary").status_code == 404


def test_campaign_page_shows_members_by_status(users, client):
    campaign = CampaignFactory(actual_cost=300)
    contact = ContactFactory()
    campaign_member_upsert(campaign=campaign, contact=contact, status="attended", created_at=FEB)
    OpportunityFactory(primary_contact=contact, amount=4200, opened_at=datetime(2026, 3, 1, tzinfo=UTC))
    client.force_login(users["marketing"])

    html = client.get(f"/campaigns/{campaign.pk}/").content.decode()

    assert "Members by status" in html
    row = html[html.index('data-status="attended"'):].split("</tr>")[0]
    assert "$4.2k" in row and "$300" in row  # the app's one money format
