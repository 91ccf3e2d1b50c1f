"""The feedback loop and campaign pages read the owning apps' selectors; insights move through their service."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest


@pytest.fixture
def insight(world):
    from smarketing.feedback.models import Insight, Theme

    theme = Theme.objects.create(name="Pricing for small teams", key_phrases=["pricing", "team size"])
    return Insight.objects.create(theme=theme, title="Pricing objections are rising", reason="volume ≥ 10",
                                  volume=12, open_pipeline=50000, first_signal_at=datetime(2026, 10, 2, tzinfo=UTC))


def test_campaign_page_shows_brief_talk_track_comments_and_consistency(world, login, users):
    # given a brief, a sales comment and a rep's outreach that carries the message
    from smarketing.campaigns.briefs import brief_comment_add, brief_create

    brief = brief_create(campaign_id=world["campaign"].pk, actor=users["marketing"], data={
        "core_message": "Cut month-end close from ten days to three with automated reconciliation.",
        "talk_track": "Ask how many days their close takes today.", "proof_points": ["Acme closes in 3 days"]})
    brief_comment_add(brief_id=brief.pk, author=users["sales"], text="Lead with the audit trail for controllers")
    # when
    html = login("viewer").get(f"/campaigns/{world['campaign'].pk}/").content.decode()
    # then
    assert "Ask how many days their close takes today." in html
    assert "Lead with the audit trail for controllers" in html
    assert "Acme closes in 3 days" in html
    assert "awaiting sales sign-off" in html


def test_insights_inbox_lists_and_marketing_acknowledges(insight, login):
    # given
    client = login("marketing")
    assert "Pricing objections are rising" in client.get("/feedback/").content.decode()
    # when
    response = client.post(f"/feedback/insights/{insight.pk}/", {"to_status": "acknowledged"}, follow=True)
    # then
    insight.refresh_from_db()
    assert insight.status == "acknowledged"
    assert "is now acknowledged" in response.content.decode()


def test_acting_on_an_insight_needs_the_response(insight, login):
    # given an acknowledged insight
    client = login("revops")
    client.post(f"/feedback/insights/{insight.pk}/", {"to_status": "acknowledged"})
    # when acted on without saying what was done, then with it
    refused = client.post(f"/feedback/insights/{insight.pk}/", {"to_status": "acted_on"}, follow=True)
    client.post(f"/feedback/insights/{insight.pk}/", {"to_status": "acted_on",
                                                      "response_note": "New pricing page for teams under 50"})
    # then
    assert "needs the campaign or the message change" in refused.content.decode()
    insight.refresh_from_db()
    assert insight.status == "acted_on" and insight.response_note == "New pricing page for teams under 50"


@pytest.mark.parametrize("role", ["sales", "viewer"])
def test_only_marketing_and_revops_move_insights(insight, login, role):
    response = login(role).post(f"/feedback/insights/{insight.pk}/", {"to_status": "acknowledged"})
    insight.refresh_from_db()
    assert response.status_code == 403 and insight.status == "new"
