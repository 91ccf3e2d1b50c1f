"""Dates entering the product are checked against the activity window: 1970-01-01 to one year after now."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from smarketing.core import clock
from smarketing.core.validation import activity_window_problem

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "inside"), [
    (datetime(1970, 1, 1, tzinfo=UTC), True),
    (datetime(1969, 12, 31, 23, 59, tzinfo=UTC), False),
    (datetime(2027, 11, 20, 14, 0, tzinfo=UTC), True),
    (datetime(2027, 11, 21, tzinfo=UTC), False),
    (date(2300, 1, 1), False),
    (date(2026, 1, 1), True),
])
def test_the_window_runs_from_1970_to_a_year_ahead(value, inside):
    clock.freeze(NOW)

    assert (activity_window_problem(value) is None) is inside


@pytest.fixture
def contact(db):
    from smarketing.testing.factories import ContactFactory

    clock.freeze(NOW)
    return ContactFactory()


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/touchpoints", {"channel": "webinar", "kind": "webinar_attended", "occurred_at": "2300-01-01T00:00:00Z"},
     "occurred_at"),
    ("/api/touchpoints", {"channel": "webinar", "kind": "webinar_attended", "occurred_at": 1700000000},
     "occurred_at"),
    ("/api/stage-changes", {"to_stage": "mql", "occurred_at": "2300-01-01T00:00:00Z"}, "occurred_at"),
    ("/api/stage-changes", {"to_stage": "mql", "occurred_at": "1900-01-01T00:00:00Z"}, "occurred_at"),
    ("/api/feedback", {"text": "Too expensive", "occurred_at": "9999-01-01T00:00:00Z"}, "occurred_at"),
    ("/api/opportunities", {"name": "Deal", "opened_at": "2300-01-01T00:00:00Z"}, "opened_at"),
    ("/api/campaigns", {"name": "Far", "channel": "webinar", "start_date": "2300-01-01"}, "start_date"),
    ("/api/campaigns", {"name": "Old", "channel": "webinar", "start_date": "1969-12-01"}, "start_date"),
])
def test_a_date_outside_the_window_is_refused_naming_the_field(api, active_playbook, contact, path, body, field):
    body = {**body, "contact_id": contact.pk} if "campaigns" not in path else body
    if "opportunities" in path:
        body = {**body, "account_id": contact.account_id}

    response = api.post(path, body)

    assert response.status_code == 422, response.content
    assert response.json()["field"] == field


def test_a_touchpoint_inside_the_window_is_accepted(api, active_playbook, contact):
    response = api.post("/api/touchpoints", {"contact_id": contact.pk, "channel": "webinar",
                                             "kind": "webinar_attended", "occurred_at": "2026-11-01T10:00:00Z"})

    assert response.status_code == 201, response.content


def test_the_touchpoint_importer_refuses_a_date_outside_the_window(active_playbook, contact, tmp_path):
    from smarketing.campaigns.models import Touchpoint
    from smarketing.core.errors import ValidationFailed
    from smarketing.ingest.touchpoints import touchpoints_import

    path = tmp_path / "touches.csv"
    path.write_text(f"contact_id,channel,kind,occurred_at\n{contact.pk},webinar,webinar_attended,2300-01-01T00:00:00Z\n")

    with pytest.raises(ValidationFailed) as exc:
        touchpoints_import(path=path)

    assert "occurred_at" in str(exc.value) and "plausible window" in str(exc.value)
    assert Touchpoint.objects.count() == 0


def test_the_feedback_importer_refuses_a_date_outside_the_window(active_playbook, contact):
    from smarketing.core.errors import ValidationFailed
    from smarketing.feedback.capture import feedback_import_csv

    with pytest.raises(ValidationFailed) as exc:
        feedback_import_csv(data=b"text,occurred_at\nToo expensive,2300-01-01\n", author=None)

    assert "plausible window" in str(exc.value)
