"""A request that arrives while the login page's preload thread imports waits for it to finish, so no request
imports the analytics kernels beside it (two threads importing that package at once can hand one of them a
half-loaded module: a 500 on the first page after logging in). The API is built on first use, once whatever the
threads, and a request arriving while an API request builds it waits for it in the same way."""

from __future__ import annotations

import threading

from django.test import Client

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


def _api_not_built(monkeypatch, build):
    # The process's API stays as it is: the build is replaced, and the patterns it built are handed back.
    from smarketing import api_urls

    built = api_urls.api_patterns()
    monkeypatch.setattr(api_urls, "_patterns", None)
    monkeypatch.setattr(api_urls, "_build", lambda: build() or built)
    return api_urls


def test_a_request_under_api_before_the_api_is_built_builds_it_without_the_preload(client, monkeypatch):
    # given a process whose API is not built yet and no preload ran
    builds = []
    api_urls = _api_not_built(monkeypatch, lambda: builds.append(True))
    monkeypatch.setattr(warm, "_preloaded", threading.Event())
    monkeypatch.setattr(warm, "_preload_started", threading.Event())
    preloads = []
    monkeypatch.setattr(warm, "preload", lambda: preloads.append(True))
    # when two API requests arrive, one after the other
    first = client.get("/api/team/me")
    second = client.get("/api/no-such-endpoint")
    # then the first built the API once, without the kernels' and templates' preload, and both answered JSON
    assert builds == [True] and api_urls.api_built() and preloads == []
    assert first.status_code == 401 and first.json()["code"] == "unauthenticated"
    assert second.status_code == 404 and second.json()["code"] == "not_found"


def test_a_request_while_an_api_request_builds_the_api_is_answered_after_it(client, monkeypatch):
    # given an API request building the API, held until released
    entered, release = threading.Event(), threading.Event()

    def held_build() -> None:
        entered.set()
        release.wait(30)

    api_urls = _api_not_built(monkeypatch, held_build)
    monkeypatch.setattr(warm, "_preloaded", threading.Event())
    monkeypatch.setattr(warm, "_preload_started", threading.Event())
    answers = {}
    api_request = threading.Thread(target=lambda: answers.setdefault("api", Client().get("/api/team/me")))
    api_request.start()
    assert entered.wait(10)
    timer = threading.Timer(3.0, release.set)
    timer.start()
    # when a page request arrives meanwhile
    response = client.get("/no-such-page/")
    # then it was answered only once the API was built
    assert release.is_set() and api_urls.api_built()
    assert response.status_code == 404
    api_request.join(30)
    assert answers["api"].status_code == 401
    timer.cancel()


def test_threads_asking_for_the_api_at_once_build_it_once(monkeypatch):
    # given an API not built yet, whose build takes a while
    builds = []
    entered, release = threading.Event(), threading.Event()

    def slow_build() -> None:
        builds.append(True)
        entered.set()
        release.wait(30)

    api_urls = _api_not_built(monkeypatch, slow_build)
    # when eight threads ask for its patterns at once
    got = []
    threads = [threading.Thread(target=lambda: got.append(api_urls.api_patterns())) for _ in range(8)]
    for t in threads:
        t.start()
    assert entered.wait(10)
    release.set()
    for t in threads:
        t.join(30)
    # then it was built once and every thread got the same patterns
    assert builds == [True]
    assert len(got) == 8 and all(patterns is got[0] for patterns in got)
