"""The accounts, contacts and opportunities API: CRUD, paging, filters, foreign keys and payload errors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.testing.factories import AccountFactory, ContactFactory, OpportunityFactory


def error_fields(response) -> set[str]:
    return {d["field"] for d in response.json()["details"]}


# ---------------------------------------------------------------- accounts

def test_account_create_get_and_patch_round_trip(api, users):
    # given a revops user
    # when they create an account owned by a seller, then change its region
    created = api.post("/api/accounts", {"name": "Globex", "domain": "globex.example", "industry": "Software",
                                         "employees": 1200, "revenue_band": "50-250M", "region": "AMER",
                                         "owner_id": users["sales"].pk})
    assert created.status_code == 201, created.json()
    body = created.json()
    patched = api.patch(f"/api/accounts/{body['id']}", {"region": "EMEA", "owner_id": None})

    # then the account is stored, readable, and only the sent fields changed
    assert body["owner_username"] == "sales1"
    assert body["lifecycle_stage"] == "lead"
    assert patched.status_code == 200
    got = api.get(f"/api/accounts/{body['id']}", role="viewer").json()
    assert got["region"] == "EMEA" and got["owner_id"] is None and got["industry"] == "Software"
    assert Account.objects.get(pk=body["id"]).employees == 1200


def test_account_list_pages_and_filters(api):
    # given 7 software accounts in EMEA and 3 retail accounts
    AccountFactory.create_batch(7, industry="Software", region="EMEA")
    AccountFactory.create_batch(3, industry="Retail", region="AMER")

    # when a viewer pages through software accounts three at a time
    first = api.get("/api/accounts", role="viewer", industry="Software", limit=3).json()
    last = api.get("/api/accounts", role="viewer", industry="Software", limit=3, offset=6).json()

    # then the page says how many there are in total and returns the slice asked for
    assert (first["total"], first["limit"], first["offset"], len(first["items"])) == (7, 3, 0, 3)
    assert (last["total"], last["offset"], len(last["items"])) == (7, 6, 1)
    assert {a["industry"] for a in first["items"]} == {"Software"}
    ids = [a["id"] for a in first["items"]] + [a["id"] for a in last["items"]]
    assert len(set(ids)) == 4


def test_account_list_searches_by_name_and_stage(api):
    AccountFactory(name="Initech Ltd", lifecycle_stage="customer")
    AccountFactory(name="Initrode", lifecycle_stage="lead")
    AccountFactory(name="Hooli")

    by_name = api.get("/api/accounts", q="init").json()
    customers = api.get("/api/accounts", q="init", stage="customer").json()

    assert by_name["total"] == 2
    assert [a["name"] for a in customers["items"]] == ["Initech Ltd"]


@pytest.mark.parametrize(("params", "field"), [
    ({"limit": 0}, "limit"),
    ({"limit": 501}, "limit"),
    ({"offset": -1}, "offset"),
    ({"stage": "hot"}, "stage"),
    ({"owner_id": "me"}, "owner_id"),
])
def test_bad_list_parameters_are_422_naming_the_parameter(api, params, field):
    response = api.get("/api/accounts", **params)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert field in error_fields(response)


def test_invalid_account_lists_every_bad_field_and_writes_nothing(api):
    # given a payload with three problems
    payload = {"name": "", "employees": -4, "revenue_band": "huge", "emplyees": 3}

    # when it is posted
    response = api.post("/api/accounts", payload)

    # then every problem is named and no account exists
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "validation_error"
    assert {"name", "employees", "revenue_band", "emplyees"} <= error_fields(response)
    assert Account.objects.count() == 0


def test_unknown_owner_is_422_naming_owner_id(api):
    response = api.post("/api/accounts", {"name": "Acme", "owner_id": 987654})

    assert response.status_code == 422
    assert response.json()["field"] == "owner_id"
    assert "987654" in response.json()["message"]
    assert Account.objects.count() == 0


@pytest.mark.parametrize("path", ["/api/accounts/424242", "/api/contacts/424242", "/api/opportunities/424242"])
def test_missing_record_is_404_not_found(api, path):
    response = api.get(path)

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "424242" in response.json()["message"]


def test_patch_of_missing_record_is_404_and_writes_nothing(api):
    response = api.patch("/api/accounts/424242", {"name": "Ghost"})

    assert response.status_code == 404
    assert not Account.objects.filter(name="Ghost").exists()


def test_malformed_json_is_422(api):
    response = api.client.post("/api/accounts", "{not json", content_type="application/json",
                               headers={"Authorization": f"Bearer {api.tokens['revops']}"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert Account.objects.count() == 0


def test_duplicate_source_key_is_409_conflict(api):
    AccountFactory(source="hubspot", source_id="42")

    response = api.post("/api/accounts", {"name": "Dup", "source": "hubspot", "source_id": "42"})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert Account.objects.filter(source_id="42").count() == 1
    # and the connection is still usable after the rolled-back insert (PostgreSQL aborts the transaction)
    assert api.get("/api/accounts").json()["total"] == 1


# ---------------------------------------------------------------- contacts

def test_contact_create_links_account_and_normalises_email(api):
    account = AccountFactory(name="Umbrella")

    response = api.post("/api/contacts", {"account_id": account.pk, "email": "  Ada@Umbrella.EXAMPLE ",
                                          "first_name": "Ada", "buying_role": "champion",
                                          "attributes": {"country": "DE"}})

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["email"] == "ada@umbrella.example"
    assert body["account_name"] == "Umbrella"
    assert body["lifecycle_stage"] == "lead"
    assert Contact.objects.get(pk=body["id"]).attributes == {"country": "DE"}


def test_contact_unknown_account_is_422_naming_account_id(api):
    response = api.post("/api/contacts", {"account_id": 999999, "email": "x@y.example"})

    assert response.status_code == 422
    assert response.json()["field"] == "account_id"
    assert Contact.objects.count() == 0


def test_contact_invalid_email_is_422_naming_email(api):
    response = api.post("/api/contacts", {"email": "not-an-email"})

    assert response.status_code == 422
    assert response.json()["field"] == "email"
    assert Contact.objects.count() == 0


def test_duplicate_contact_email_is_409_and_keeps_the_first(api):
    ContactFactory(email="dup@corp.example")

    response = api.post("/api/contacts", {"email": "DUP@corp.example", "first_name": "Other"})

    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    assert "email" in response.json()["message"]
    assert Contact.objects.filter(email="dup@corp.example").count() == 1


@pytest.mark.parametrize("method", ["post", "patch"])
def test_contact_stage_is_not_writable_and_points_to_stage_changes(api, method):
    contact = ContactFactory()
    path = "/api/contacts" if method == "post" else f"/api/contacts/{contact.pk}"

    response = getattr(api, method)(path, {"email": "new@corp.example", "lifecycle_stage": "customer"})

    assert response.status_code == 422
    assert response.json()["field"] == "lifecycle_stage"
    assert "stage-changes" in response.json()["message"]
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "lead"
    assert not Contact.objects.filter(email="new@corp.example").exists()


def test_contact_list_filters_by_account_and_buying_role(api):
    account = AccountFactory()
    ContactFactory.create_batch(2, account=account, buying_role="champion")
    ContactFactory(account=account, buying_role="user")
    ContactFactory(buying_role="champion")

    response = api.get("/api/contacts", role="viewer", account_id=account.pk, buying_role="champion").json()

    assert response["total"] == 2
    assert {c["account_id"] for c in response["items"]} == {account.pk}


def test_contact_list_does_not_query_per_row(api, django_assert_max_num_queries):
    ContactFactory.create_batch(12)

    # auth (2 queries) + count + page: independent of the number of rows
    with django_assert_max_num_queries(6):
        response = api.get("/api/contacts", limit=50)

    assert len(response.json()["items"]) == 12


# ---------------------------------------------------------------- opportunities

def test_opportunity_create_defaults_opened_at_and_closes_with_patch(api):
    from smarketing.core import clock

    clock.freeze(datetime(2026, 6, 1, 9, tzinfo=UTC))  # "now" opens it before it closes on 30 June
    account = AccountFactory()
    contact = ContactFactory(account=account)

    created = api.post("/api/opportunities", {"account_id": account.pk, "primary_contact_id": contact.pk,
                                              "name": "Globex expansion", "type": "expansion",
                                              "amount": "48000.50", "currency": "EUR"})
    assert created.status_code == 201, created.json()
    opp_id = created.json()["id"]
    closed = api.patch(f"/api/opportunities/{opp_id}", {"stage": "closed_lost", "outcome": "lost",
                                                        "loss_reason": "Budget frozen",
                                                        "closed_at": "2026-06-30T12:00:00+02:00"})

    assert created.json()["opened_at"] is not None
    assert created.json()["amount"] == 48000.5
    assert closed.status_code == 200
    opp = Opportunity.objects.get(pk=opp_id)
    assert (opp.outcome, opp.loss_reason, opp.currency) == ("lost", "Budget frozen", "EUR")
    assert opp.closed_at.utcoffset().total_seconds() == 0 and opp.closed_at.hour == 10


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": "Deal", "amount": -1}, "amount"),
    ({"name": "Deal", "currency": "euro"}, "currency"),
    ({"name": "Deal", "opened_at": "2026-01-01T10:00:00"}, "opened_at"),
    ({"name": "Deal", "outcome": "maybe"}, "outcome"),
    ({"name": "Deal", "primary_contact_id": 555555}, "primary_contact_id"),
    ({"amount": 10}, "name"),
])
def test_invalid_opportunity_is_422_naming_the_field(api, payload, field):
    response = api.post("/api/opportunities", payload)

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert field in {d["field"] for d in response.json().get("details", [])} | {response.json().get("field")}
    assert Opportunity.objects.count() == 0


def test_opportunity_list_filters_by_outcome(api):
    OpportunityFactory.create_batch(2, outcome="won", stage="closed_won")
    OpportunityFactory(outcome="open")

    won = api.get("/api/opportunities", outcome="won").json()

    assert won["total"] == 2
    assert {o["outcome"] for o in won["items"]} == {"won"}


@pytest.mark.parametrize(("path", "factory", "model"), [
    ("/api/accounts", AccountFactory, Account),
    ("/api/contacts", ContactFactory, Contact),
    ("/api/opportunities", OpportunityFactory, Opportunity),
])
def test_updated_after_returns_only_recent_changes_for_incremental_sync(api, path, factory, model):
    old, recent = factory(), factory()
    model.objects.filter(pk=old.pk).update(updated_at=datetime(2026, 1, 1, tzinfo=UTC))
    model.objects.filter(pk=recent.pk).update(updated_at=datetime(2026, 6, 1, tzinfo=UTC))

    page = api.get(path, updated_after="2026-03-01T00:00:00Z").json()

    assert [i["id"] for i in page["items"]] == [recent.pk]
