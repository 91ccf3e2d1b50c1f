"""The server's access log: one line per request, written when the body has been sent, with status and size."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from smarketing.core.access_log import with_access_log


def _app(environ: dict[str, Any], start_response: Any) -> Any:
    if environ["PATH_INFO"] == "/boom/":
        raise RuntimeError("boom")
    start_response("404 Not Found" if environ["PATH_INFO"] == "/missing/" else "200 OK", [("Content-Type", "text/plain")])
    return iter([b"hello ", b"world"])


def _call(path: str, query: str = "") -> tuple[bytes, list[str]]:
    statuses: list[str] = []
    body = with_access_log(_app)({"PATH_INFO": path, "QUERY_STRING": query, "REQUEST_METHOD": "GET",
                                   "REMOTE_ADDR": "127.0.0.1"}, lambda status, headers: statuses.append(status))
    data = b"".join(body)
    body.close()  # type: ignore[attr-defined]  # the server closes the body after the last byte
    return data, statuses


def test_a_request_is_logged_once_its_body_is_sent_with_status_bytes_and_seconds(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="smarketing.access"):
        data, statuses = _call("/goals/", "period=2026-Q4")
        _call("/missing/")
    assert data == b"hello world" and statuses == ["200 OK"]
    lines = [r.getMessage() for r in caplog.records if r.name == "smarketing.access"]
    assert len(lines) == 2
    assert lines[0].startswith('127.0.0.1 "GET /goals/?period=2026-Q4" 200 11 ') and lines[0].endswith("s")
    assert lines[1].startswith('127.0.0.1 "GET /missing/" 404 11 ')


def test_an_application_error_is_logged_as_500_and_raised(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="smarketing.access"), pytest.raises(RuntimeError):
        _call("/boom/")
    assert [r.getMessage().split(" ")[1:4] for r in caplog.records] == [['"GET', '/boom/"', "500"]]
