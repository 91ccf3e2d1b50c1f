"""Bulk writes of imported campaigns and past touchpoints: new rows by source key, rows checked first, and no
touchpoint hook for history (no first-touch clock is met by the past, nothing is rescored one by one)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from smarketing.campaigns import services
from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.campaigns.services import (
    campaigns_bulk_create,
    touchpoints_bulk_record,
    touchpoints_record_many,
)
from smarketing.core.errors import ValidationFailed
from smarketing.testing.factories import ContactFactory

WHEN = datetime(2026, 2, 1, 9, tzinfo=UTC)


def touch(contact: int, sid: str, **over: object) -> dict[str, object]:
    return {"contact_id": contact, "account_id": None, "channel": "sales", "kind": "sales_call",
            "occurred_at": WHEN, "source": "crm", "source_id": sid, **over}


def test_past_touchpoints_run_no_hook_while_live_ones_do(db, monkeypatch, django_capture_on_commit_callbacks):
    # given a hook that records what it is called for
    seen = []
    monkeypatch.setattr(services, "TOUCHPOINT_HOOKS", [seen.append])
    contact = ContactFactory()
    # when history is imported in bulk, and then a live touch is recorded
    with django_capture_on_commit_callbacks(execute=True):
        added = touchpoints_bulk_record(touchpoints=[touch(contact.pk, "t1", value=Decimal("12.50")),
                                                     touch(contact.pk, "t2")])
    with django_capture_on_commit_callbacks(execute=True):
        touchpoints_record_many(touchpoints=[touch(contact.pk, "t3")])
    # then only the live touch ran the hook
    assert added == 2
    past = Touchpoint.objects.get(source_id="t1")
    assert (past.contact_id, past.kind, past.occurred_at, past.value) == (contact.pk, "sales_call", WHEN,
                                                                         Decimal("12.50"))
    assert seen == [Touchpoint.objects.get(source_id="t3").pk]
    # and a re-import adds nothing
    assert touchpoints_bulk_record(touchpoints=[touch(contact.pk, "t1")]) == 0


@pytest.mark.parametrize(("over", "field"), [
    ({"channel": "tv"}, "channel"),
    ({"kind": "smoke_signal"}, "kind"),
    ({"occurred_at": datetime(2026, 2, 1)}, "occurred_at"),
    ({"source_id": ""}, "source_id"),
    ({"contact_id": None}, "contact_id"),
    ({"campaign": None}, "campaign"),
])
def test_a_bad_touchpoint_row_is_named_and_nothing_is_written(db, over, field):
    contact = ContactFactory()
    with pytest.raises(ValidationFailed) as err:
        touchpoints_bulk_record(touchpoints=[touch(contact.pk, "ok"), touch(contact.pk, "bad", **over)])
    assert err.value.field == field
    assert Touchpoint.objects.count() == 0


def test_campaigns_are_created_once_per_source_key(db):
    row = {"source_id": "lp1", "name": "Landing page 1", "channel": "paid_search", "start_date": date(2026, 1, 5)}
    ids, created = campaigns_bulk_create(source="web", rows=[row])
    again, created_again = campaigns_bulk_create(source="web", rows=[{**row, "name": "Renamed"}])
    assert (created, created_again) == (1, 0) and ids == again
    assert Campaign.objects.get().name == "Landing page 1"
    with pytest.raises(ValidationFailed) as err:
        campaigns_bulk_create(source="web", rows=[{**row, "source_id": "lp2", "end_date": date(2026, 1, 1)}])
    assert err.value.field == "end_date"
