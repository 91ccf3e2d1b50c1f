"""The insights inbox: threshold, status flow (invalid moves refused), history, time from signal to action."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from smarketing.core import clock
from smarketing.core.errors import Conflict, PermissionDenied, ValidationFailed
from smarketing.feedback.insight_rules import Threshold, transition_error
from smarketing.feedback.insight_services import insight_transition, insights_refresh
from smarketing.feedback.models import Insight, InsightTransition, Theme
from smarketing.feedback.services import feedback_record
from smarketing.feedback.theme_selectors import insight_action_times, insight_list
from smarketing.feedback.theme_services import theme_items_move
from smarketing.testing.factories import AccountFactory, CampaignFactory, OpportunityFactory

FIRST = datetime(2026, 2, 1, 9, tzinfo=UTC)


def _theme(name: str, n: int, account=None, start: datetime = FIRST) -> Theme:
    theme = Theme.objects.create(name=name, key_phrases=[name.lower()])
    ids = [feedback_record(kind="objection", text=f"{name} item {i}", occurred_at=start.replace(day=1 + i),
                           account=account, assign=False)[0].pk for i in range(n)]
    theme_items_move(theme_id=theme.pk, item_ids=ids)
    return theme


@pytest.mark.parametrize(("threshold", "volume", "revenue", "crosses"), [
    (Threshold(min_volume=10), 10, Decimal(0), True),
    (Threshold(min_volume=10), 9, Decimal(0), False),
    (Threshold(min_volume=10, min_revenue=Decimal(50000)), 2, Decimal(60000), True),
    (Threshold(min_volume=10, min_revenue=Decimal(50000), require_both=True), 2, Decimal(60000), False),
    (Threshold(min_volume=10, min_revenue=Decimal(50000), require_both=True), 12, Decimal(60000), True),
    (Threshold(min_volume=0, min_revenue=Decimal(0)), 100, Decimal(10**6), False),
])
def test_threshold(threshold, volume, revenue, crosses):
    assert bool(threshold.reasons(volume=volume, revenue=revenue)) is crosses


@pytest.mark.parametrize(("current", "target", "note", "response", "ok"), [
    ("new", "acknowledged", "", False, True),
    ("new", "acted_on", "", True, False),
    ("new", "closed", "", False, False),
    ("new", "closed", "duplicate of #3", False, True),
    ("acknowledged", "acted_on", "", False, False),
    ("acknowledged", "acted_on", "", True, True),
    ("acknowledged", "new", "", False, False),
    ("acted_on", "closed", "", True, True),
    ("acted_on", "acknowledged", "", True, False),
    ("closed", "new", "", True, False),
    ("closed", "acknowledged", "", True, False),
    ("new", "archived", "", False, False),
])
def test_transition_rules(current, target, note, response, ok):
    assert (transition_error(current=current, target=target, note=note, has_response=response) is None) is ok


def test_themes_over_the_threshold_become_insights_once(db):
    # Given a busy theme, a quiet theme and a quiet theme with much revenue behind it
    rich = AccountFactory()
    OpportunityFactory(account=rich, amount=Decimal("250000"), outcome="open")
    busy = _theme("Pricing", 6)
    _theme("Mobile", 2)
    money = _theme("Security", 2, account=rich)
    # When insights are raised with volume 5 or revenue 100k
    threshold = Threshold(min_volume=5, min_revenue=Decimal(100000))
    created = insights_refresh(threshold=threshold)
    # Then the busy and the rich themes became new insights for marketing, once
    assert {i.theme_id for i in created} == {busy.pk, money.pk}
    assert insights_refresh(threshold=threshold) == []
    pricing = Insight.objects.get(theme=busy)
    assert pricing.status == "new" and pricing.assigned_role == "marketing" and pricing.volume == 6
    assert pricing.first_signal_at == FIRST.replace(day=1)
    assert Insight.objects.get(theme=money).open_pipeline == Decimal("250000")
    assert InsightTransition.objects.get(insight=pricing).to_status == "new"


def test_full_flow_records_history_and_time_to_action(db, users):
    # Given an insight whose first signal was on 1 February
    theme = _theme("Pricing", 5)
    clock.freeze(datetime(2026, 2, 4, tzinfo=UTC))
    insight = insights_refresh(threshold=Threshold(min_volume=5))[0]
    campaign = CampaignFactory(name="Value calculator")
    marketer = users["marketing"]
    # When marketing acknowledges it, acts with a campaign ten days after the first signal, then closes it
    clock.freeze(datetime(2026, 2, 5, tzinfo=UTC))
    insight_transition(insight_id=insight.pk, to_status="acknowledged", actor=marketer)
    clock.freeze(datetime(2026, 2, 11, 9, tzinfo=UTC))
    insight_transition(insight_id=insight.pk, to_status="acted_on", actor=marketer, campaign_id=campaign.pk,
                       response_note="New ROI one-pager")
    clock.freeze(datetime(2026, 3, 1, tzinfo=UTC))
    done = insight_transition(insight_id=insight.pk, to_status="closed", actor=marketer)
    # Then each step is recorded with who and when, and time to action is ten days
    history = list(InsightTransition.objects.filter(insight=insight).values_list("from_status", "to_status",
                                                                                 "actor__username"))
    assert history == [("", "new", None), ("new", "acknowledged", "marketing1"),
                       ("acknowledged", "acted_on", "marketing1"), ("acted_on", "closed", "marketing1")]
    assert done.response_campaign == campaign and done.response_note == "New ROI one-pager"
    assert done.time_to_action_days == 10.0 and done.assignee == marketer
    assert insight_action_times().median_days == 10.0
    # And a closed insight is raised again only by feedback that came after it closed
    assert insights_refresh(threshold=Threshold(min_volume=5)) == []
    ids = [feedback_record(kind="objection", text=f"again {i}", occurred_at=datetime(2026, 3, 2 + i, tzinfo=UTC),
                           assign=False)[0].pk for i in range(5)]
    theme_items_move(theme_id=theme.pk, item_ids=ids)
    again = insights_refresh(threshold=Threshold(min_volume=5))
    assert len(again) == 1 and again[0].first_signal_at == datetime(2026, 3, 2, tzinfo=UTC)


def test_invalid_transitions_are_refused_and_change_nothing(db, users):
    _theme("Pricing", 5)
    insight = insights_refresh(threshold=Threshold(min_volume=5))[0]
    with pytest.raises(Conflict, match="cannot become acted_on"):
        insight_transition(insight_id=insight.pk, to_status="acted_on", actor=users["marketing"],
                           response_note="x")
    insight_transition(insight_id=insight.pk, to_status="acknowledged", actor=users["marketing"])
    with pytest.raises(ValidationFailed, match="needs the campaign or the message change"):
        insight_transition(insight_id=insight.pk, to_status="acted_on", actor=users["marketing"])
    with pytest.raises(ValidationFailed):
        insight_transition(insight_id=insight.pk, to_status="done", actor=users["marketing"])
    with pytest.raises(PermissionDenied):
        insight_transition(insight_id=insight.pk, to_status="closed", actor=users["sales"], note="no")
    insight.refresh_from_db()
    assert insight.status == "acknowledged" and insight.acted_at is None
    assert InsightTransition.objects.filter(insight=insight).count() == 2


def test_insight_api_flow(api, db):
    _theme("Pricing", 5)
    created = api.post("/api/loop/insights/refresh", {"min_volume": 5}, role="marketing")
    assert created.status_code == 201 and len(created.json()) == 1
    iid = created.json()[0]["id"]
    assert api.get("/api/loop/insights").json()[0]["status"] == "new"
    bad = api.post(f"/api/loop/insights/{iid}/transition", {"to": "closed"}, role="marketing")
    assert bad.status_code == 422 and bad.json()["field"] == "status"
    ok = api.post(f"/api/loop/insights/{iid}/transition", {"to": "acknowledged"}, role="marketing")
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"
    skip = api.post(f"/api/loop/insights/{iid}/transition", {"to": "new"}, role="marketing")
    assert skip.status_code == 409
    sales = api.post(f"/api/loop/insights/{iid}/transition", {"to": "acted_on", "response_note": "x"}, role="sales")
    assert sales.status_code == 403
    detail = api.get(f"/api/loop/insights/{iid}")
    assert [t["to_status"] for t in detail.json()["transitions"]] == ["new", "acknowledged"]


def test_cli_insights_json(db, capsys):
    from smarketing.feedback.tests.test_capture import run_cli

    _theme("Pricing", 4)
    assert run_cli(["feedback", "insights", "--min-volume", "3", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    assert body["created"] == 1 and body["insights"][0]["status"] == "new"
    iid = body["insights"][0]["id"]
    assert run_cli(["feedback", "insight", str(iid), "acted_on", "--change", "x"]) == 2
    assert "cannot become acted_on" in capsys.readouterr().err


def test_inbox_is_ordered_by_revenue_at_stake_in_the_selector_api_and_cli(api, db, capsys):
    from smarketing.feedback.tests.test_capture import run_cli

    # Given three themes over the threshold: one with no revenue, a small and a large one, raised in that order
    small, large = AccountFactory(), AccountFactory()
    OpportunityFactory(account=small, amount=Decimal("20000"), outcome="open")
    OpportunityFactory(account=large, amount=Decimal("90000"), outcome="won")
    OpportunityFactory(account=large, amount=Decimal("40000"), outcome="open")
    for name, account in (("Mobile", None), ("Pricing", small), ("Security", large)):
        _theme(name, 3, account=account)
        insights_refresh(threshold=Threshold(min_volume=3))
    # Then the inbox puts the largest revenue at stake first everywhere
    expected = ["Security", "Pricing", "Mobile"]
    assert [i.theme.name for i in insight_list()] == expected
    body = api.get("/api/loop/insights").json()
    assert [i["theme_name"] for i in body] == expected
    assert [Decimal(str(i["revenue_at_stake"])) for i in body] == [Decimal(130000), Decimal(20000), Decimal(0)]
    assert run_cli(["feedback", "insights", "--no-refresh", "--json"]) == 0
    assert [i["revenue_at_stake"] for i in json.loads(capsys.readouterr().out)["insights"]] == ["130000.00",
                                                                                              "20000.00", "0.00"]
