"""Figures not cached yet are queued once for the worker, served from the shared table once it has run."""

from __future__ import annotations

import pytest

from smarketing.web.data import common


@pytest.fixture
def queued(monkeypatch, world):
    """Given a CRM treated as large: analytics figures go to the task queue instead of running in the request."""
    monkeypatch.setattr(common, "RUN_INLINE", False)
    monkeypatch.setattr(common, "INLINE_MAX_CONTACTS", 0)
    return world


def _queued_figures() -> list[list[object]]:
    from django_tasks_db.models import DBTaskResult

    return [r.args_kwargs["args"] for r in DBTaskResult.objects.filter(task_path__endswith="figure_compute_task",
                                                                        status="READY")]


def _run_worker() -> None:
    """Run the ready tasks as `db_worker` does (claim, call, record), inside the test's transaction."""
    from django_tasks_db.models import DBTaskResult

    for row in DBTaskResult.objects.ready().filter(queue_name="default").order_by("enqueued_at"):
        row.claim("test-worker")
        args = row.args_kwargs
        row.set_successful(row.task.func(*args["args"], **args["kwargs"]))


def test_an_uncached_funnel_is_queued_once_and_the_page_says_it_is_being_computed(queued, login):
    # when two people open the funnel before the worker ran
    client = login("marketing")
    first = client.get("/funnel/", {"period": "2026-Q4"})
    second = client.get("/funnel/", {"period": "2026-Q4"})
    # then each spec is queued once, and the page polls for the result
    kinds = [args[0] for args in _queued_figures()]
    assert set(kinds) == {"funnel", "metrics"} and len(kinds) == len(set(map(str, _queued_figures())))
    assert first.context["data"].computing and second.context["data"].computing
    html = second.content.decode()
    assert "The funnel is being computed" in html and 'hx-trigger="smk-figures-ready"' in html
    # and polls for exactly the figures it is waiting for: at once when it loads (the server holds that poll until
    # they are ready or a few seconds passed), then twice a second
    keys = second.context["computing"]
    assert len(keys) == len(kinds) and all(f"k={k}" in html for k in keys)
    assert 'hx-trigger="load, every 500ms"' in html


def test_the_ready_poll_answers_still_computing_until_the_worker_ran_then_tells_the_page_to_refresh(queued, login):
    # given a page waiting for two figures
    client = login("marketing")
    keys = client.get("/funnel/", {"period": "2026-Q4"}).context["computing"]
    # when it polls before the worker ran: nothing to swap, the poll goes on
    before = client.get("/figures/ready/", {"k": keys})
    assert before.status_code == 204 and "HX-Trigger" not in before
    # when the worker has run: the poll stops (286) and the page is told to fetch itself
    _run_worker()
    after = client.get("/figures/ready/", {"k": keys})
    assert after.status_code == 286 and after["HX-Trigger"] == "smk-figures-ready"
    # and the page it fetches has its numbers and polls no more
    common.clear()
    page = client.get("/funnel/", {"period": "2026-Q4"})
    assert not page.context["computing"] and "/figures/ready/" not in page.content.decode()


def test_a_poll_made_while_the_figures_finish_answers_ready_without_waiting_for_the_next_poll(queued, login,
                                                                                             monkeypatch):
    from smarketing.web.views import figures

    # given a page waiting for its figures, which are stored while its poll is being answered
    client = login("marketing")
    keys = client.get("/funnel/", {"period": "2026-Q4"}).context["computing"]
    looks: list[bool] = []

    def settled_on_the_third_look(asked: list[str]) -> bool:
        assert asked == list(keys)
        looks.append(True)
        return len(looks) >= 3

    monkeypatch.setattr(figures, "figures_settled", settled_on_the_third_look)
    monkeypatch.setattr(figures, "LOOK_EVERY", 0.0)
    monkeypatch.setattr(figures, "WAIT_FOR", 60.0)
    # when it polls
    answer = client.get("/figures/ready/", {"k": keys})
    # then the same poll tells the page to refresh
    assert answer.status_code == 286 and answer["HX-Trigger"] == "smk-figures-ready"
    assert len(looks) == 3


def test_a_poll_answers_at_once_while_enough_others_are_waiting(queued, login, monkeypatch):
    import threading

    from smarketing.web.views import figures

    # given a page waiting for its figures, and as many polls waiting already as may wait
    client = login("marketing")
    keys = client.get("/funnel/", {"period": "2026-Q4"}).context["computing"]
    looks: list[bool] = []

    def never_settled(asked: list[str]) -> bool:
        looks.append(True)
        return False

    monkeypatch.setattr(figures, "figures_settled", never_settled)
    monkeypatch.setattr(figures, "WAIT_FOR", 3600.0)
    monkeypatch.setattr(figures, "_waiting", threading.BoundedSemaphore(1))
    assert figures._waiting.acquire(blocking=False)
    # when it polls
    answer = client.get("/figures/ready/", {"k": keys})
    # then it is told at once that the figures are still being computed, after one look
    assert answer.status_code == 204 and len(looks) == 1


def test_the_ready_poll_refuses_bad_keys_and_strangers(queued, login, client):
    assert client.get("/figures/ready/", {"k": "0" * 64}).status_code == 302  # to the login page
    member = login("marketing")
    assert member.get("/figures/ready/").status_code == 400
    assert member.get("/figures/ready/", {"k": "not-a-key"}).status_code == 400
    assert member.get("/figures/ready/", {"k": ["0" * 64] * 65}).status_code == 400
    assert member.get("/figures/ready/", {"k": "0" * 64}).status_code == 286  # a key never queued is settled


def test_the_worker_result_reaches_the_page_through_the_shared_table(queued, login):
    # given a queued funnel
    client = login("marketing")
    client.get("/funnel/", {"period": "2026-Q4"})
    # when the worker runs the queue, and this process forgets its own copies
    _run_worker()
    common.clear()
    page = client.get("/funnel/", {"period": "2026-Q4"})
    # then the page shows the worker's numbers and nothing new is queued
    data = page.context["data"]
    assert not data.computing and data.cohort_size == 6
    assert [r.volume for r in data.stages] == [6, 5, 3, 2, 2, 1]
    assert _queued_figures() == []
    assert "being computed" not in page.content.decode()


def test_new_data_serves_the_last_result_while_the_new_one_is_queued(queued, login):
    # given a computed funnel
    from smarketing.lifecycle.enums import ActorKind
    from smarketing.lifecycle.services import stage_change_record

    client = login("marketing")
    client.get("/funnel/", {"period": "2026-Q4"})
    _run_worker()
    common.clear()
    # when a contact moves on (a new data version)
    stage_change_record(contact=queued["contacts"][5], to_stage="mql", occurred_at=queued["contacts"][5].first_seen_at,
                        actor_kind=ActorKind.SYSTEM)
    common.forget_version()
    page = client.get("/funnel/", {"period": "2026-Q4"})
    # then the last numbers are shown, flagged as being recomputed, and a fresh computation is queued
    assert [r.volume for r in page.context["data"].stages][:2] == [6, 5]
    assert page.context["computing"]
    assert _queued_figures()
    _run_worker()
    common.clear()
    assert [r.volume for r in client.get("/funnel/", {"period": "2026-Q4"}).context["data"].stages][:2] == [6, 6]


def test_a_query_that_cannot_answer_is_cached_with_its_message(queued, login):
    # when the goals page asks for a plan the history cannot support, and the worker runs it
    client = login("viewer")
    client.get("/goals/", {"period": "2026-Q4"})
    _run_worker()
    common.clear()
    page = client.get("/goals/", {"period": "2026-Q4"})
    # then the query's own message is shown, and it is not queued again
    assert "no opportunity was won between 2025-10-01 and 2026-09-30" in page.content.decode()
    assert _queued_figures() == []


def test_the_login_page_queues_one_warm_up_per_data_version(queued, client, settings):
    from django_tasks_db.models import DBTaskResult

    # given warming on
    settings.SMARKETING_WEB_WARM = True
    # when the login page is opened twice
    client.get("/login/")
    client.get("/login/")
    # then one warm-up is queued; after the worker ran it the scoreboard's funnel is served without queueing
    assert DBTaskResult.objects.filter(task_path__endswith="scoreboard_warm_task").count() == 1
    _run_worker()
    common.clear()
    client.get("/login/")
    assert DBTaskResult.objects.filter(task_path__endswith="scoreboard_warm_task").count() == 1
    from smarketing.web.data.funnel import funnel
    from smarketing.web.periods import current_quarter_key, parse_period

    assert not funnel(period=parse_period(current_quarter_key())).computing
