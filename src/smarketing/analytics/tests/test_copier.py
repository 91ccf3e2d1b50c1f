"""The copier's fork server: a child of the command service gets its store helpers as forks of one loaded process
(not fresh processes), each serving that child alone and stopping when it is gone; the fork server stops with the
service. A forked child here plays the service's child, this test process the service."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from smarketing.analytics.store import copier


def _gone(pid: int) -> bool:
    """Whether the process has ended (no longer listed, or a zombie its parent has not reaped yet)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def _parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _wait_gone(pid: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not _gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def _child(work: Callable[[], object], *, stay: bool = False) -> tuple[int, Any]:
    """Fork a child that runs `work` with the copier as a fresh process has it (no helpers yet) and reports its
    result; with `stay`, the child then waits to be killed. Returns (child pid, result)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(r)
        try:
            copier._helpers.clear()
            os.write(w, json.dumps(work()).encode() + b"\n")
            if stay:
                time.sleep(60)
        finally:
            os._exit(0)  # no atexit: a stay-child's helpers see it gone, not stopped by it
    os.close(w)
    with os.fdopen(r, "rb") as reader:
        line = reader.readline()
    if not stay:
        os.waitpid(pid, 0)
    return pid, json.loads(line)


@pytest.fixture
def fork_server() -> Iterator[int]:
    copier.fork_server_start()
    try:
        pid = copier.fork_server_pid()
        assert pid is not None
        yield pid
    finally:
        copier.fork_server_stop()


@pytest.fixture
def database(tmp_path: Path) -> dict[str, str]:
    path = tmp_path / "db.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        conn.executemany("INSERT INTO t (v) VALUES (?)", [(f"v{i}",) for i in range(100)])
    return {"sqlite": str(path)}


def _read_with_helper(database: dict[str, str]) -> Callable[[], dict[str, Any]]:
    def work() -> dict[str, Any]:
        table = copier.read_arrow(database, "SELECT COUNT(*) AS n, MAX(v) AS top FROM t")
        helper = copier._helpers[0]
        return {"rows": table.to_pylist(), "helper": helper.pid, "forked": isinstance(helper, copier.ForkedHelper),
                "parent": _parent_of(helper.pid)}
    return work


def test_a_child_of_the_service_gets_a_helper_forked_by_the_fork_server(fork_server, database):
    # given the fork server started by this process (the service)
    # when a child reads through the copier
    _, found = _child(_read_with_helper(database))
    # then its helper is a fork of the fork server (no fresh process started), and it answers
    assert found["forked"] and found["parent"] == fork_server
    assert found["rows"] == [{"n": 100, "top": "v99"}]


def test_two_children_at_once_each_get_their_own_helper(fork_server, database):
    # when two children read at the same time
    first_pid, first = _child(_read_with_helper(database), stay=True)
    second_pid, second = _child(_read_with_helper(database), stay=True)
    try:
        # then each has a helper of its own, both forked by the fork server, both alive at once
        assert first["helper"] != second["helper"]
        assert first["parent"] == second["parent"] == fork_server
        assert first["rows"] == second["rows"] == [{"n": 100, "top": "v99"}]
        assert not _gone(first["helper"]) and not _gone(second["helper"])
    finally:
        for pid in (first_pid, second_pid):
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)


def test_a_forked_helper_stops_as_soon_as_the_process_it_serves_is_gone(fork_server, database):
    # given a child whose helper is running
    pid, found = _child(_read_with_helper(database), stay=True)
    assert not _gone(found["helper"])
    # when the child is killed (no chance to stop its helper)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    # then the helper stops at once (it could otherwise rename a file into a lake a later catch-up writes)
    assert _wait_gone(found["helper"], 2.0)
    assert not _gone(fork_server)


def test_a_process_that_stops_its_helpers_waits_for_a_forked_one(fork_server, database):
    def work() -> object:
        read = _read_with_helper(database)()
        copier._stop_all()  # what a process does at exit
        return {**read, "gone": _gone(read["helper"])}

    _, found = _child(work)
    assert found["forked"] and found["gone"]


def test_the_fork_server_stops_with_the_service():
    # given a process playing the service, which starts a fork server and is then killed
    def work() -> object:
        copier.fork_server_start()
        return copier.fork_server_pid()

    service, server = _child(work, stay=True)
    assert isinstance(server, int) and not _gone(server)
    os.kill(service, signal.SIGKILL)
    os.waitpid(service, 0)
    # then the fork server stops too
    assert _wait_gone(server, 3.0)


def test_after_the_fork_server_stopped_a_child_starts_its_own_helper(database):
    # given a child still holding the service's end of the fork server's socket (a command running when the
    # service stopped)
    copier.fork_server_start()
    server = copier.fork_server_pid()
    assert server is not None and copier._fork_server is not None
    held = socket.socket(fileno=os.dup(copier._fork_server.fileno()))
    copier.fork_server_stop()
    assert _wait_gone(server, 3.0)
    copier._fork_server = held
    try:
        # when it reads through the copier
        _, found = _child(_read_with_helper(database))
    finally:
        copier._fork_server = None
        held.close()
    # then it started a helper of its own, which answers
    assert not found["forked"] and found["parent"] != server
    assert found["rows"] == [{"n": 100, "top": "v99"}]
