"""A live smarketing server for browser tests: `smarketing serve` on a free 127.0.0.1 port, over a temporary
SQLite database seeded with the demo company (or the small seed when the demo seeder is not installed).

The server is a subprocess, so Playwright's event loop never meets Django's database connections.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from smarketing.testing.servers import Server, launch_server, stop_process

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
BIN = Path(sys.executable).parent


def _run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)


def _has_command(env: dict[str, str], name: str) -> bool:
    out = _run([str(BIN / "smarketing"), "--help"], env, 120)
    return any(line.strip("│ ").startswith(name + " ") for line in out.stdout.splitlines())


def seed_database(env: dict[str, str], *, size: str = "small", contacts: int = 60) -> str:
    """Migrate, then load the demo company if `smarketing seed` exists, and always the small seed's users."""
    done = _run([str(BIN / "smarketing"), "migrate"], env, 300)
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed: {done.stderr[-2000:]}")
    how = "small seed"
    if _has_command(env, "seed"):
        demo = _run([str(BIN / "smarketing"), "seed", "--size", size], env, 900)
        if demo.returncode == 0:
            how = f"smarketing seed --size {size}"
    small = _run([sys.executable, str(ROOT / "tests" / "browser" / "seed_small.py"), "--contacts", str(contacts)], env, 900)
    if small.returncode != 0:
        raise RuntimeError(f"seed failed: {small.stderr[-2000:]}")
    return how


def start_server(data_dir: Path, *, size: str = "small", contacts: int = 60, threads: int = 8) -> Server:
    env = {**os.environ, "SMARKETING_DATA_DIR": str(data_dir), "DATABASE_URL": f"sqlite:///{data_dir / 'db.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "smarketing.settings.base", "SMARKETING_ALLOWED_HOSTS": "127.0.0.1,localhost",
           # `serve` is production: it refuses to start without both secrets (debug is off).
           "SMARKETING_SECRET_KEY": "browser-tests-secret-key-" + "x" * 40, "SMARKETING_WEBHOOK_SECRET": "browser-tests"}
    return launch_server(env, data_dir / "server.log", seeded_by=seed_database(env, size=size, contacts=contacts),
                         threads=threads)


def stop_server(server: Server) -> None:
    stop_process(server.proc)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: Any) -> Iterator[None]:
    """A failed browser test shows the end of its server's log (one line per request, with its time)."""
    outcome = yield
    report = outcome.get_result()
    server = getattr(item, "funcargs", {}).get("live_smarketing")
    if report.failed and isinstance(server, Server):
        log = Path(server.env["SMARKETING_DATA_DIR"]) / "server.log"
        if log.exists():
            report.sections.append(("server log (last 60 lines)", "\n".join(log.read_text().splitlines()[-60:])))


@pytest.fixture(scope="session")
def live_smarketing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(tmp_path_factory.mktemp("smk-live"))
    yield server
    stop_server(server)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make browser` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def as_role(browser: Any, live_smarketing: Server) -> Iterator[Any]:
    """`as_role("sam.sales", width=1366, height=768)` -> a logged-in page; `timeout_ms` sets the page's waits (the
    first login of a session warms the figures, which takes a while on a loaded machine)."""
    contexts: list[Any] = []

    def login(username: str, *, width: int = 1366, height: int = 768, timeout_ms: int | None = None) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=live_smarketing.url)
        if timeout_ms is not None:
            ctx.set_default_timeout(timeout_ms)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/login/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_smarketing.url + "/")
        return page

    yield login
    for ctx in contexts:
        ctx.close()


@pytest.fixture
def shot() -> Any:
    """`shot(page, name)` saves a full-page screenshot to test-artifacts/screenshots/<name>.png."""

    def take(page: Any, name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
