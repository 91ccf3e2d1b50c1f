"""The first view of a page after a period or model change answers at once: nothing slow runs in the request while
its analytics are queued, and the worker computes only what the pages show, each query once."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from smarketing.analytics.metrics.campaigns import FIELDS as CAMPAIGN_MEASURES
from smarketing.analytics.queries import roi
from smarketing.web.data import common
from smarketing.web.data.measures import page_measures

QUARTER = (date(2026, 10, 1), date(2026, 12, 31), "linear")


@pytest.fixture
def queued(monkeypatch, world):
    """Given a CRM treated as large: analytics figures go to the task queue instead of running in the request."""
    monkeypatch.setattr(common, "RUN_INLINE", False)
    monkeypatch.setattr(common, "INLINE_MAX_CONTACTS", 0)
    return world


@pytest.fixture
def roi_runs(monkeypatch) -> Counter[tuple[Any, ...]]:
    """How many times the roi query built its journeys per (start, end, model): 4 per run (one per conversion)."""
    runs: Counter[tuple[Any, ...]] = Counter()
    earned = roi._earned  # what each of roi's four conversions runs, whatever the model

    def counted(engine: Any, spec: Any) -> Any:
        runs[(spec.start, spec.end, spec.model.value)] += 1
        return earned(engine, spec)

    monkeypatch.setattr(roi, "_earned", counted)
    return runs


def _queued(kind: str) -> list[dict[str, Any]]:
    import json

    from django_tasks_db.models import DBTaskResult

    rows = DBTaskResult.objects.filter(task_path__endswith="figure_compute_task", status="READY")
    return [json.loads(r.args_kwargs["args"][1]) for r in rows if r.args_kwargs["args"][0] == kind]


def _run_worker() -> None:
    """Run the ready tasks as `db_worker` does (claim, call, record), inside the test's transaction."""
    from django_tasks_db.models import DBTaskResult

    for row in DBTaskResult.objects.ready().filter(queue_name="default").order_by("enqueued_at"):
        row.claim("test-worker")
        args = row.args_kwargs
        row.set_successful(row.task.func(*args["args"], **args["kwargs"]))


@pytest.mark.parametrize("path", ["/campaigns/", "/"])
def test_while_attribution_is_queued_campaigns_are_listed_by_cost_without_counting_touches(queued, login, path):
    # when a page with the campaigns table is first opened for a period, its attribution not computed yet
    with CaptureQueriesContext(connection) as ran:
        page = login("marketing").get(path, {"period": "2026-Q4"})
    # then it answers with the campaigns by cost, and no count over the period's touches ran in the request
    assert page.status_code == 200 and page.context["perf"].pending
    rows = page.context["tables"]["campaigns"].rows
    assert [r["name"] for r in rows] == ["Close faster webinar"] and rows[0]["touches"] is None
    assert "touches" not in [c.key for c in page.context["tables"]["campaigns"].columns]
    assert not [q["sql"] for q in ran.captured_queries if "campaigns_touchpoint" in q["sql"] and "GROUP BY" in q["sql"]]
    assert _queued("roi")


def test_each_page_asks_the_metrics_query_for_what_it_shows_and_never_the_campaign_measures(queued, login, roi_runs):
    from smarketing.web.data.funnel import FUNNEL_MEASURES
    from smarketing.web.data.scoreboard import SCOREBOARD_MEASURES
    from smarketing.web.views.goals import ACTUALS
    from smarketing.web.views.journeys import JOURNEY_MEASURES

    # when the analytics pages are first opened for a quarter
    client = login("marketing")
    for path in ("/", "/funnel/", "/journeys/", "/goals/"):
        assert client.get(path, {"period": "2026-Q4"}).status_code == 200
    # then each queued the measures it shows, in one order, and none the campaign measures (attribution)
    asked = sorted(sorted(spec["names"]) for spec in _queued("metrics") if spec["period"] == "2026-Q4")
    wanted = [SCOREBOARD_MEASURES, FUNNEL_MEASURES, JOURNEY_MEASURES, ACTUALS.values()]
    assert asked == sorted(sorted(set(names)) for names in wanted)
    assert all(spec["names"] == [n for n in page_measures() if n in spec["names"]] for spec in _queued("metrics"))
    assert not any(set(spec["names"]) & set(CAMPAIGN_MEASURES) for spec in _queued("metrics"))
    # and once the worker ran, the quarter's roi ran once (for the campaigns panel; no metrics query ran it)
    _run_worker()
    common.clear()
    assert roi_runs[QUARTER] == 4 and set(roi_runs.values()) == {4}
    for path in ("/", "/funnel/", "/journeys/", "/goals/"):
        page = client.get(path, {"period": "2026-Q4"})
        assert not page.context["computing"], path
        assert page.context["measures"] is not None, path
    assert client.get("/", {"period": "2026-Q4"}).context["measures"].get("cohort_entered").value == 6


def test_a_query_computed_inside_another_meanwhile_is_not_run_again(queued, login, roi_runs):
    # given the measures page (every measure: its campaign measures run the quarter's roi) and the campaigns page
    # (the same roi) opened before the worker ran
    client = login("marketing")
    client.get("/metrics/", {"period": "2026-Q4"})
    client.get("/campaigns/", {"period": "2026-Q4"})
    assert _queued("roi") and _queued("metrics")
    # when the worker runs both
    _run_worker()
    common.clear()
    # then the roi ran once, and both pages show it
    assert roi_runs[QUARTER] == 4
    measures = client.get("/metrics/", {"period": "2026-Q4"}).context["result"]
    perf = client.get("/campaigns/", {"period": "2026-Q4"}).context["perf"]
    assert perf.attributed and measures.get("campaign_attributed_revenue").value == pytest.approx(perf.total["revenue"])


def test_the_records_of_a_campaign_measure_still_read_it(world, login):
    # when the records behind the campaign cost and behind MQLs entered are opened
    client = login("marketing")
    cost = client.get("/metrics/campaign_cost/", {"period": "2026-Q4"})
    mqls = client.get("/metrics/mqls_entered/", {"period": "2026-Q4"})
    # then each page shows its measure's value
    assert cost.status_code == 200 and cost.context["value"].value == pytest.approx(float(world["campaign"].actual_cost))
    assert mqls.status_code == 200 and mqls.context["value"].value == 5


def test_feedback_by_kind_is_left_to_the_worker_on_a_first_view_and_shown_once_computed(queued, login):
    # when the scoreboard is first opened for a quarter on a large CRM
    client = login("sales")
    with CaptureQueriesContext(connection) as ran:
        first = client.get("/", {"period": "2026-Q4"})
    # then no feedback was read in the request: the figure is queued and the page says figures are being computed
    assert first.status_code == 200 and first.context["computing"] and first.context["themes"] == []
    assert "Feedback is being counted" in first.content.decode()
    assert not [q["sql"] for q in ran.captured_queries if '"feedback_feedbackitem"."kind"' in q["sql"]]
    assert _queued("page:feedback_by_kind") == [{"period": "2026-Q4"}]
    # and once the worker ran, the kinds are shown
    _run_worker()
    common.clear()
    themes = client.get("/", {"period": "2026-Q4"}).context["themes"]
    assert [(t["theme"], t["items"], t["accounts"]) for t in themes] == [("objection", 1, 1)]
