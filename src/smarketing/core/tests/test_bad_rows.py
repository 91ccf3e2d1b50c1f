"""Analytics never trusts stored rows: a date no engine can represent, or a non-finite number, is skipped and
counted in the result's warnings, never a 500 (the rows are written straight to the database, as old data was)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client

from smarketing.core import clock

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch, settings):
    from smarketing.web.data import common

    settings.SMARKETING_WEB_WARM = False
    monkeypatch.setattr(common, "RUN_INLINE", True)
    common.clear()
    yield
    common.clear()


@pytest.fixture
def bad_history(db, users, active_playbook):
    """Given a small funnel this quarter, then a touchpoint dated 2300, one not finite and a stage change in 2300."""
    from smarketing.campaigns.models import Touchpoint
    from smarketing.lifecycle.enums import ActorKind
    from smarketing.lifecycle.models import StageChange
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import (
        CampaignFactory,
        ContactFactory,
        OpportunityFactory,
        TouchpointFactory,
    )

    clock.freeze(NOW)
    campaign = CampaignFactory(name="Webinar", start_date=datetime(2026, 10, 1).date())
    start = datetime(2026, 10, 5, 14, tzinfo=UTC)
    contacts = []
    for i in range(3):
        contact = ContactFactory(first_seen_at=start, owner=users["sales"])
        TouchpointFactory(contact=contact, campaign=campaign, occurred_at=start + timedelta(hours=i))
        for j, stage in enumerate(["lead", "mql", "sal"][: i + 1]):
            stage_change_record(contact=contact, to_stage=stage, occurred_at=start + timedelta(days=j, hours=i),
                                actor_kind=ActorKind.SYSTEM)
        contacts.append(contact)
    OpportunityFactory(account=contacts[0].account, amount=1000, opened_at=start)
    winner = ContactFactory(first_seen_at=datetime(2026, 2, 1, tzinfo=UTC), owner=users["sales"])
    for j, stage in enumerate(["lead", "mql", "sal", "sql", "opportunity", "customer"]):
        stage_change_record(contact=winner, to_stage=stage, occurred_at=datetime(2026, 2, 1 + 3 * j, tzinfo=UTC),
                            actor_kind=ActorKind.SYSTEM)
    OpportunityFactory(account=winner.account, primary_contact=winner, amount=5000, outcome="won", stage="closed_won",
                       opened_at=datetime(2026, 3, 1, tzinfo=UTC), closed_at=datetime(2026, 4, 1, tzinfo=UTC))
    late = TouchpointFactory(contact=contacts[0], campaign=campaign, occurred_at=start)
    infinite = TouchpointFactory(contact=contacts[1], campaign=campaign, occurred_at=start)
    change = StageChange.objects.filter(contact=contacts[2], to_stage="sal").get()
    with connection.cursor() as cursor:
        table = Touchpoint._meta.db_table
        cursor.execute(f"UPDATE {table} SET occurred_at = %s WHERE id = %s",
                       [datetime(2300, 1, 1, tzinfo=UTC), late.pk])
        # SQLite keeps an infinite float (and stores NaN as null); PostgreSQL's numeric(14, 2) keeps NaN only.
        not_finite = float("inf") if connection.vendor == "sqlite" else float("nan")
        cursor.execute(f"UPDATE {table} SET value = %s WHERE id = %s", [not_finite, infinite.pk])
        cursor.execute(f"UPDATE {StageChange._meta.db_table} SET occurred_at = %s WHERE id = %s",
                       [datetime(2300, 1, 1, tzinfo=UTC), change.pk])
    return {"campaign": campaign, "contacts": contacts}


API_PATHS = [
    ("/api/analytics/journeys", {}),
    ("/api/analytics/funnel", {"from_stage": "lead", "to_stage": "sal"}),
    ("/api/analytics/goals", {"period": "2026-Q4", "revenue": "100000"}),
    ("/api/analytics/attribution", {}),
    ("/api/analytics/roi", {}),
    ("/api/metrics", {"period": "2026-Q4"}),
]


@pytest.mark.parametrize(("path", "params"), API_PATHS)
def test_every_analytics_endpoint_answers_with_a_warning_after_bad_rows(bad_history, api, path, params):
    response = api.get(path, **params)

    assert response.status_code == 200, response.content[:500]
    body = response.json()
    if path != "/api/metrics":  # metrics runs several queries; its figures are checked on the pages below
        assert any("row(s) skipped" in w for w in body["warnings"]), body.get("warnings")


def test_journeys_count_the_skipped_touchpoints_and_stage_changes(bad_history, api):
    body = api.get("/api/analytics/journeys").json()

    assert "2 touchpoints row(s) skipped: a date outside 1900–2200 or a number that is not finite" in body["warnings"]
    assert "1 stage changes row(s) skipped: a date outside 1900–2200 or a number that is not finite" in body["warnings"]


def test_the_funnel_still_counts_the_good_rows(bad_history, api):
    body = api.get("/api/analytics/funnel", from_stage="lead", to_stage="mql").json()

    assert body["warnings"] == ["1 stage changes row(s) skipped: a date outside 1900–2200 or a number that is "
                                "not finite"]


@pytest.mark.parametrize("path", ["/", "/funnel/", "/goals/", "/journeys/", "/campaigns/"])
def test_every_analytics_page_answers_with_a_note_after_bad_rows(bad_history, users, path):
    client = Client()
    client.force_login(users["revops"])

    response = client.get(path)

    assert response.status_code == 200
    assert b"Some stored rows could not be used in these figures" in response.content


def test_clean_data_has_no_warnings(db, users, active_playbook, api):
    from smarketing.testing.factories import TouchpointFactory

    TouchpointFactory()

    body = api.get("/api/analytics/journeys").json()

    assert "warnings" not in body
    assert all("warnings" not in path for path in body["top_paths"])
