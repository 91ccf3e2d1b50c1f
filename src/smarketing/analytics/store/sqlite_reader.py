"""Arrow-native reads of a SQLite database from a helper process.

Why a process: ADBC's SQLite driver carries its own copy of the SQLite library. Two copies in one process corrupt
a database (SQLite's "How To Corrupt" §2.2.1): POSIX locks belong to the process, so when one copy closes its
file the other copy's locks vanish, and a writer's half-done transaction looks abandoned to the next reader.
The helper holds the only ADBC copy; the application's own sqlite3 connections stay in the parent. It starts on
the first read that has rows to copy and serves the process from then on.

Protocol over the pipes: a request is a 4-byte length and a JSON object {"db": path, "sql": query}; the answer
is one status byte (0 ok, 1 error), an 8-byte length and an Arrow IPC stream (or the error text).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import threading
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_lock = threading.Lock()
_child: subprocess.Popen[bytes] | None = None


class ReadFailed(RuntimeError):
    """The helper could not run a read (its message is SQLite's)."""


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = stream.read(n - len(data))
        if not chunk:
            raise EOFError("the SQLite reader process ended")
        data += chunk
    return data


def _helper() -> subprocess.Popen[bytes]:
    global _child
    if _child is None or _child.poll() is not None:
        _child = subprocess.Popen([sys.executable, "-m", "smarketing.analytics.store.sqlite_reader"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    return _child


def read_arrow(db_path: str, sql: str) -> pa.Table:
    """Run `sql` on the SQLite file `db_path` in the helper and return its rows as Arrow."""
    import pyarrow as pa

    request = json.dumps({"db": db_path, "sql": sql}).encode("utf-8")
    with _lock:
        child = _helper()
        assert child.stdin is not None and child.stdout is not None
        child.stdin.write(struct.pack(">I", len(request)) + request)
        child.stdin.flush()
        status = _read_exact(child.stdout, 1)
        (length,) = struct.unpack(">Q", _read_exact(child.stdout, 8))
        payload = _read_exact(child.stdout, length)
    if status != b"\x00":
        raise ReadFailed(payload.decode("utf-8", "replace"))
    return pa.ipc.open_stream(payload).read_all()


def _serve() -> None:  # pragma: no cover - runs in the helper process (exercised by every SQLite store test)
    import os

    import adbc_driver_sqlite.dbapi as sqlite_dbapi
    import pyarrow as pa

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    connections: dict[tuple[str, int], Any] = {}  # by path and inode: a file replaced under the path is reopened
    while True:
        try:
            (length,) = struct.unpack(">I", _read_exact(stdin, 4))
        except EOFError:
            return
        request = json.loads(_read_exact(stdin, length))
        try:
            key = (request["db"], os.stat(request["db"]).st_ino)
            conn = connections.get(key)
            if conn is None:
                conn = connections[key] = sqlite_dbapi.connect(request["db"])
            cursor = conn.cursor()
            try:
                cursor.execute(request["sql"])
                table = cursor.fetch_arrow_table()
            finally:
                cursor.close()
                conn.commit()  # end the read transaction, so the next read sees newer commits
            sink = pa.BufferOutputStream()
            with pa.ipc.new_stream(sink, table.schema) as writer:
                writer.write_table(table)
            body, status = sink.getvalue().to_pybytes(), b"\x00"
        except Exception as exc:
            body, status = str(exc).encode("utf-8"), b"\x01"
        stdout.write(status + struct.pack(">Q", len(body)) + body)
        stdout.flush()


if __name__ == "__main__":
    _serve()
