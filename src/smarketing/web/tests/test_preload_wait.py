"""A request that arrives while the login page's preload thread imports waits for it to finish, so no request
imports the analytics kernels beside it (two threads importing that package at once can hand one of them a
half-loaded module: a 500 on the first page after logging in)."""

from __future__ import annotations

import threading

from smarketing.web.data import warm


def test_a_request_during_the_preload_is_answered_after_it(client, monkeypatch):
    # given a process that has answered a request (its first-use imports done) ...
    assert client.get("/no-such-page/").status_code == 404
    # ... and a preload running on its background thread, held until released
    entered, release = threading.Event(), threading.Event()
    monkeypatch.setattr(warm, "_preloaded", threading.Event())
    monkeypatch.setattr(warm, "_preload_started", threading.Event())

    def held_preload() -> None:
        with warm._preload_lock:
            if warm._preloaded.is_set():
                return
            entered.set()
            release.wait(30)
            warm._preloaded.set()

    monkeypatch.setattr(warm, "preload", held_preload)
    warm.preload_in_background()
    assert entered.wait(10)
    timer = threading.Timer(3.0, release.set)
    timer.start()
    # when a request arrives
    response = client.get("/no-such-page/")
    # then it was answered only once the preload had finished
    assert release.is_set() and warm._preloaded.is_set()
    assert response.status_code == 404
    timer.cancel()


def test_without_a_running_preload_a_request_does_not_wait(client, monkeypatch):
    monkeypatch.setattr(warm, "_preloaded", threading.Event())
    monkeypatch.setattr(warm, "_preload_started", threading.Event())
    called = []
    monkeypatch.setattr(warm, "preload", lambda: called.append(True))
    assert client.get("/no-such-page/").status_code == 404
    assert called == []
