"""After the CRM changed and the history store caught up, the worker computes again the figures people viewed
recently, through the same claim and queue a page uses, within the refresh's limits (one waiting, at most
REFRESH_MAX figures, a pause between two)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from smarketing.analytics.store import tasks as store_tasks
from smarketing.campaigns.services import touchpoint_record
from smarketing.web.data import common, refresh
from smarketing.web.models import ComputedFigure

QUARTER = {"period": "2026-Q4"}
TOUCHED = datetime(2026, 11, 18, 10, 0, tzinfo=UTC)


@pytest.fixture
def queued(monkeypatch, world):
    """Given a CRM treated as large: analytics figures go to the task queue instead of running in the request."""
    monkeypatch.setattr(common, "RUN_INLINE", False)
    monkeypatch.setattr(common, "INLINE_MAX_CONTACTS", 0)
    monkeypatch.setattr(store_tasks, "_waiting_until", None)  # what an earlier test queued is gone with its rows
    return world


def _ready(task: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.ready().filter(task_path__endswith=task).order_by("enqueued_at"))


def _waiting(task: str) -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path__endswith=task, status="READY"))


def _run(row: DBTaskResult) -> Any:
    row.claim("test-worker")
    args = row.args_kwargs
    value = row.task.func(*args["args"], **args["kwargs"])
    row.set_successful(value)
    return value


def _run_worker() -> None:
    """Run the default queue's ready tasks as `db_worker` does (claim, call, record), and those they queue."""
    for _ in range(20):
        rows = list(DBTaskResult.objects.ready().filter(queue_name="default").order_by("enqueued_at"))
        if not rows:
            return
        for row in rows:
            _run(row)
    raise AssertionError("the queue never emptied")


def _viewed(client: Any, path: str) -> set[str]:
    """Open a page for the quarter; the keys of the figures it waited for."""
    page = client.get(path, QUARTER)
    assert page.status_code == 200
    return set(page.context["computing"])


def _versions(keys: set[str]) -> set[str]:
    return set(ComputedFigure.objects.filter(key__in=keys).values_list("version", flat=True))


def _write(world: dict[str, Any]) -> None:
    """A touch recorded: the data version moves."""
    touchpoint_record(contact=world["contacts"][0], channel="email", kind="email_open", occurred_at=TOUCHED)
    common.forget_version()


def _computed_then_written(client: Any, world: dict[str, Any], paths: tuple[str, ...]) -> dict[str, set[str]]:
    """Given these pages viewed and their figures computed by the worker, then a touch recorded."""
    keys = {path: _viewed(client, path) for path in paths}
    _run_worker()
    common.clear()
    _write(world)
    return keys


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_after_the_catch_up_the_figures_viewed_recently_are_computed_for_the_new_data_without_a_page_asking(
        queued, login, settings, tmp_path):
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    client = login("marketing")
    # given the scoreboard viewed now and journeys viewed an hour ago, each computed by the worker
    scoreboard, journeys = _viewed(client, "/"), _viewed(client, "/journeys/")
    _run_worker()
    common.clear()
    journeys_only = journeys - scoreboard
    assert scoreboard and journeys_only
    ComputedFigure.objects.filter(key__in=journeys_only).update(viewed_at=timezone.now() - timedelta(hours=1))
    before = common.data_version()
    assert _versions(scoreboard | journeys) == {before}
    # when a touch is recorded (committed: the store's catch-up is queued) and the worker runs the catch-up (those
    # the company's own writes queued are gone: the figures' queries caught the store up since)
    DBTaskResult.objects.filter(task_path__endswith="store_catch_up_task").delete()
    store_tasks._waiting_until = None
    _write(queued)
    catch_up = _waiting("store_catch_up_task")
    assert len(catch_up) == 1
    assert _run(catch_up[0]) >= 1
    # then a refresh was queued, and once the worker ran the queue the scoreboard's figures are computed for the new
    # data, and journeys' (not viewed recently) are not
    assert len(_ready("figures_refresh_task")) == 1
    _run_worker()
    after = common.data_version()
    assert after != before
    assert _versions(scoreboard) == {after}
    assert _versions(journeys_only) == {before}
    # and the scoreboard opened now is served without queueing anything
    common.clear()
    page = client.get("/", QUARTER)
    assert not page.context["computing"] and "being computed" not in page.content.decode()
    assert _waiting("figure_compute_task") == []


def test_a_page_opened_while_the_refresh_is_queued_waits_for_that_computation(queued, login):
    client = login("marketing")
    keys = _computed_then_written(client, queued, ("/",))["/"]
    # when the catch-up's hook queued a refresh and the worker started it, but has not computed the figures yet
    assert refresh.figures_refresh_soon(1)
    _run(_ready("figures_refresh_task")[0])
    refreshing = {r.args_kwargs["args"][1] for r in _waiting("figure_compute_task")}
    assert len(refreshing) == len(keys)
    # then the scoreboard opened meanwhile waits for those figures (the last numbers shown) and queues none of its own
    common.clear()
    page = client.get("/", QUARTER)
    assert set(page.context["computing"]) == keys and page.context["measures"] is not None
    assert len(_waiting("figure_compute_task")) == len(keys)
    # and once the worker ran them, the page is served without waiting
    _run_worker()
    common.clear()
    assert not client.get("/", QUARTER).context["computing"]


def test_a_page_opened_during_a_refresh_has_its_own_figures_computed_first(queued, login):
    client = login("marketing")
    keys = _computed_then_written(client, queued, ("/", "/journeys/"))
    journeys_only = keys["/journeys/"] - keys["/"]
    assert journeys_only
    # when the refresh queued every figure viewed, below a page's priority
    assert refresh.figures_refresh_soon(1)
    _run(_ready("figures_refresh_task")[0])
    queued_rows = _waiting("figure_compute_task")
    assert queued_rows and {r.priority for r in queued_rows} == {common.REFRESH_PRIORITY}
    # and journeys is opened meanwhile
    common.clear()
    assert set(client.get("/journeys/", QUARTER).context["computing"]) == keys["/journeys/"]
    # then its figures are raised to a page's priority (none queued twice), the scoreboard's stay below
    by_key = {common.figure_key(f"query:{r.args_kwargs['args'][0]}", r.args_kwargs["args"][1]): r.priority
              for r in _waiting("figure_compute_task")}
    assert len(by_key) == len(_waiting("figure_compute_task"))
    assert {by_key[k] for k in keys["/journeys/"]} == {common.PAGE_PRIORITY}
    assert {by_key[k] for k in keys["/"] - keys["/journeys/"]} == {common.REFRESH_PRIORITY}
    # and the worker takes a journeys figure next
    nxt = DBTaskResult.objects.ready().filter(task_path__endswith="figure_compute_task").get_locked()
    assert nxt is not None and nxt.priority == common.PAGE_PRIORITY


def test_one_refresh_waits_at_a_time_and_the_next_starts_a_pause_after_the_last(queued, login, settings):
    settings.SMARKETING_FIGURES_REFRESH_SECONDS = 30
    client = login("marketing")
    _computed_then_written(client, queued, ("/",))
    # when catch-ups end twice before the refresh started
    assert refresh.figures_refresh_soon(1)
    assert not refresh.figures_refresh_soon(1)
    # then one refresh waits, to start at once (none ran before)
    assert len(_waiting("figures_refresh_task")) == 1 and len(_ready("figures_refresh_task")) == 1
    started = timezone.now()
    _run_worker()
    # when the CRM is written to again right after that refresh, and the store caught up
    _write(queued)
    assert refresh.figures_refresh_soon(1)
    # then the next refresh waits until the pause after the previous one has passed
    waiting = _waiting("figures_refresh_task")
    assert len(waiting) == 1 and _ready("figures_refresh_task") == []
    last = ComputedFigure.objects.get(key=refresh.REFRESH_KEY).computed_at
    assert last is not None and last >= started
    assert waiting[0].run_after == last + timedelta(seconds=30)


def test_a_refresh_computes_at_most_its_limit_the_latest_viewed_first(queued, login, monkeypatch):
    monkeypatch.setattr(refresh, "REFRESH_MAX", 2)
    client = login("marketing")
    keys = _computed_then_written(client, queued, ("/",))["/"]
    assert len(keys) > 2
    # given the scoreboard's figures viewed one minute apart
    now = timezone.now()
    order = sorted(keys)
    for i, key in enumerate(order):
        ComputedFigure.objects.filter(key=key).update(viewed_at=now - timedelta(minutes=i))
    # when a refresh runs
    assert refresh.figures_refresh_soon(1)
    _run(_ready("figures_refresh_task")[0])
    # then it queued the two viewed last
    queued_keys = {common.figure_key(f"query:{r.args_kwargs['args'][0]}", r.args_kwargs["args"][1])
                   for r in _waiting("figure_compute_task")}
    assert queued_keys == set(order[:2])
    # and the next refresh takes the next ones
    _run_worker()
    ComputedFigure.objects.filter(key=refresh.REFRESH_KEY).update(computed_at=now - timedelta(hours=1))
    assert refresh.figures_refresh_soon(1)
    _run(_ready("figures_refresh_task")[0])
    queued_keys = {common.figure_key(f"query:{r.args_kwargs['args'][0]}", r.args_kwargs["args"][1])
                   for r in _waiting("figure_compute_task")}
    assert queued_keys == set(order[2:4])


def test_no_refresh_when_turned_off_or_when_every_figure_viewed_is_up_to_date(queued, login, settings):
    client = login("marketing")
    _viewed(client, "/")
    _run_worker()
    # when the store caught up with nothing new for the figures viewed
    assert not refresh.figures_refresh_soon(0)
    # and when the CRM changed but refreshes are off
    _write(queued)
    settings.SMARKETING_FIGURES_REFRESH_SECONDS = 0
    assert not refresh.figures_refresh_soon(1)
    # then no refresh was queued
    assert _waiting("figures_refresh_task") == []


def test_a_page_view_notes_the_figures_it_shows_at_most_once_a_minute(queued, login):
    client = login("marketing")
    keys = _viewed(client, "/")
    _run_worker()
    common.clear()
    ComputedFigure.objects.filter(key__in=keys).update(viewed_at=None)
    # when the scoreboard is opened twice
    with CaptureQueriesContext(connection) as first:
        client.get("/", QUARTER)
    with CaptureQueriesContext(connection) as second:
        client.get("/", QUARTER)
    # then the first view noted its figures and the second wrote nothing to the figures' table
    marked = ComputedFigure.objects.filter(key__in=keys, viewed_at__isnull=False).count()
    assert marked == len(keys)
    assert any("UPDATE" in q["sql"] and "viewed_at" in q["sql"] for q in first.captured_queries)
    assert not [q["sql"] for q in second.captured_queries if "web_computedfigure" in q["sql"]
                and q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT"))]


def test_the_warm_up_is_no_view(queued, settings):
    from smarketing.web.data.warm import warm

    # when the worker warms the scoreboard (nobody opened it)
    warm()
    # then none of its figures counts as viewed, so none is refreshed after a write
    assert ComputedFigure.objects.exclude(kind="").exists()
    assert not ComputedFigure.objects.filter(viewed_at__isnull=False).exists()


def test_the_store_catch_up_task_calls_the_web_refresh():
    from smarketing.web.tasks import store_caught_up_hook

    assert store_caught_up_hook in store_tasks.CAUGHT_UP_HOOKS


@pytest.mark.parametrize(("value", "seconds"), [("", 30), ("0", 0), ("120", 120)])
def test_the_refresh_pause_setting(monkeypatch, tmp_path, value, seconds):
    from smarketing.settings.env import load

    monkeypatch.setenv("SMARKETING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARKETING_FIGURES_REFRESH_SECONDS", value)
    assert load().figures_refresh_seconds == seconds


@pytest.mark.parametrize("value", ["-1", "soon"])
def test_a_bad_refresh_pause_stops_start_up(monkeypatch, tmp_path, value):
    from smarketing.settings.env import ConfigError, load

    monkeypatch.setenv("SMARKETING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARKETING_FIGURES_REFRESH_SECONDS", value)
    with pytest.raises(ConfigError, match="SMARKETING_FIGURES_REFRESH_SECONDS"):
        load()
