"""`smarketing demo` runs two task workers beside the server, each its own process, and stops them with the
server."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from smarketing.testing.servers import BIN, free_port, wait_for_text, wait_until_answers


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purposes: it no longer runs.
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


@pytest.mark.slow
def test_demo_serves_and_runs_the_worker_until_stopped(tmp_path):
    # given an empty data directory
    port = free_port()
    env = {**os.environ, "SMARKETING_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
           "DJANGO_SETTINGS_MODULE": "smarketing.settings.base"}
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        # when `smarketing demo` starts
        demo = subprocess.Popen([str(BIN / "smarketing"), "demo", "--port", str(port)], env=env, stdout=out,
                                stderr=subprocess.STDOUT)
        try:
            wait_until_answers(f"http://127.0.0.1:{port}", demo, log, 300)
            # then the server answers and two worker processes run beside it (a page's figures side by side)
            workers = [int(pid) for pid in re.findall(r"task worker running \(pid (\d+)\)", log.read_text())]
            assert len(workers) == 2, log.read_text()[-2000:]
            for worker in workers:
                assert _alive(worker)
                assert b"worker" in Path(f"/proc/{worker}/cmdline").read_bytes().split(b"\0")
            # and its lines go to its own log in the data directory, not over the server's output
            worker_log = tmp_path / "worker.log"
            wait_for_text(worker_log, "Starting worker", 60, what="the worker")
            assert "Starting worker" not in log.read_text()
            # and the figures were computed before serving while the first theme run waits for the worker
            assert "this quarter's figures are ready" in log.read_text()
            assert "the worker is computing feedback themes" in log.read_text()
            # and the command service runs beside them: a command typed in another terminal runs in it
            found = re.search(r"command service running \(pid (\d+)\)", log.read_text())
            assert found, log.read_text()[-2000:]
            service = int(found.group(1))
            service_log = tmp_path / "service.log"
            wait_for_text(service_log, "command service ready", 120, what="the command service")
            typed = subprocess.run([str(BIN / "smarketing"), "funnel", "--from", "mql", "--to", "customer",
                                    "--json"], env=env, capture_output=True, text=True, timeout=120, check=False)
            assert typed.returncode == 0, typed.stderr
            assert '"conversion' in typed.stdout
            assert "ran `funnel --from mql --to customer --json`" in service_log.read_text()
            # and a worker runs every analytics command once, so the kernels are compiled before one is typed
            ended = re.compile(r"path=smarketing\.analytics\.tasks\.kernels_compile_task state=(SUCCESSFUL|FAILED)")
            deadline = time.monotonic() + 240
            while not ended.search(worker_log.read_text()) and time.monotonic() < deadline:
                time.sleep(0.5)
            compiled = ended.search(worker_log.read_text())
            assert compiled and compiled.group(1) == "SUCCESSFUL", worker_log.read_text()[-3000:]
        finally:
            # and stopping the demo stops its worker
            demo.send_signal(signal.SIGINT)
            try:
                demo.wait(timeout=30)
            except subprocess.TimeoutExpired:
                demo.kill()
    deadline = time.monotonic() + 15
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not any(_alive(w) for w in workers)
    assert not _alive(service)
    assert not (tmp_path / "run" / "commands.sock").exists()
