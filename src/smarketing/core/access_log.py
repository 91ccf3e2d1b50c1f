"""One line per request on the server's log: who, what, the status, the bytes and how long the answer took.

waitress (the server `smarketing serve` runs) writes no access log of its own; its documentation points to a WSGI
wrapper for it. This is that wrapper, timing until the last byte of the body has been handed to the server (a
streamed CSV counts whole), in the shape operators grep: `127.0.0.1 "GET /goals/?period=2026-Q4" 200 5123 0.141s`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger("smarketing.access")

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def line(environ: dict[str, Any], status: str, size: int, seconds: float) -> str:
    """The log line for a finished request."""
    target = environ.get("PATH_INFO", "")
    if environ.get("QUERY_STRING"):
        target += "?" + environ["QUERY_STRING"]
    code = status.split(" ", 1)[0] if status else "-"
    return f'{environ.get("REMOTE_ADDR", "-")} "{environ.get("REQUEST_METHOD", "-")} {target}" {code} {size} {seconds:.3f}s'


class _Body:
    """The response body, counted as the server sends it; logs the request when the server closes it."""

    def __init__(self, body: Iterable[bytes], finish: Callable[[int], None]) -> None:
        self._body, self._finish, self._size = body, finish, 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._body:
            self._size += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self._body, "close", None)
            if close is not None:
                close()
        finally:
            self._finish(self._size)


def with_access_log(app: WsgiApp) -> WsgiApp:
    """`app` logging every request it answers on the `smarketing.access` logger (INFO)."""

    def logged(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        seen = {"status": ""}

        def recording_start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen["status"] = status
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        try:
            body = app(environ, recording_start)
        except BaseException:
            log.info(line(environ, "500", 0, time.perf_counter() - started))
            raise
        return _Body(body, lambda size: log.info(line(environ, seen["status"], size, time.perf_counter() - started)))

    return logged
