"""A page whose figures the task worker computes, in Chromium, with a real `smarketing worker`: the page answers
at once saying so, polls for exactly those figures, and refreshes itself once when they are ready."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .conftest import BIN, ROOT, launch_server, stop_process, stop_server

pytestmark = pytest.mark.browser

WAIT_MS = 120_000  # the worker warms this quarter's scoreboard first (the login page asks for it)
PAGE = "/journeys/?from=2026-02-03&to=2026-05-17"  # a range no other test computes


@pytest.fixture
def worker_server(live_smarketing: Any) -> Iterator[str]:
    """A second server on the live server's database that leaves every figure to the worker, and that worker."""
    env = {**live_smarketing.env, "SMARKETING_FIGURES_INLINE_CONTACTS": "0"}
    data = Path(env["SMARKETING_DATA_DIR"])
    # The tasks the seed and earlier tests left (rescoring, deal outcomes) write rows, so run them first: data that
    # changes while the page waits makes the page wait for new figures, a second round this test does not measure.
    drained = subprocess.run([str(BIN / "smarketing"), "worker", "--queues", "default", "--batch"], env=env, cwd=ROOT,
                             capture_output=True, text=True, timeout=600, check=False)
    assert drained.returncode == 0, drained.stderr[-2000:]
    worker = subprocess.Popen([str(BIN / "smarketing"), "worker", "--queues", "default", "--interval", "0.5"], env=env,
                              cwd=ROOT, stdout=open(data / "worker-figures.log", "ab"),  # noqa: SIM115
                              stderr=subprocess.STDOUT)
    try:
        server = launch_server(env, data / "server-worker-figures.log", seeded_by=live_smarketing.seeded_by)
        try:
            yield server.url
        finally:
            stop_server(server)
    finally:
        stop_process(worker)


def test_a_page_waiting_for_the_worker_polls_its_figures_and_refreshes_itself_once(browser, worker_server):
    # given marketing logged in on a server that leaves every figure to the worker
    ctx = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=worker_server)
    ctx.set_default_timeout(WAIT_MS)
    try:
        page = ctx.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill("maria.marketing")
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(worker_server + "/")
        fetched: list[str] = []
        page.on("request", lambda r: fetched.append(r.url.removeprefix(worker_server)))
        # when they open journeys over a range nobody has computed
        answer = page.goto(PAGE)
        # then the page answers at once saying the figures are being computed, and polls for them
        first = answer.text()
        assert "Journeys are being computed" in first and 'hx-trigger="smk-figures-ready"' in first
        # and once the worker has computed them, the page shows them without being reloaded by hand
        page.locator("#main:not(:has([hx-trigger='smk-figures-ready']))").wait_for()
        assert "Journeys are being computed" not in page.locator("#main").inner_text()
        page.wait_for_load_state("networkidle")
        polls = [u for u in fetched if u.startswith("/figures/ready/?k=")]
        refreshes = [u for u in fetched if u.startswith("/journeys/")]
        # it asked about the figures at least once, and fetched the page once more, not every few seconds
        assert polls and refreshes == [PAGE, PAGE], refreshes
    finally:
        ctx.close()
