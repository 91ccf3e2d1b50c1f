"""Touchpoints under hostile input: concurrent replays of one source id, negative or non-finite values, a number
as `occurred_at`."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from smarketing.campaigns.models import Touchpoint
from smarketing.campaigns.services import touchpoint_record, touchpoints_bulk_record
from smarketing.core.errors import ValidationFailed
from smarketing.testing.factories import ContactFactory

AT = datetime(2026, 10, 6, 14, tzinfo=UTC)
REPLAYS = 80
THREADS = 20  # each sends REPLAYS / THREADS requests: 80 replays without 80 database connections


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (SQLite serialises them)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_replays_of_one_source_id_all_answer_200_or_201_with_one_row(api) -> None:
    # given one touchpoint delivered 80 times at once by a retrying sender
    contact: Any = ContactFactory()
    body = {"contact_id": contact.pk, "channel": "email", "kind": "email_click", "occurred_at": AT.isoformat(),
            "source": "mailer", "source_id": "evt-race-1"}
    headers = {"Authorization": f"Bearer {api.tokens['marketing']}"}
    start = threading.Barrier(THREADS)
    answers: list[tuple[int, int | None]] = []
    errors: list[BaseException] = []

    def replay() -> None:
        from django.db import connection as thread_connection

        client = Client()
        try:
            start.wait(timeout=30)
            for _ in range(REPLAYS // THREADS):
                response = client.post("/api/touchpoints", body, content_type="application/json", headers=headers)
                answers.append((response.status_code, response.json().get("id")))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            thread_connection.close()

    # when they all arrive
    threads = [threading.Thread(target=replay) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    # then one row was appended, one answer is 201 and every other one the documented 200 with that row
    assert errors == []
    assert len(answers) == REPLAYS
    statuses = sorted(status for status, _ in answers)
    assert statuses == [200] * (REPLAYS - 1) + [201]
    [row] = Touchpoint.objects.filter(source="mailer", source_id="evt-race-1")
    assert {pk for _, pk in answers} == {row.pk}


@pytest.mark.parametrize("value", ["-0.01", "-500"])
def test_a_negative_value_is_refused_by_the_api_and_the_service(api, value):
    contact: Any = ContactFactory()
    body = {"contact_id": contact.pk, "channel": "sales", "kind": "sales_call", "occurred_at": AT.isoformat(),
            "value": value}

    response = api.post("/api/touchpoints", body, role="sales")
    with pytest.raises(ValidationFailed) as exc:
        touchpoint_record(contact=contact, channel="sales", kind="sales_call", occurred_at=AT, value=Decimal(value))

    assert response.status_code == 422
    assert response.json()["field"] == "value" and "negative" in response.json()["message"]
    assert exc.value.field == "value"
    assert not Touchpoint.objects.exists()


@pytest.mark.parametrize(("value", "problem"), [(Decimal("-1"), "negative"), (Decimal("NaN"), "finite"),
                                                (float("inf"), "finite")])
def test_the_import_path_refuses_the_same_values_naming_the_row(db, value, problem):
    contact: Any = ContactFactory()
    rows = [{"contact_id": contact.pk, "account_id": contact.account_id, "channel": "sales", "kind": "sales_call",
             "occurred_at": AT, "source": "dialer", "source_id": "call-9", "value": value}]

    with pytest.raises(ValidationFailed) as exc:
        touchpoints_bulk_record(touchpoints=rows)

    assert exc.value.field == "value" and exc.value.record == "touchpoint:dialer:call-9"
    assert problem in exc.value.message
    assert not Touchpoint.objects.exists()


@pytest.mark.parametrize("occurred_at", [1700000000, 1700000000.5])
def test_a_number_as_occurred_at_is_refused_not_read_as_seconds_since_1970(api, occurred_at):
    contact: Any = ContactFactory()
    body = {"contact_id": contact.pk, "channel": "email", "kind": "email_open", "occurred_at": occurred_at}

    response = api.post("/api/touchpoints", body, role="marketing")

    assert response.status_code == 422
    assert response.json()["field"] == "occurred_at"
    assert not Touchpoint.objects.exists()
