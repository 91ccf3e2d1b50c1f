"""Starting and stopping a real `smarketing serve` in tests: a free 127.0.0.1 port, a server that answers its login
page, a process stopped for sure. Shared by the browser tests and the tests that start a server of their own."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]  # the checkout: src/smarketing/testing/servers.py
BIN = Path(sys.executable).parent


def worker_database_url() -> str:
    """The `DATABASE_URL` of the test's own database, for a worker or server process the test starts over it."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{Path(s['NAME']).resolve()}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, url: str, proc: subprocess.Popen[bytes], env: dict[str, str], seeded_by: str) -> None:
        self.url, self.proc, self.env, self.seeded_by = url, proc, env, seeded_by


def launch_server(env: dict[str, str], log_path: Path, *, seeded_by: str = "", threads: int = 8,
                  seconds: float = 90) -> Server:
    """`smarketing serve` on a free 127.0.0.1 port over `env`'s database (already seeded), once it answers."""
    port = free_port()
    log = open(log_path, "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen([str(BIN / "smarketing"), "serve", "--host", "127.0.0.1", "--port", str(port),
                             "--threads", str(threads)], env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_answers(url, proc, log_path, seconds)
    except RuntimeError:
        proc.terminate()
        raise
    return Server(url, proc, env, seeded_by)


def wait_until_answers(url: str, proc: subprocess.Popen[bytes], log_path: Path, seconds: float) -> None:
    """Wait until `url`'s login page answers 200; fail if the process exits or `seconds` pass first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(url + "/login/", timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server did not answer within {seconds:g} s: {log_path.read_text()[-2000:]}")


def wait_for_text(path: Path, text: str, seconds: float, *, what: str,
                  proc: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until the file at `path` (a process's log) holds `text`; fail naming `what` after `seconds`, or at once
    if `proc` (the process writing it) exits."""
    deadline = time.monotonic() + seconds
    while text not in (path.read_text() if path.exists() else ""):
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited: {path.read_text()[-2000:] if path.exists() else ''}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: no {text!r} in {path.name} within {seconds:g} s")
        time.sleep(0.3)


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Stop a server or worker the tests started: SIGTERM, then SIGKILL after 10 s."""
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
