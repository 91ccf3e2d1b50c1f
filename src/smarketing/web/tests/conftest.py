"""A small company with history in Q4 2026, and logged-in clients per role."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

from smarketing.core import clock

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)  # a Friday afternoon


@pytest.fixture(autouse=True)
def _fresh_cache(monkeypatch, settings):
    from smarketing.web.data import common

    settings.SMARKETING_WEB_WARM = False  # no warm-up tasks queued by the login page
    monkeypatch.setattr(common, "RUN_INLINE", True)
    common.clear()
    yield
    common.clear()


@pytest.fixture
def world(db, users, active_playbook) -> dict[str, Any]:
    """Given a campaign, six contacts moving through the funnel this quarter, a won deal and some feedback."""
    from smarketing.lifecycle.enums import ActorKind
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import (
        AccountFactory,
        CampaignFactory,
        ContactFactory,
        FeedbackItemFactory,
        OpportunityFactory,
        TouchpointFactory,
    )

    clock.freeze(NOW)
    campaign = CampaignFactory(name="Close faster webinar", start_date=datetime(2026, 10, 1).date())
    account = AccountFactory(name="Acme Ltd", segment="mid_market", region="EMEA")
    contacts = []
    paths = [["lead", "mql"], ["lead", "mql"], ["lead", "mql", "sal"], ["lead", "mql", "sal", "sql", "opportunity"],
             ["lead", "mql", "sal", "sql", "opportunity", "customer"], ["lead"]]
    start = datetime(2026, 10, 5, 14, tzinfo=UTC)
    for i, path in enumerate(paths):
        c: Any = ContactFactory(account=account, lead_source="webinar" if i % 2 else "paid_search",
                           owner=users["sales"] if i < 3 else None, first_seen_at=start)
        TouchpointFactory(contact=c, account=account, campaign=campaign, kind="webinar_attended",
                          occurred_at=start + timedelta(hours=1))
        TouchpointFactory(contact=c, account=account, campaign=campaign, kind="demo_request", channel="webinar",
                          occurred_at=start + timedelta(days=1))
        for j, stage in enumerate(path):
            stage_change_record(contact=c, to_stage=stage, occurred_at=start + timedelta(days=3 * j + i),
                                actor_kind=ActorKind.SYSTEM)
        contacts.append(c)
    OpportunityFactory(account=account, primary_contact=contacts[4], amount=120000, outcome="won", stage="closed_won",
                       opened_at=datetime(2026, 10, 20, tzinfo=UTC), closed_at=datetime(2026, 11, 10, tzinfo=UTC))
    OpportunityFactory(account=account, amount=50000, opened_at=datetime(2026, 11, 1, tzinfo=UTC))
    FeedbackItemFactory(account=account, kind="objection", text="Pricing is too high for a team our size",
                        occurred_at=datetime(2026, 11, 2, tzinfo=UTC))
    return {"campaign": campaign, "account": account, "contacts": contacts, "mqls": contacts[:2]}


@pytest.fixture
def login(users):
    """A logged-in Django test client for a role."""

    def make(role: str) -> Client:
        client = Client()
        client.force_login(users[role])
        return client

    return make
