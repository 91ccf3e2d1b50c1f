"""Tasks left RUNNING by a dead worker are taken back: requeued, or failed after too many runs, and recorded.

The real worker killed with SIGKILL mid-task is in lifecycle/tests/test_worker.py; these cover each rule."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from django_tasks_db.models import DBTaskResult

from smarketing.core import clock
from smarketing.core.models import TaskReclaim
from smarketing.core.task_queue import LOST_EXCEPTION, tasks_reclaim_stale, worker_id_new
from smarketing.core.tasks import tasks_reclaim, tasks_reclaim_schedule

NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running(*, started: datetime, workers: list[str]) -> DBTaskResult:
    """A task row as a worker leaves it when it dies mid-run (any task: the reclaim reads only the row)."""
    tasks_reclaim.enqueue()
    row = DBTaskResult.objects.filter(status="READY").latest("enqueued_at")
    DBTaskResult.objects.filter(pk=row.pk).update(status="RUNNING", started_at=started, worker_ids=workers,
                                                  task_path="smarketing.lifecycle.tasks.sla_check")
    return DBTaskResult.objects.get(pk=row.pk)


def test_a_run_older_than_the_timeout_is_requeued_and_recorded(db, settings):
    settings.SMARKETING_TASK_STALE_MINUTES = 30
    old = _running(started=NOW - timedelta(minutes=31), workers=["elsewhere:123:abcdefgh"])
    recent = _running(started=NOW - timedelta(minutes=29), workers=["elsewhere:124:abcdefgh"])

    result = tasks_reclaim_stale(now=NOW)

    assert result.requeued == [str(old.pk)] and result.failed == []
    old.refresh_from_db()
    recent.refresh_from_db()
    assert (old.status, old.run_after) == ("READY", NOW)
    assert recent.status == "RUNNING"
    [record] = TaskReclaim.objects.all()
    assert (record.task_id, record.action, record.worker_id, record.attempts) == (
        str(old.pk), "requeued", "elsewhere:123:abcdefgh", 1)
    assert "more than 30 minute(s)" in record.reason


def test_a_run_whose_worker_died_on_this_host_is_requeued_at_once(db):
    dead = worker_id_new().rsplit(":", 2)[0] + f":{_dead_pid()}:abcdefgh"
    alive = worker_id_new()  # this very process
    gone = _running(started=NOW - timedelta(seconds=5), workers=[dead])
    busy = _running(started=NOW - timedelta(seconds=5), workers=[alive])

    result = tasks_reclaim_stale(now=NOW)

    assert result.requeued == [str(gone.pk)]
    busy.refresh_from_db()
    assert busy.status == "RUNNING"
    assert "no longer running on this host" in TaskReclaim.objects.get().reason


def test_a_task_started_too_many_times_is_failed_not_requeued(db, settings):
    settings.SMARKETING_TASK_MAX_ATTEMPTS = 3
    row = _running(started=NOW - timedelta(hours=2), workers=["a:1:x", "b:2:y", "c:3:z"])

    result = tasks_reclaim_stale(now=NOW)

    assert result.failed == [str(row.pk)] and result.requeued == []
    row.refresh_from_db()
    assert row.status == "FAILED" and row.finished_at == NOW
    assert row.exception_class_path == LOST_EXCEPTION
    assert "started 3 time(s), the limit is 3" in row.traceback
    assert TaskReclaim.objects.get().action == "failed"


def test_a_second_pass_changes_nothing(db):
    _running(started=NOW - timedelta(hours=2), workers=["a:1:x"])
    tasks_reclaim_stale(now=NOW)

    again = tasks_reclaim_stale(now=NOW)

    assert again.requeued == [] and again.failed == []
    assert TaskReclaim.objects.count() == 1


def test_the_reclaim_task_runs_a_pass_and_schedules_the_next_once(db):
    clock.freeze(NOW)
    stale = _running(started=NOW - timedelta(hours=2), workers=["a:1:x"])
    DBTaskResult.objects.filter(status="READY").delete()

    out = tasks_reclaim.call()

    assert out == {"requeued": [str(stale.pk)], "failed": []}
    waiting = DBTaskResult.objects.filter(task_path=tasks_reclaim.module_path, status="READY")
    assert [w.run_after for w in waiting] == [NOW + timedelta(minutes=1)]  # the next pass, once
    assert tasks_reclaim_schedule() is False


@pytest.mark.parametrize("value", ["0", "soon"])
def test_bad_reclaim_settings_stop_start_up(monkeypatch, tmp_path, value):
    from smarketing.settings.env import ConfigError, load

    monkeypatch.setenv("SMARKETING_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SMARKETING_TASK_STALE_MINUTES", value)

    with pytest.raises(ConfigError, match="SMARKETING_TASK_STALE_MINUTES"):
        load()
