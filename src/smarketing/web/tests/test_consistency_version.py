"""The campaigns' message consistency (every outreach scored against its brief) is scored again when what it reads
changes, not on every touch or stage change: a CRM written to all day would otherwise pay it on each page view."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from smarketing.testing.factories import CampaignFactory, TouchpointFactory, UserFactory


@pytest.mark.django_db
def test_message_consistency_is_scored_again_only_when_outreach_briefs_or_campaigns_change(monkeypatch):
    from smarketing.campaigns.briefs import outreach_record
    from smarketing.web.data.common import forget_version
    from smarketing.web.views import campaigns as view

    scored: list[int] = []

    def counted(**kwargs: Any) -> dict[int, float | None]:
        scored.append(1)
        return {}

    monkeypatch.setattr(view, "consistency_by_campaign", counted)
    campaign = CampaignFactory()
    # given the consistency scored once
    view._consistency()
    # when a touch is recorded (the data version of every analytics figure moves)
    TouchpointFactory(campaign=campaign)
    forget_version()
    view._consistency()
    # then it is not scored again
    assert len(scored) == 1
    # but outreach written since is scored
    outreach_record(rep=UserFactory(role="sales"), text="Our message", campaign_id=campaign.pk,
                    sent_at=datetime(2026, 3, 1, tzinfo=UTC))
    view._consistency()
    assert len(scored) == 2
