"""With the real task worker (`smarketing worker` in a subprocess): once touches are recorded and the worker's
debounced catch-up has run, the figures viewed recently are computed for the new data without any page asking, those
not viewed recently are not, and a page opened then is served without queueing."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from smarketing.analytics.store import tasks as store_tasks
from smarketing.campaigns.services import touchpoint_record
from smarketing.core import clock
from smarketing.testing.servers import stop_process, worker_database_url
from smarketing.web.data import common
from smarketing.web.models import ComputedFigure

QUARTER = {"period": "2026-Q4"}
WAIT_S = 180.0  # the worker loads the analytics first (seconds), then computes each figure


@pytest.fixture
def lake_worker(monkeypatch, settings, tmp_path, world) -> Iterator[Path]:
    """Given a CRM treated as large, its history store in a folder of its own, and a real worker on the default
    queue (the figures and the store's catch-up) over the test's database and that store."""
    if connection.vendor == "sqlite" and ":memory:" in str(connection.settings_dict["NAME"]) + "mode=memory":
        pytest.skip("an in-memory SQLite test database is invisible to a worker subprocess")
    lake = tmp_path / "lake"
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(lake), "ANALYTICS_STORE": "lake"}
    monkeypatch.setattr(common, "RUN_INLINE", False)
    monkeypatch.setattr(common, "INLINE_MAX_CONTACTS", 0)
    monkeypatch.setattr(store_tasks, "_waiting_until", None)
    clock.freeze(None)  # the worker runs on the wall clock
    env = {**os.environ, "DATABASE_URL": worker_database_url(), "DJANGO_SETTINGS_MODULE": "smarketing.settings.test",
           "SMARKETING_LAKE_URL": str(lake), "SMARKETING_ANALYTICS_STORE": "lake",
           "SMARKETING_FIGURES_REFRESH_SECONDS": "2"}
    log = tmp_path / "worker.log"
    worker = subprocess.Popen([sys.executable, "-m", "smarketing.cli", "worker", "--queues", "default",
                               "--interval", "0.2"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT)
    try:
        yield log
    finally:
        stop_process(worker)


def _wait(until: Callable[[], bool], log: Path, what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if until():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {WAIT_S:.0f} s; worker log:\n{log.read_text()[-3000:]}")


def _versions(keys: set[str]) -> set[str]:
    return set(ComputedFigure.objects.filter(key__in=keys).values_list("version", flat=True))


def _computed(keys: set[str], version: str) -> Callable[[], bool]:
    def done() -> bool:
        rows = ComputedFigure.objects.filter(key__in=keys, version=version, computed_at__isnull=False,
                                             pending_version="")
        return rows.count() == len(keys)

    return done


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_real_worker_refreshes_the_figures_viewed_recently_after_touches_are_recorded(lake_worker, world, login):
    client = login("marketing")
    # given the scoreboard and journeys opened for the quarter and their figures computed by the worker
    scoreboard = set(client.get("/", QUARTER).context["computing"])
    journeys = set(client.get("/journeys/", QUARTER).context["computing"])
    before = common.data_version()
    _wait(_computed(scoreboard | journeys, before), lake_worker, "the first computation")
    # and journeys last viewed an hour ago
    journeys_only = journeys - scoreboard
    assert journeys_only
    ComputedFigure.objects.filter(key__in=journeys_only).update(viewed_at=timezone.now() - timedelta(hours=1))
    # and the catch-up the company's own writes queued has run (it found the store caught up by the first figures)
    _wait(lambda: not DBTaskResult.objects.filter(task_path__endswith="store_catch_up_task",
                                                  status__in=["READY", "RUNNING"]).exists(),
          lake_worker, "the catch-up of the company's writes")
    earlier = set(DBTaskResult.objects.values_list("pk", flat=True))
    # when touches are recorded (their commit queues the store's debounced catch-up for the worker)
    for i in range(3):
        touchpoint_record(contact=world["contacts"][i], channel="email", kind="email_open",
                          occurred_at=datetime(2026, 11, 18, 10, i, tzinfo=UTC))
    common.forget_version()
    after = common.data_version()
    assert after != before
    # then, with no page asking, the worker catches the store up and computes the scoreboard's figures again
    _wait(_computed(scoreboard, after), lake_worker, "the refresh")
    catch_ups = DBTaskResult.objects.filter(task_path__endswith="store_catch_up_task",
                                            status="SUCCESSFUL").exclude(pk__in=earlier)
    assert [r.return_value for r in catch_ups] == [3]
    refreshes = DBTaskResult.objects.filter(task_path__endswith="figures_refresh_task").exclude(pk__in=earlier)
    assert refreshes.count() == 1
    assert _versions(journeys_only) == {before}
    # and the scoreboard opened now is served at once, with nothing queued
    common.clear()
    page = client.get("/", QUARTER)
    assert page.status_code == 200 and not page.context["computing"]
    assert not DBTaskResult.objects.filter(task_path__endswith="figure_compute_task", status="READY").exists()
    assert page.context["measures"] is not None
