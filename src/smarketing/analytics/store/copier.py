"""The copier: helper processes that read ranges of rows out of the database and write them into the lake.

Why processes and not threads:
- ADBC's SQLite driver carries its own copy of the SQLite library. Two copies in one process corrupt a database
  (SQLite's "How To Corrupt" §2.2.1): POSIX locks belong to the process, so when one copy closes its file the
  other copy's locks vanish, and a writer's half-done transaction looks abandoned to the next reader. The helpers
  hold the only ADBC copies; the application's own sqlite3 connections stay in the parent.
- ADBC's drivers hold Python's GIL while they step through rows, so threads would read one range at a time.
  Separate processes read, convert and write several ranges at once (one per core), and the rows never travel
  back: a helper answers with the names of the files it wrote (see extract.copy_rows); the parent commits them.

The helpers start on the first copy that needs them (one more per ROWS_PER_HELPER rows to copy, up to HELPERS)
and serve the process from then on; a helper whose parent is gone stops at once, so it cannot rename a file
into a lake that a later catch-up is writing.

Started helpers cost a fresh Python importing Arrow and ADBC (0.25-0.4 s), paid once by a worker or the web
server but by every command the command service runs (a forked child per command, which catches the store up
and exits). So the service starts a fork server (`fork_server_start`): one process that has imported what a
helper needs and holds no connection; a child of the service asks it for a helper and gets a fork of it (a few
milliseconds) on pipes of its own, the same protocol as a started one. Each helper serves the one process that
asked for it (nothing is shared between children, so nothing is locked or handed over) and stops at once when
that process is gone (its answers' pipe has no reader); the fork server stops with the service. Without one
(no service, or it is gone), helpers are started as above.

Protocol over the pipes: a request is a 4-byte length and a JSON object, {"op": "read", "source", "sql"},
{"op": "copy", "job"} or {"op": "release"} (close PostgreSQL connections); the answer is one status byte (0 ok,
1 error), an 8-byte length and the payload: an Arrow IPC stream for a read, a JSON CopyResult for a copy, or the
error text.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict
from typing import IO, TYPE_CHECKING, Any

from smarketing.analytics.store.extract import CopyJob, CopyResult

if TYPE_CHECKING:
    import pyarrow as pa

HELPERS = max(1, min(os.cpu_count() or 1, 4))  # at most one helper per core (and four: memory, a chunk each)
ROWS_PER_HELPER = 100_000  # a second helper only pays for its start when there is this much to copy
SQLITE_MMAP_BYTES = 1 << 30  # SQLite reads the file through a memory map: no copy into its page cache
SQLITE_BATCH_ROWS = 65_536  # rows per Arrow batch from ADBC's SQLite driver (its default, 1,024, costs ~7 %)

_lock = threading.Lock()
# Set in the command service by fork_server_start and inherited by its children, which ask it for helpers.
_fork_server: socket.socket | None = None
_fork_server_process: subprocess.Popen[bytes] | None = None
_fork_server_owner = 0  # the service's pid: the service itself never copies


class ForkedHelper:
    """A helper forked for this process by the command service's fork server: pipes like a started helper's, but
    not this process's child, so its end shows on the pipes (no reader of our requests, no writer of answers)."""

    def __init__(self, pid: int, stdin: IO[bytes], stdout: IO[bytes]) -> None:
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not self.stdin.closed:
            poller = select.poll()
            poller.register(self.stdin.fileno(), 0)  # only errors: POLLERR once the helper's end is closed
            if poller.poll(0):
                self.returncode = 1
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        """Until the helper has ended (its answers' pipe is at its end), at most `timeout` seconds."""
        fd = self.stdout.fileno()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([fd], [], [], left)
            if not ready:
                raise subprocess.TimeoutExpired(f"store helper {self.pid}", timeout or 0)
            if not os.read(fd, 65536):
                self.returncode = 0 if self.returncode is None else self.returncode
                return self.returncode


Helper = subprocess.Popen[bytes] | ForkedHelper
_helpers: list[Helper] = []


class CopyFailed(RuntimeError):
    """A helper could not run a read or a copy (its message is the database's or Arrow's)."""


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError("the store's helper process ended")
        data += chunk
    return data


def _helper(k: int) -> Helper:
    while len(_helpers) <= k:
        _helpers.append(_start())
    if _helpers[k].poll() is not None:
        _helpers[k] = _start()
    return _helpers[k]


def _start() -> Helper:
    if not _helpers:
        atexit.register(_stop_all)
    forked = _forked_helper()
    if forked is not None:
        return forked
    return subprocess.Popen([sys.executable, "-m", "smarketing.analytics.store.copier", str(os.getpid())],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _forked_helper() -> ForkedHelper | None:
    """A helper from the command service's fork server, when this process is one of its children; None otherwise
    (or when the fork server is gone: the caller starts one)."""
    server = _fork_server
    if server is None or os.getpid() == _fork_server_owner:
        return None
    req_r, req_w = os.pipe()
    ans_r, ans_w = os.pipe()
    try:
        # The helper works in this process's folder and environment, as a started one would.
        request = json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), "env": dict(os.environ)}).encode("utf-8")
        socket.send_fds(server, [request], [req_r, ans_w])
    except OSError:
        os.close(req_w)
        os.close(ans_r)
        return None
    finally:
        os.close(req_r)  # the helper's ends: only the helper holds them now, so its end shows here
        os.close(ans_w)
    stdin, stdout = os.fdopen(req_w, "wb"), os.fdopen(ans_r, "rb")
    try:
        (pid,) = struct.unpack(">I", _read_exact(stdout, 4))  # the helper says it runs
    except EOFError:  # the fork server stopped before it forked
        stdin.close()
        stdout.close()
        return None
    return ForkedHelper(pid, stdin, stdout)


def fork_server_start() -> None:
    """Start the fork server the command service's children get their helpers from (see the module docstring).
    Called by the service before it forks; it starts a process, no thread, and opens no connection."""
    global _fork_server, _fork_server_process, _fork_server_owner
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)  # one message per request, whole
    try:
        _fork_server_process = subprocess.Popen(
            [sys.executable, "-m", "smarketing.analytics.store.copier", "--fork-server", str(os.getpid())],
            stdin=theirs.fileno())
    finally:
        theirs.close()
    _fork_server, _fork_server_owner = ours, os.getpid()


def fork_server_pid() -> int | None:
    """The fork server's pid, started again first if it stopped (the service calls it before each fork)."""
    if _fork_server_process is None:
        return None
    if _fork_server_process.poll() is not None:
        fork_server_stop()
        fork_server_start()
        assert _fork_server_process is not None
    return _fork_server_process.pid


def fork_server_stop() -> None:
    """Stop the fork server (the service stops); the helpers it forked stop with the processes they serve."""
    global _fork_server, _fork_server_process
    if _fork_server is not None:
        _fork_server.close()
    if _fork_server_process is not None:
        with contextlib.suppress(ProcessLookupError):
            _fork_server_process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            _fork_server_process.wait(timeout=5)
    _fork_server = _fork_server_process = None


def _stop_all() -> None:
    """At exit: the helpers end on their closed input and are waited for (no orphans; their time is counted)."""
    for child in _helpers:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _stop(child)


def _send(child: Helper, request: dict[str, Any]) -> None:
    assert child.stdin is not None
    body = json.dumps(request).encode("utf-8")
    child.stdin.write(struct.pack(">I", len(body)) + body)
    child.stdin.flush()


def _answer(child: Helper) -> bytes:
    assert child.stdout is not None
    status = _read_exact(child.stdout, 1)
    (length,) = struct.unpack(">Q", _read_exact(child.stdout, 8))
    payload = _read_exact(child.stdout, length)
    if status != b"\x00":
        raise CopyFailed(payload.decode("utf-8", "replace"))
    return payload


def _stop(child: Helper) -> None:
    child.kill()
    child.wait()


def start(count: int) -> None:
    """Start `count` helpers now (they load their libraries in the background), for copies known to come."""
    with _lock:
        for k in range(min(count, HELPERS)):
            _helper(k)


def read_arrow(source: dict[str, str], sql: str) -> pa.Table:
    """Run `sql` on the database `source` names in a helper and return its rows as Arrow."""
    import pyarrow as pa

    with _lock:
        child = _helper(0)
        try:
            _send(child, {"op": "read", "source": source, "sql": sql})
            payload = _answer(child)
        except (EOFError, BrokenPipeError):
            _stop(child)
            raise
    return pa.ipc.open_stream(payload).read_all()


def copy_all(jobs: list[CopyJob], done: Callable[[int, CopyResult], None]) -> None:
    """Run the jobs on the helpers, largest first, and call `done(index, result)` here as each one finishes
    (in any order; a helper is handed its next job before `done` runs). If a job or `done` fails, the jobs still
    running are waited for before the error is raised, so no helper writes after this returns."""
    if not jobs:
        return
    wanted = max(1, min(HELPERS, len(jobs), -(-sum(j.rows_guess for j in jobs) // ROWS_PER_HELPER)))
    queue = sorted(range(len(jobs)), key=lambda i: -jobs[i].rows_guess)
    with _lock:
        children = [_helper(k) for k in range(wanted)]
        running: dict[int, tuple[Helper, int]] = {}
        selector = selectors.DefaultSelector()

        def hand_out(child: Helper) -> None:
            assert child.stdout is not None
            if queue:
                index = queue.pop(0)
                _send(child, {"op": "copy", "job": asdict(jobs[index])})
                running[child.stdout.fileno()] = (child, index)
                selector.register(child.stdout, selectors.EVENT_READ)

        try:
            for child in children:
                hand_out(child)
            while running:
                for key, _ in selector.select():
                    child, index = running.pop(key.fd)
                    selector.unregister(key.fileobj)
                    result = CopyResult(**json.loads(_answer(child)))
                    hand_out(child)
                    done(index, result)
            for child in children:
                # PostgreSQL connections end with the copy (an idle one would hold the database, e.g. a DROP).
                _send(child, {"op": "release"})
                _answer(child)
        except BaseException:
            for child, _ in running.values():
                try:
                    _answer(child)
                except CopyFailed:
                    pass
                except BaseException:
                    _stop(child)
            raise
        finally:
            selector.close()


class _NoPandas:
    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name == "pandas" or name.startswith("pandas."):
            raise ModuleNotFoundError(f"{name} is not loaded in the store's helper processes", name=name)


def _watch_parent(parent: int) -> None:  # pragma: no cover - runs in the helper process
    while os.getppid() == parent:
        time.sleep(0.1)
    os._exit(1)


def _watch_reader(answers: int) -> None:  # pragma: no cover - runs in a forked helper
    """Stop at once when nobody reads our answers any more: the process this helper serves is gone."""
    poller = select.poll()
    poller.register(answers, 0)  # only errors: POLLERR once the pipe's reading end is closed everywhere
    poller.poll()
    os._exit(1)


def _load() -> None:  # pragma: no cover - runs in the helper processes
    # Why: pyarrow imports pandas the first time it converts a Python value, to ask whether it is a pandas
    # object: a quarter of a second of a helper's start, for a library the helper never uses. Refused here (in
    # this process only), pyarrow and DuckDB take it as not installed.
    sys.meta_path.insert(0, _NoPandas())
    import pyarrow  # noqa: F401

    import smarketing.analytics.store.extract  # noqa: F401


def _serve() -> None:  # pragma: no cover - runs in the helper process (exercised by every store test)
    _load()
    threading.Thread(target=_watch_parent, args=(int(sys.argv[1]),), daemon=True).start()
    _serve_requests(sys.stdin.buffer, sys.stdout.buffer)


def _fork_serve(parent: int) -> None:  # pragma: no cover - runs in the fork server (command service tests)
    """The fork server: load what a helper needs, then fork a helper for each request on the socket (stdin) until
    the service that started it is gone. Holds no connection and starts no thread, so each fork is clean."""
    _load()
    import adbc_driver_manager  # noqa: F401
    import adbc_driver_sqlite  # noqa: F401
    import pyarrow.compute  # noqa: F401
    import pyarrow.parquet  # noqa: F401

    with contextlib.suppress(ImportError):
        import adbc_driver_postgresql  # noqa: F401
    signal.pthread_sigmask(signal.SIG_SETMASK, set())  # (the service starts it with its stop signals blocked)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the service stops it (Ctrl+C in its terminal reaches both)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # its helpers are reaped by the kernel
    server = socket.socket(fileno=0)
    watched: list[Any] = [server]
    with contextlib.suppress(AttributeError, OSError):  # a pidfd says at once when the service ends
        watched.append(os.pidfd_open(parent))
    while os.getppid() == parent:
        ready, _, _ = select.select(watched, [], [], 1.0)
        if server not in ready:
            if ready:
                return  # the service ended
            continue
        message, fds, _, _ = socket.recv_fds(server, 1 << 20, 2)
        if not message and not fds:
            return  # no process holds the service's end any more
        try:
            caller = json.loads(message)
        except ValueError:
            caller = None
        if len(fds) == 2 and isinstance(caller, dict):
            pid = os.fork()
            if pid == 0:
                server.close()
                for fd in watched[1:]:
                    os.close(fd)
                _forked(fds[0], fds[1], caller)
            print(f"store helper {pid} forked for pid {caller.get('pid')}", flush=True)
        for fd in fds:
            os.close(fd)  # (the helper's now: the caller sees the helper's end, or at once an end if none forked)


def _forked(requests: int, answers: int, caller: dict[str, Any]) -> None:  # pragma: no cover - a forked helper
    """A helper forked by the fork server: it serves the process that asked, on that process's pipes, in its folder
    and environment, and never returns."""
    status = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.environ.clear()
        os.environ.update(caller["env"])
        os.chdir(caller["cwd"])
        stdin, stdout = os.fdopen(requests, "rb"), os.fdopen(answers, "wb")
        threading.Thread(target=_watch_reader, args=(answers,), daemon=True).start()
        stdout.write(struct.pack(">I", os.getpid()))
        stdout.flush()
        _serve_requests(stdin, stdout)
        status = 0
    except BaseException:  # noqa: BLE001 - a forked helper never returns into the fork server's loop
        traceback.print_exc()
    finally:
        os._exit(status)


def _serve_requests(stdin: IO[bytes], stdout: IO[bytes]) -> None:  # pragma: no cover - in the helper process
    # ADBC's low-level API: its DB-API module would load pyarrow.dataset and pandas, a third of a helper's start.
    import adbc_driver_manager as adbc
    import pyarrow as pa

    from smarketing.analytics.store.extract import copy_rows

    connections: dict[tuple[str, ...], tuple[Any, Any]] = {}  # (database, connection); autocommit: each query
    # is its own read transaction, so the next one sees newer commits

    def connect(source: dict[str, str]) -> Any:
        if "sqlite" in source:
            import adbc_driver_sqlite

            path = source["sqlite"]
            # By path and inode: a file replaced under the path is reopened.
            key: tuple[str, ...] = ("sqlite", path, str(os.stat(path).st_ino))
            if key not in connections:
                database = adbc_driver_sqlite.connect(path)
                connections[key] = (database, adbc.AdbcConnection(database))
                query(connections[key][1], f"PRAGMA mmap_size = {SQLITE_MMAP_BYTES}")
            return connections[key][1]
        import adbc_driver_postgresql

        key = ("postgresql", source["postgresql"])
        if key not in connections:
            database = adbc_driver_postgresql.connect(source["postgresql"])
            connections[key] = (database, adbc.AdbcConnection(database))
        return connections[key][1]

    def query(conn: Any, sql: str, options: dict[str, str] | None = None) -> pa.Table:
        statement = adbc.AdbcStatement(conn)
        try:
            if options:
                statement.set_options(**options)
            statement.set_sql_query(sql)
            stream, _ = statement.execute_query()
            return pa.RecordBatchReader.from_stream(stream).read_all()
        finally:
            statement.close()

    def read(source: dict[str, str], sql: str, batch_rows: int = 0) -> pa.Table:
        options = {"adbc.sqlite.query.batch_rows": str(batch_rows or SQLITE_BATCH_ROWS)} if "sqlite" in source \
            else None
        return query(connect(source), sql, options)

    def release() -> None:
        for key in [k for k in connections if k[0] == "postgresql"]:
            database, conn = connections.pop(key)
            conn.close()
            database.close()

    while True:
        try:
            (length,) = struct.unpack(">I", _read_exact(stdin, 4))
        except EOFError:
            return
        request = json.loads(_read_exact(stdin, length))
        try:
            if request["op"] == "release":
                release()
                body = b""
            elif request["op"] == "read":
                table = read(request["source"], request["sql"])
                sink = pa.BufferOutputStream()
                with pa.ipc.new_stream(sink, table.schema) as writer:
                    writer.write_table(table)
                body = sink.getvalue().to_pybytes()
            else:
                job = CopyJob(**{**request["job"], "bounds": tuple(request["job"]["bounds"])})
                result = copy_rows(job, lambda sql, j=job: read(j.source, sql, j.batch_rows))  # type: ignore[misc]
                body = json.dumps(asdict(result)).encode("utf-8")
            status = b"\x00"
        except Exception as exc:
            body, status = str(exc).encode("utf-8"), b"\x01"
        stdout.write(status + struct.pack(">Q", len(body)) + body)
        stdout.flush()


if __name__ == "__main__":
    if sys.argv[1] == "--fork-server":
        _fork_serve(int(sys.argv[2]))
    else:
        _serve()
