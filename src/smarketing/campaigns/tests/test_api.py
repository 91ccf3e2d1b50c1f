"""The campaigns API and the append-only touchpoint log."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.testing.factories import CampaignFactory, ContactFactory, TouchpointFactory


def test_campaign_create_and_patch(api, users):
    created = api.post("/api/campaigns", {"name": "Close faster webinar", "channel": "webinar", "type": "demand_gen",
                                          "start_date": "2026-03-01", "end_date": "2026-03-31", "budget": 12000,
                                          "owner_id": users["marketing"].pk, "audience": "Finance leaders",
                                          "core_message": "Close the books in three days"})
    assert created.status_code == 201, created.json()
    campaign_id = created.json()["id"]

    patched = api.patch(f"/api/campaigns/{campaign_id}", {"actual_cost": "9870.25"}, role="marketing")

    assert patched.status_code == 200
    assert patched.json()["actual_cost"] == 9870.25
    assert patched.json()["budget"] == 12000
    assert patched.json()["owner_username"] == "marketing1"
    assert str(Campaign.objects.get(pk=campaign_id).actual_cost) == "9870.25"


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": "C", "channel": "telepathy", "start_date": "2026-01-01"}, "channel"),
    ({"name": "C", "channel": "email", "start_date": "2026-02-01", "end_date": "2026-01-01"}, "end_date"),
    ({"name": "C", "channel": "email", "start_date": "2026-02-01", "budget": -10}, "budget"),
    ({"name": "C", "channel": "email"}, "start_date"),
    ({"name": "C", "channel": "email", "start_date": "2026-02-01", "owner_id": 98765}, "owner_id"),
])
def test_invalid_campaign_is_422_naming_the_field(api, payload, field):
    response = api.post("/api/campaigns", payload)

    assert response.status_code == 422
    assert field in {d["field"] for d in response.json().get("details", [])} | {response.json().get("field")}
    assert Campaign.objects.count() == 0


def test_campaign_list_filters_by_channel_newest_first(api):
    CampaignFactory(name="Old", channel="email", start_date="2025-01-01")
    CampaignFactory(name="New", channel="email", start_date="2026-05-01")
    CampaignFactory(name="Other", channel="paid_search")

    page = api.get("/api/campaigns", role="viewer", channel="email").json()

    assert [c["name"] for c in page["items"]] == ["New", "Old"]
    assert page["total"] == 2


# ---------------------------------------------------------------- touchpoints

def test_touchpoint_append_stamps_the_contacts_account(api):
    contact = ContactFactory()
    campaign = CampaignFactory()

    response = api.post("/api/touchpoints", {"contact_id": contact.pk, "campaign_id": campaign.pk,
                                             "channel": "webinar", "kind": "webinar_attended",
                                             "occurred_at": "2026-02-03T16:00:00+01:00", "value": 1})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["account_id"] == contact.account_id
    assert body["campaign_id"] == campaign.pk
    assert Touchpoint.objects.get(pk=body["id"]).occurred_at == datetime(2026, 2, 3, 15, tzinfo=UTC)


def test_touchpoint_with_the_same_source_id_is_recorded_once(api):
    # given an event delivered by a webhook that retries
    contact = ContactFactory()
    event = {"contact_id": contact.pk, "channel": "email", "kind": "email_click",
             "occurred_at": "2026-02-03T16:00:00Z", "source": "hubspot", "source_id": "evt-981"}

    # when it arrives three times
    responses = [api.post("/api/touchpoints", event) for _ in range(3)]

    # then the first creates it (201) and repeats return the same row (200)
    assert [r.status_code for r in responses] == [201, 200, 200]
    assert len({r.json()["id"] for r in responses}) == 1
    assert Touchpoint.objects.filter(source="hubspot", source_id="evt-981").count() == 1


def test_same_source_id_from_another_source_is_a_new_touchpoint(api):
    contact = ContactFactory()
    base = {"contact_id": contact.pk, "channel": "email", "kind": "email_click",
            "occurred_at": "2026-02-03T16:00:00Z", "source_id": "1"}

    first = api.post("/api/touchpoints", {**base, "source": "hubspot"})
    second = api.post("/api/touchpoints", {**base, "source": "marketo"})

    assert (first.status_code, second.status_code) == (201, 201)
    assert Touchpoint.objects.count() == 2


@pytest.mark.parametrize(("change", "field"), [
    ({"contact_id": 999999}, "contact_id"),
    ({"campaign_id": 999999}, "campaign_id"),
    ({"occurred_at": "2026-02-03T16:00:00"}, "occurred_at"),
    ({"kind": "telepathy"}, "kind"),
    ({"channel": None}, "channel"),
    ({"actor_id": 999999}, "actor_id"),
])
def test_invalid_touchpoint_is_422_and_writes_nothing(api, change, field):
    contact = ContactFactory()
    payload = {"contact_id": contact.pk, "channel": "email", "kind": "email_open",
               "occurred_at": "2026-02-03T16:00:00Z", **change}

    response = api.post("/api/touchpoints", payload)

    assert response.status_code == 422
    assert field in {d["field"] for d in response.json().get("details", [])} | {response.json().get("field")}
    assert Touchpoint.objects.count() == 0


def test_touchpoint_records_the_rep_who_made_it(api, users):
    # given a dialer that knows which rep called
    contact = ContactFactory()

    # when it posts the call with the rep's user id
    response = api.post("/api/touchpoints", {"contact_id": contact.pk, "channel": "sales", "kind": "sales_call",
                                             "occurred_at": "2026-02-03T16:00:00Z", "actor_id": users["sales"].pk})

    # then the row names the rep, and the list shows and filters by them
    assert response.status_code == 201, response.json()
    assert (response.json()["actor_id"], response.json()["actor_username"]) == (users["sales"].pk, "sales1")
    assert Touchpoint.objects.get(pk=response.json()["id"]).actor == users["sales"]
    TouchpointFactory(contact=contact)  # a marketing touch: no actor
    page = api.get("/api/touchpoints", role="viewer", contact_id=contact.pk).json()
    assert [i["actor_username"] for i in page["items"]] == [None, "sales1"]
    mine = api.get("/api/touchpoints", role="viewer", actor_id=users["sales"].pk).json()
    assert [i["id"] for i in mine["items"]] == [response.json()["id"]]


def test_touchpoint_repeat_with_another_actor_keeps_the_first_row(api, users):
    contact = ContactFactory()
    event = {"contact_id": contact.pk, "channel": "sales", "kind": "sales_email",
             "occurred_at": "2026-02-03T16:00:00Z", "source": "outreach", "source_id": "m-1"}

    first = api.post("/api/touchpoints", {**event, "actor_id": users["sales"].pk})
    repeat = api.post("/api/touchpoints", {**event, "actor_id": users["revops"].pk})

    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json()["actor_id"] == users["sales"].pk
    assert Touchpoint.objects.get().actor == users["sales"]


def test_touchpoint_list_filters_by_contact_kind_and_time_window(api):
    contact = ContactFactory()
    for day in (1, 10, 20):
        TouchpointFactory(contact=contact, kind="email_open", channel="email",
                          occurred_at=datetime(2026, 3, day, 12, tzinfo=UTC))
    TouchpointFactory(contact=contact, kind="form_fill", occurred_at=datetime(2026, 3, 10, 12, tzinfo=UTC))
    TouchpointFactory(kind="email_open", occurred_at=datetime(2026, 3, 10, 12, tzinfo=UTC))

    page = api.get("/api/touchpoints", role="viewer", contact_id=contact.pk, kind="email_open",
                   occurred_after="2026-03-05T00:00:00Z", occurred_before="2026-03-20T12:00:00Z").json()

    assert page["total"] == 1
    assert page["items"][0]["occurred_at"].startswith("2026-03-10")


def test_touchpoint_list_is_oldest_first(api):
    contact = ContactFactory()
    for day in (9, 2, 5):
        TouchpointFactory(contact=contact, occurred_at=datetime(2026, 4, day, tzinfo=UTC))

    items = api.get("/api/touchpoints", contact_id=contact.pk).json()["items"]

    assert [i["occurred_at"][:10] for i in items] == ["2026-04-02", "2026-04-05", "2026-04-09"]


def test_patch_that_ends_a_campaign_before_it_starts_is_422(api):
    campaign = CampaignFactory(start_date="2026-05-01")

    response = api.patch(f"/api/campaigns/{campaign.pk}", {"end_date": "2026-04-30"})

    assert response.status_code == 422
    assert response.json()["field"] == "end_date"
    campaign.refresh_from_db()
    assert campaign.end_date is None
