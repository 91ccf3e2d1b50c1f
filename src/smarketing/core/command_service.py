"""The command service: a process that has loaded the product once and forks a child for each CLI command.

A command run from a fresh process pays for Python importing Django, Ibis, DuckDB, pandas, Arrow and the compiled
kernels (well over a second) before doing its own work, often a few tenths of a second. `smarketing service`
pays that once. For each command the CLI connects to its Unix socket (`<data dir>/run/commands.sock`, mode 0600
in a 0700 folder, and the peer's user id is checked) and passes its stdin, stdout and stderr, working folder,
environment and arguments (see smarketing.core.command_client); the service forks, and the child runs the command
on the caller's own terminal exactly as `smarketing.cli.run` runs it in a fresh process, then reports the exit
status. Children share nothing with each other: each starts from the parent's state, and the parent never opens
a database or analytics connection nor starts a thread, so a fork copies no connection and no lock. The one
process it starts is the history store's fork server, which gives each child's catch-up its copier helpers as
forks of a loaded process instead of fresh ones (see smarketing.analytics.store.copier); it stops with the service.

The parent refuses (and the CLI runs the command itself) when the caller's settings environment, interpreter or
protocol differ from its own, and stops when the product's code changed under it, so a service never answers with
old code or another company's data. Rails' Spring and the JVM's Nailgun are the same design; no maintained Python
library offers it (multiprocessing's forkserver passes pickled functions, not a terminal), hence this module.
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import importlib
import json
import os
import pkgutil
import signal
import socket
import struct
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from smarketing.analytics.store import copier
from smarketing.core import background
from smarketing.core.command_client import PROTOCOL

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# Modules not loaded ahead: tests and their helpers, migrations (Django loads them when it migrates), settings
# variants other than the running one, and entry points with side effects at import.
SKIPPED_PARTS = {"tests", "migrations", "testing", "conftest", "settings", "wsgi", "__main__"}
MAX_REQUEST = 4 * 1024 * 1024
Runner = Callable[[list[str]], None]


class ServiceRunning(RuntimeError):
    """Another command service already listens on this data folder's socket."""


def code_stamp() -> tuple[int, int]:
    """The product's code as (number of source files, newest modification time): a change to any module, template
    or migration changes it."""
    count = newest = 0
    for folder, dirs, files in os.walk(PACKAGE_ROOT):
        dirs[:] = [d for d in dirs if d != "__pycache__" and d != "static"]
        for name in files:
            if name.endswith((".py", ".html", ".txt")):
                count += 1
                newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
    return count, newest


def preload() -> list[str]:
    """Import every module of the product the CLI can reach (so a child finds them loaded), then what the
    analytics load lazily on first use (engine backends, compiled kernels). Returns the optional modules that
    could not load because an extra is not installed (e.g. Spark without the `spark` extra)."""
    from smarketing.analytics.warm import preload as analytics_preload

    missing = []
    for info in pkgutil.walk_packages([str(PACKAGE_ROOT)], prefix="smarketing."):
        if SKIPPED_PARTS & set(info.name.split(".")):
            continue
        try:
            importlib.import_module(info.name)
        except ModuleNotFoundError as exc:
            if (exc.name or "").startswith("smarketing"):
                raise
            missing.append(f"{info.name} (needs {exc.name})")
    analytics_preload()
    return missing


def command_service_run(*, socket_path: Path, run: Runner, log: Callable[[str], None]) -> None:
    """Listen on `socket_path` until SIGTERM or Ctrl+C, running each command in a forked child with `run`."""
    from django.db import connections

    from smarketing.settings.env import settings_environment

    socket_path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(socket_path.parent, 0o700)
    _refuse_second_service(socket_path)
    # Why: the preload starts native threads (the engines' and kernels' pools) that inherit this mask. A stop signal
    # delivered to one of them would set Python's flag but leave the main thread asleep in accept() for good; blocked
    # everywhere until the loop below unblocks it in this thread only, it always lands where accept() wakes. A stop
    # sent meanwhile waits and stops the service as soon as it is ready.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    missing = preload()
    if missing:
        log("not loaded ahead (optional extras not installed): " + ", ".join(missing))
    connections.close_all()
    if threading.active_count() != 1:
        raise RuntimeError(f"the command service must not fork with threads running: {threading.enumerate()}")
    identity = {"settings_env": settings_environment(), "executable": sys.executable}
    stamp = code_stamp()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        # The children's store helpers are forks of one loaded process, not fresh ones (see analytics.store.copier).
        copier.fork_server_start()
        with _private_umask():
            server.bind(str(socket_path))
        server.listen(64)
        # Why: children are never waited for (each reports to its own caller), so the kernel reaps them.
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, _stop)
        sys.stdout.flush()
        sys.stderr.flush()
        gc.freeze()  # objects loaded so far are shared with children and stay shared (no refcount pages copied)
        log(f"command service ready on {socket_path} (pid {os.getpid()}; store helpers forked by pid "
            f"{copier.fork_server_pid()})")
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        while True:
            conn, _ = server.accept()
            # Why: a stop arriving while fork runs the libraries' at-fork hooks would raise there, and an exception
            # in such a hook is printed and dropped: the service would miss its SIGTERM and run on. Blocked around
            # the fork, a stop waits and is raised here, after it.
            signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
            copier.fork_server_pid()  # (started again if it stopped)
            if os.fork() == 0:
                server.close()
                _child(conn, identity=identity, stamp=stamp, run=run)
            conn.close()
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    except KeyboardInterrupt:
        pass
    finally:
        server.close()
        copier.fork_server_stop()
        with contextlib.suppress(FileNotFoundError):
            socket_path.unlink()
        log("command service stopped")


STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


class _private_umask:
    def __enter__(self) -> None:
        self.previous = os.umask(0o177)

    def __exit__(self, *exc: object) -> None:
        os.umask(self.previous)


def _refuse_second_service(socket_path: Path) -> None:
    if not socket_path.exists():
        return
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(socket_path))
    except OSError:
        socket_path.unlink()  # left by a service that stopped without cleaning up
        return
    finally:
        probe.close()
    raise ServiceRunning(f"a command service already listens on {socket_path}")


def _read_request(conn: socket.socket) -> tuple[dict[str, Any], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 65536, 3)
    if len(data) < 4:
        raise ValueError("short request")
    (size,) = struct.unpack("!I", data[:4])
    if size > MAX_REQUEST:
        raise ValueError("request too large")
    body = bytearray(data[4:])
    while len(body) < size:
        chunk = conn.recv(min(65536, size - len(body)))
        if not chunk:
            raise ValueError("request cut short")
        body += chunk
    return json.loads(bytes(body)), fds


def _refusal(conn: socket.socket, request: dict[str, Any], fds: list[int], identity: dict[str, Any],
             stamp: tuple[int, int]) -> str | None:
    """Why this caller's command must run in its own process, or None when the service may run it."""
    _pid, uid, _gid = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED,
                                                          struct.calcsize("3i")))
    if uid != os.getuid():
        return "another-user"
    if len(fds) != 3:
        return "no-terminal"
    if request.get("protocol") != PROTOCOL or request.get("executable") != identity["executable"]:
        return "another-interpreter"
    if request.get("settings_env") != identity["settings_env"]:
        return "another-configuration"
    if code_stamp() != stamp:
        os.kill(os.getppid(), signal.SIGTERM)  # the service holds old code: stop it, the next command runs here
        return "code-changed"
    return None


def _child(conn: socket.socket, *, identity: dict[str, Any], stamp: tuple[int, int], run: Runner) -> None:
    """Run one command in this forked child and leave with its exit status; never returns."""
    started = time.perf_counter()
    # The service's own output (its log), kept before the caller's terminal takes stdout's place.
    log_out = os.fdopen(os.dup(1), "w", encoding="utf-8", errors="backslashreplace", buffering=1)
    for signum in (signal.SIGCHLD, signal.SIGTERM):
        signal.signal(signum, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)  # blocked by the service around the fork
    fds: list[int] = []
    try:
        request, fds = _read_request(conn)
        reason = _refusal(conn, request, fds, identity, stamp)
    except (OSError, ValueError) as exc:
        reason = f"bad-request ({exc})"
    if reason is not None:
        print(f"refused a command: {reason}", file=log_out)
        with contextlib.suppress(OSError):
            conn.sendall(f"refused {reason.split()[0]}\n".encode())
        os._exit(0)
    conn.sendall(f"accepted {os.getpid()}\n".encode())
    words = " ".join(str(arg) for arg in request["argv"])
    print(f"running `{words[:200]}` (pid {os.getpid()})", file=log_out)
    status = _run_on_callers_terminal(request, fds, run)
    _leave_callers_terminal()
    with contextlib.suppress(OSError):
        conn.sendall(f"exit {status}\n".encode())
    answered = time.perf_counter() - started
    # What a fresh process does before it exits, after the caller has its answer: finish the work the command left
    # in the background (derived data written to disk for the next command).
    working = background.finish()
    print(f"ran `{words[:200]}` (pid {os.getpid()}): exit {status} in {answered:.2f}s"
          + (f" (then {time.perf_counter() - started - answered:.2f}s finishing)" if working else ""), file=log_out)
    os._exit(status)


def _leave_callers_terminal() -> None:
    """Let go of the caller's terminal (or pipes): a caller reading our output to its end is not kept waiting."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)


def _run_on_callers_terminal(request: dict[str, Any], fds: list[int], run: Runner) -> int:
    from django.db import connections

    for target, fd in enumerate(fds):
        os.dup2(fd, target)
        os.close(fd)
    encoding = request.get("encoding") or {}
    sys.stdin = open(0, encoding=encoding.get("stdin") or "utf-8", closefd=False)  # noqa: SIM115
    sys.stdout = open(1, "w", encoding=encoding.get("stdout") or "utf-8", closefd=False,  # noqa: SIM115
                      buffering=1 if os.isatty(1) else -1)
    sys.stderr = open(2, "w", encoding=encoding.get("stderr") or "utf-8", errors="backslashreplace",  # noqa: SIM115
                      closefd=False, buffering=1)
    os.environ.clear()
    os.environ.update(request["env"])
    argv = [str(arg) for arg in request["argv"]]
    sys.argv = ["smarketing", *argv]
    status = 0
    try:
        os.chdir(request["cwd"])
        run(argv)
    except SystemExit as exc:
        status = _exit_status(exc.code)
    except KeyboardInterrupt:
        print("Aborted.", file=sys.stderr)
        status = 130
    except BaseException:  # noqa: BLE001 - a fresh process would print the traceback and exit 1, as here
        traceback.print_exc()
        status = 1
    finally:
        # What a fresh process does at exit: functions registered at exit (helper processes stopped), connections
        # closed, buffered output written.
        atexit._run_exitfuncs()
        connections.close_all()
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    return status


def _exit_status(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1
