"""Bulk creation of imported accounts, contacts and opportunities: new rows by source key, the rest left alone,
every row checked first with the error naming the record and the field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.crm.services import accounts_bulk_create, contacts_bulk_create, opportunities_bulk_create

WHEN = datetime(2026, 2, 1, tzinfo=UTC)


def test_contacts_are_created_once_per_source_key(db):
    # given an account and two imported contacts, one of them at the account
    ids, created = accounts_bulk_create(source="crm", rows=[{"source_id": "a1", "name": "Acme"}])
    rows = [{"source_id": "c1", "first_name": "Ada", "email": " Ada@Example.com", "account_id": ids["a1"],
             "first_seen_at": WHEN},
            {"source_id": "c2", "first_name": "Bob", "attributes": {"origin": "social"}}]
    # when they are imported twice
    first, made = contacts_bulk_create(source="crm", rows=rows)
    again, made_again = contacts_bulk_create(source="crm", rows=[{**rows[0], "first_name": "Changed"}, rows[1]])
    # then the first import created them as leads and the second found them, leaving them as they were
    assert (created, made, made_again) == (1, 2, 0)
    assert first == again and set(first) == {"c1", "c2"}
    ada = Contact.objects.get(pk=first["c1"])
    assert (ada.first_name, ada.email, ada.account_id, ada.lifecycle_stage) == ("Ada", "ada@example.com",
                                                                                ids["a1"], "lead")
    assert Contact.objects.get(pk=first["c2"]).attributes == {"origin": "social"}


@pytest.mark.parametrize(("row", "field"), [
    ({"source_id": "c9", "lifecycle_stage": "customer"}, "lifecycle_stage"),  # the lifecycle's to set
    ({"source_id": "c9", "buying_role": "boss"}, "buying_role"),
    ({"source_id": "c9", "country": "x" * 65}, "country"),
    ({"source_id": "c9", "first_seen_at": datetime(2026, 2, 1)}, "first_seen_at"),
    ({"source_id": ""}, "source_id"),
    ({"source_id": "c1"}, "source_id"),  # repeats the first row
])
def test_a_bad_contact_row_is_named_and_nothing_is_written(db, row, field):
    with pytest.raises(ValidationFailed) as err:
        contacts_bulk_create(source="crm", rows=[{"source_id": "c1", "first_name": "Ada"}, row])
    assert err.value.field == field
    assert Contact.objects.count() == 0


def test_opportunities_refuse_a_negative_amount_and_unknown_outcomes(db):
    ids, _ = accounts_bulk_create(source="crm", rows=[{"source_id": "a1", "name": "Acme"}])
    base = {"source_id": "o1", "account_id": ids["a1"], "name": "Deal", "opened_at": WHEN}
    with pytest.raises(ValidationFailed) as err:
        opportunities_bulk_create(source="crm", rows=[{**base, "amount": Decimal("-1")}])
    assert err.value.field == "amount"
    with pytest.raises(ValidationFailed) as err:
        opportunities_bulk_create(source="crm", rows=[{**base, "outcome": "maybe"}])
    assert err.value.field == "outcome"
    _, created = opportunities_bulk_create(source="crm", rows=[{**base, "amount": Decimal("10.00"),
                                                                "outcome": "won", "closed_at": WHEN}])
    assert created == 1 and Opportunity.objects.get().outcome == "won"
    assert Account.objects.get().lifecycle_stage == "lead"  # accounts move only through the lifecycle
