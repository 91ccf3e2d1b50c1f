"""The scoreboard on a cold cache runs the period's linear `roi` once: the metrics' campaign measures and the
campaigns panel read the same result (`analytics.queries.roi.results_shared` lent by the web's figure cache)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from smarketing.analytics.queries import roi
from smarketing.web.data import common


@pytest.fixture
def world(db, users, active_playbook) -> None:
    """A webinar campaign whose contacts reached the funnel this quarter, one of them through a won deal."""
    from datetime import UTC, datetime, timedelta

    from smarketing.core import clock
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import (
        AccountFactory,
        CampaignFactory,
        ContactFactory,
        OpportunityFactory,
        TouchpointFactory,
    )
    from smarketing.web.tests.conftest import NOW

    clock.freeze(NOW)
    campaign = CampaignFactory(name="Close faster webinar", start_date=datetime(2026, 10, 1).date(), actual_cost=20000)
    account = AccountFactory(name="Acme Ltd", segment="mid_market", region="EMEA")
    start = datetime(2026, 10, 5, 14, tzinfo=UTC)
    for i, path in enumerate((["mql"], ["mql", "sal"], ["mql", "sal", "sql", "opportunity", "customer"])):
        contact: Any = ContactFactory(account=account, first_seen_at=start)
        TouchpointFactory(contact=contact, account=account, campaign=campaign, kind="webinar_attended",
                          occurred_at=start + timedelta(hours=1))
        for j, stage in enumerate(path):
            stage_change_record(contact=contact, to_stage=stage, occurred_at=start + timedelta(days=3 * j + i + 1))
    OpportunityFactory(account=account, primary_contact=contact, amount=120000, outcome="won", stage="closed_won",
                       opened_at=datetime(2026, 10, 20, tzinfo=UTC), closed_at=datetime(2026, 11, 10, tzinfo=UTC))


@pytest.fixture
def roi_runs(monkeypatch) -> Counter[tuple[Any, ...]]:
    """How many times the roi query ran per spec (period and model): each run credits its four
    conversions (MQL, SQL, opportunity created, won), so a run counts 4 under its spec."""
    runs: Counter[tuple[Any, ...]] = Counter()
    earned = roi._earned  # what each of roi's four conversions runs, whatever the model

    def counted(engine: Any, spec: Any) -> Any:
        runs[(spec.start, spec.end, spec.model.value)] += 1
        return earned(engine, spec)

    monkeypatch.setattr(roi, "_earned", counted)
    return runs


def test_a_cold_scoreboard_runs_the_roi_once_and_both_panels_show_it(world, login, roi_runs):
    # given a cold figure cache
    common.clear(rows=True)
    # when the scoreboard is opened
    page = login("marketing").get("/", {"period": "2026-Q4"})
    # then each roi the page needs ran once (the quarter's, for the metrics and the campaigns panel alike; the
    # weeks' changes ask for their own periods)
    assert page.status_code == 200
    assert set(roi_runs.values()) == {4}
    assert roi_runs[(date(2026, 10, 1), date(2026, 12, 31), "linear")] == 4
    # and the campaigns panel's figures are the measures' own
    perf = page.context["tables"]["campaigns"]
    assert perf.rows and perf.rows[0]["name"] == "Close faster webinar"
    assert perf.rows[0]["revenue"] == pytest.approx(120000)
    # and opening it again computes nothing
    before = dict(roi_runs)
    login("sales").get("/", {"period": "2026-Q4"})
    assert dict(roi_runs) == before


def test_outside_the_web_the_roi_runs_where_it_is_asked(world, roi_runs):
    # given no store lent (the CLI and the API)
    from smarketing.analytics.metrics.campaigns import roi_spec_for
    from smarketing.analytics.registry import run_query
    from smarketing.web.periods import parse_period

    period = parse_period("2026-Q4")
    # when the roi query runs twice
    first, second = run_query(roi_spec_for(period, "linear")), run_query(roi_spec_for(period, "linear"))
    # then it ran twice, with the same figures
    assert list(roi_runs.values()) == [8] and first.total == second.total
