"""Fixtures for the crm tests: a record with a full history (qualified, routed, touched, accepted, won)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smarketing.campaigns.services import touchpoint_record
from smarketing.core import clock
from smarketing.lifecycle.enums import ActorKind
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_handoff import handoff_accept, mql_qualify
from smarketing.testing.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    FeedbackItemFactory,
    OpportunityFactory,
    UserFactory,
)

T0 = datetime(2026, 11, 24, 15, tzinfo=UTC)  # Tuesday 10:00 in New York, the default playbook's calendar


def _touch(capture: Any, contact: Any, *, at: datetime, actor: Any = None, kind: str = "sales_call",
           channel: str = "sales", campaign: Any = None) -> Any:
    with capture(execute=True):  # the touchpoint's hooks (first-touch detection) run on commit, as in the API
        return touchpoint_record(contact=contact, channel=channel, kind=kind, occurred_at=at, actor=actor,
                                 campaign=campaign)[0]


@pytest.fixture
def history(active_playbook, django_capture_on_commit_callbacks) -> dict[str, Any]:
    """Given a lead that asked for a demo, qualified, was routed to a seller who called and accepted it; a colleague
    at the same account; feedback and a won deal."""
    clock.freeze(T0)
    seller: Any = UserFactory(username="emea_a", role="sales", team_name="EMEA", capacity_per_week=10)
    account: Any = AccountFactory(name="Acme Ltd", region="EMEA")
    lead: Any = ContactFactory(account=account, first_name="Ada", last_name="Lovelace")
    colleague: Any = ContactFactory(account=account, first_name="Bob", last_name="Byte")
    _touch(django_capture_on_commit_callbacks, lead, at=T0 - timedelta(hours=1), kind="demo_request",
           channel="webinar", campaign=CampaignFactory(name="Close faster webinar"))
    mql = mql_qualify(contact=lead, at=T0)
    call = _touch(django_capture_on_commit_callbacks, lead, at=T0 + timedelta(hours=1), actor=seller)
    lead.refresh_from_db()
    handoff_accept(contact=lead, user=seller, note="budget confirmed", at=T0 + timedelta(hours=2))
    stage_change_record(contact=colleague, to_stage="mql", occurred_at=T0 + timedelta(hours=3),
                        actor_kind=ActorKind.IMPORT)
    stage_change_record(account=account, to_stage="opportunity", occurred_at=T0 + timedelta(days=1),
                        actor_kind=ActorKind.SYSTEM)
    deal = OpportunityFactory(account=account, primary_contact=lead, name="Acme expansion", amount=120000,
                              owner=seller, opened_at=T0 + timedelta(days=1), closed_at=T0 + timedelta(days=20),
                              outcome="won", stage="closed_won")
    FeedbackItemFactory(account=account, contact=lead, opportunity=deal, text="Loved the reconciliation demo",
                        kind="praise", occurred_at=T0 + timedelta(days=2))
    return {"seller": seller, "account": account, "lead": lead, "colleague": colleague, "deal": deal, "mql": mql,
            "call": call}
