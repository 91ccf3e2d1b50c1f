"""Bulk inserts write rows the ORM reads back exactly, with defaults for columns the seeder leaves out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from smarketing.campaigns.models import Touchpoint
from smarketing.core import bulk
from smarketing.demo import writer
from smarketing.testing.factories import ContactFactory


@pytest.mark.parametrize("moment", [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59,
                                                                                         tzinfo=UTC)])
def test_bulk_inserted_times_read_back_and_compare_like_orm_written_ones(db, moment):
    # given a contact and a touch written by the ORM one second after the bulk one
    contact = ContactFactory()
    Touchpoint.objects.create(contact=contact, channel="email", kind="email_open",
                              occurred_at=moment + timedelta(seconds=1))
    stamp = writer.timestamps(np.array([moment.replace(tzinfo=None)], dtype="datetime64[s]"))[0]
    # when a touch is bulk-inserted without the columns that have defaults (value, source_id)
    writer.begin_bulk()
    n = bulk.rows_insert(Touchpoint, ["contact", "account", "campaign", "channel", "kind", "occurred_at", "source",
                                   "recorded_at"], [(contact.pk, None, None, "display", "ad_click", stamp, "demo",
                                                     stamp)])
    # then the ORM reads it back as the same aware moment, with defaults, ordered before the later one
    assert n == 1
    inserted = Touchpoint.objects.get(kind="ad_click")
    assert inserted.occurred_at == moment and inserted.source_id == "" and inserted.value is None
    assert list(Touchpoint.objects.filter(occurred_at__gt=moment).values_list("kind", flat=True)) == ["email_open"]
    assert list(Touchpoint.objects.order_by("occurred_at").values_list("kind", flat=True)) == ["ad_click",
                                                                                                "email_open"]
