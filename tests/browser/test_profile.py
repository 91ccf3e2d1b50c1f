"""Your profile in Chromium: your name in the top bar opens /me/, where you issue an expiring API token (shown
once, it works against the API), revoke it (it stops working), and a viewer sees their tokens without the form."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def on_profile(browser: Any, live_smarketing: Any) -> Iterator[Any]:
    """`on_profile("vic.viewer")` -> a page logged in straight onto /me/ (not through the scoreboard, whose first
    computation on a busy machine is not what these tests are about)."""
    contexts: list[Any] = []

    def login(username: str) -> Any:
        ctx = browser.new_context(viewport={"width": 1366, "height": 768}, base_url=live_smarketing.url)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto("/login/?next=/me/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_smarketing.url + "/me/", timeout=90_000)
        return page

    yield login
    for ctx in contexts:
        ctx.close()


def _me_status(base_url: str, secret: str) -> int:
    request = urllib.request.Request(base_url + "/api/team/me", headers={"Authorization": f"Bearer {secret}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - the local test server
            assert json.loads(response.read())["username"] == "maria.marketing"
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_issue_use_and_revoke_your_own_token(on_profile, live_smarketing, shot):
    # given marketing signed in on their profile, which their name in the top bar opens
    page = on_profile("maria.marketing")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    assert page.get_by_role("link", name="Maria Marketing").get_attribute("aria-current") == "page"

    # when they issue a token for a script, expiring in 30 days
    page.get_by_label("What it is for").fill("browser sheet sync")
    page.get_by_label("Expires").select_option(label="In 30 days")
    page.get_by_role("button", name="Issue token").click()

    # then the secret is shown once, works against the API, and the token is listed as active with its expiry
    secret = page.locator("#new-secret code").inner_text().strip()
    assert secret.startswith("smk_")
    assert _me_status(live_smarketing.url, secret) == 200
    row = page.locator("#tokens tr", has_text="browser sheet sync")
    assert "active" in row.inner_text() and "never" not in row.locator("td").nth(4).inner_text()
    shot(page, "profile-token-issued")

    # when they revoke it
    row.get_by_role("button", name="Revoke token browser sheet sync").click()
    page.wait_for_url(live_smarketing.url + "/me/")

    # then the page says so, the token is listed as revoked, the secret is nowhere, and the API refuses it
    assert "is revoked" in page.locator(".messages").inner_text()
    assert "revoked" in page.locator("#tokens tr", has_text="browser sheet sync").inner_text()
    assert secret not in page.content()
    assert _me_status(live_smarketing.url, secret) == 401
    assert errors == []


def test_a_viewer_sees_their_tokens_without_the_issue_form(on_profile):
    page = on_profile("vic.viewer")

    assert page.locator("#tokens").is_visible()
    assert page.get_by_role("button", name="Issue token").count() == 0
    assert "issued by a RevOps admin" in page.locator("#h-issue").locator("..").inner_text()
