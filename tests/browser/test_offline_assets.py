"""The product serves its own assets: /api/docs renders with no network beyond the server, and pages name an icon
that exists (no 404 on favicon.ico)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser


def _offline(page: Any, left: list[str]) -> None:
    """Abort every request that is not to the loopback server, recording it: the page gets no network beyond it."""

    def route(r: Any) -> None:
        if urlparse(r.request.url).hostname in ("127.0.0.1", "localhost"):
            r.continue_()
        else:
            left.append(r.request.url)
            r.abort()

    page.route("**/*", route)


@pytest.mark.parametrize("width,height", [(1366, 768), (390, 844)])
def test_api_docs_render_every_operation_with_no_network(as_role, shot, width, height):
    # given a signed-in RevOps user whose browser reaches nothing but the product
    page = as_role("rita.revops", width=width, height=height)
    left: list[str] = []
    failed: list[str] = []
    _offline(page, left)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    # when they open the API documentation
    page.goto("/api/docs")
    # then Swagger UI renders the operations from the product's own static files
    page.locator(".opblock").first.wait_for(timeout=60_000)
    assert page.locator(".opblock").count() > 50
    assert page.get_by_text("smarketing API").first.is_visible()
    shot(page, f"api-docs-offline-{width}x{height}")
    assert left == [], f"requests that left the server: {left}"
    assert failed == [], f"failed requests: {failed}"


def test_pages_name_an_icon_that_exists(as_role):
    # given a signed-in user
    page = as_role("maria.marketing")
    missing: list[str] = []
    page.on("response", lambda r: missing.append(r.url) if r.status == 404 else None)
    # when they open the scoreboard, and a browser asks for the conventional icon
    page.goto("/")
    icon = page.locator("link[rel=icon]").get_attribute("href") or ""
    answer = page.request.get(icon)
    legacy = page.request.get("/favicon.ico")
    # then the icon is served as SVG and /favicon.ico leads to it
    assert answer.status == 200 and "svg" in answer.headers["content-type"]
    assert legacy.status == 200 and "svg" in legacy.headers["content-type"]
    assert missing == []
