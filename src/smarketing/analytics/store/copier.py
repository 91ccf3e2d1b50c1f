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

Protocol over the pipes: a request is a 4-byte length and a JSON object, {"op": "read", "source", "sql"},
{"op": "copy", "job"} or {"op": "release"} (close PostgreSQL connections); the answer is one status byte (0 ok,
1 error), an 8-byte length and the payload: an Arrow IPC stream for a read, a JSON CopyResult for a copy, or the
error text.
"""

from __future__ import annotations

import atexit
import json
import os
import selectors
import struct
import subprocess
import sys
import threading
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
_helpers: list[subprocess.Popen[bytes]] = []


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


def _helper(k: int) -> subprocess.Popen[bytes]:
    while len(_helpers) <= k:
        _helpers.append(_start())
    if _helpers[k].poll() is not None:
        _helpers[k] = _start()
    return _helpers[k]


def _start() -> subprocess.Popen[bytes]:
    if not _helpers:
        atexit.register(_stop_all)
    return subprocess.Popen([sys.executable, "-m", "smarketing.analytics.store.copier", str(os.getpid())],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def _stop_all() -> None:
    """At exit: the helpers end on their closed input and are waited for (no orphans; their time is counted)."""
    for child in _helpers:
        if child.stdin is not None:
            child.stdin.close()
        try:
            child.wait(timeout=5)
        except subprocess.TimeoutExpired:
            _stop(child)


def _send(child: subprocess.Popen[bytes], request: dict[str, Any]) -> None:
    assert child.stdin is not None
    body = json.dumps(request).encode("utf-8")
    child.stdin.write(struct.pack(">I", len(body)) + body)
    child.stdin.flush()


def _answer(child: subprocess.Popen[bytes]) -> bytes:
    assert child.stdout is not None
    status = _read_exact(child.stdout, 1)
    (length,) = struct.unpack(">Q", _read_exact(child.stdout, 8))
    payload = _read_exact(child.stdout, length)
    if status != b"\x00":
        raise CopyFailed(payload.decode("utf-8", "replace"))
    return payload


def _stop(child: subprocess.Popen[bytes]) -> None:
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
        running: dict[int, tuple[subprocess.Popen[bytes], int]] = {}
        selector = selectors.DefaultSelector()

        def hand_out(child: subprocess.Popen[bytes]) -> None:
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
    import time

    while os.getppid() == parent:
        time.sleep(0.1)
    os._exit(1)


def _serve() -> None:  # pragma: no cover - runs in the helper process (exercised by every store test)
    # Why: pyarrow imports pandas the first time it converts a Python value, to ask whether it is a pandas
    # object: a quarter of a second of a helper's start, for a library the helper never uses. Refused here (in
    # this process only), pyarrow and DuckDB take it as not installed.
    sys.meta_path.insert(0, _NoPandas())
    import pyarrow as pa

    from smarketing.analytics.store.extract import copy_rows

    threading.Thread(target=_watch_parent, args=(int(sys.argv[1]),), daemon=True).start()
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    # ADBC's low-level API: its DB-API module would load pyarrow.dataset and pandas, a third of a helper's start.
    import adbc_driver_manager as adbc

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
    _serve()
