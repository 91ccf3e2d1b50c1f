"""Settings in Chromium, at desk and phone width: RevOps creates a user, sets their manager and out-of-office, issues
a token for them (shown once) and revokes it; a seller is refused the settings with the layout kept."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytestmark = pytest.mark.browser

SIZES = [(1366, 768), (390, 844)]


@pytest.fixture
def signed_in(browser: Any, live_smarketing: Any) -> Iterator[Any]:
    """`signed_in("rita.revops", width, height, "/settings/users/")` -> a page logged in straight onto that page."""
    contexts: list[Any] = []

    def login(username: str, width: int, height: int, target: str) -> Any:
        ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=live_smarketing.url)
        ctx.set_default_timeout(60_000)
        contexts.append(ctx)
        page = ctx.new_page()
        page.goto(f"/login/?next={target}")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url(live_smarketing.url + target, timeout=90_000)
        return page

    yield login
    for ctx in contexts:
        ctx.close()


def _fits(page: Any) -> bool:
    return bool(page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth"))


@pytest.mark.parametrize(("width", "height"), SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
def test_revops_create_a_user_set_manager_and_out_of_office_then_issue_and_revoke_a_token(signed_in, live_smarketing,
                                                                                         shot, width, height):
    page = signed_in("rita.revops", width, height, "/settings/users/")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    username = f"nina.new{width}"
    assert _fits(page)

    # when RevOps add a seller with the form beside the users list
    form = page.locator("#user-create")
    form.get_by_label("Username").fill(username)
    form.get_by_label("Email").fill(f"{username}@example.com")
    form.get_by_label("First name").fill("Nina")
    form.get_by_label("Last name").fill(f"New {width}")
    form.get_by_label("Role").select_option("sales")
    form.get_by_label("Password").fill("a-long-password-2026")
    form.get_by_role("button", name="Create user").click()
    # then their page opens and says so
    page.wait_for_url(f"{live_smarketing.url}/settings/users/*/")
    assert f"User {username} is created as Sales" in page.locator(".messages").inner_text()
    assert page.get_by_role("heading", level=1).inner_text() == f"Nina New {width}"
    shot(page, f"settings-user-created-{width}")

    # when they set whom she reports to
    page.locator("#form-manager").get_by_label("Reports to").select_option(label="Sam Sales (sam.sales)")
    page.get_by_role("button", name="Save reporting line").click()
    assert f"{username}: reporting line changed" in page.locator(".messages").inner_text()
    assert page.locator("#form-manager select").input_value() != ""

    # and her team, capacity and out-of-office for routing
    routing = page.locator("#form-routing")
    routing.get_by_label("Team").fill("Inbound")
    routing.get_by_label("Leads a week").fill("12")
    routing.get_by_label("Out of office until").fill("2026-12-24")
    routing.get_by_role("button", name="Save routing").click()
    assert f"{username}: routing settings saved" in page.locator(".messages").inner_text()
    assert page.locator("#form-routing").get_by_label("Out of office until").input_value() == "2026-12-24"
    assert _fits(page)
    shot(page, f"settings-user-routing-{width}")

    # then the users list shows her manager and out-of-office
    page.goto(f"/settings/users/?q={username}")
    row = page.locator(f'#users tr[data-user="{username}"]')
    assert "Sam Sales" in row.inner_text() and "Dec 24, 2026" in row.inner_text()

    # when they issue her a token from her page
    row.get_by_role("link").first.click()
    page.get_by_role("link", name=f"Issue a token for {username}").click()
    page.wait_for_url(f"{live_smarketing.url}/settings/tokens/*")
    issue = page.locator("#token-create")
    assert issue.get_by_label("Token for").input_value() != ""
    issue.get_by_label("What it is for").fill(f"sheet {width}")
    issue.get_by_label("Expires").select_option(label="In 30 days")
    issue.get_by_role("button", name="Issue token").click()
    # then the secret is shown once and the token is listed under her name
    secret = page.locator("#new-secret code").inner_text().strip()
    assert secret.startswith("smk_")
    token_row = page.locator(f'#tokens tr[data-name="sheet {width}"]')
    assert username in token_row.inner_text() and "active" in token_row.inner_text()
    shot(page, f"settings-token-issued-{width}")

    # when they revoke it
    token_row.get_by_role("button", name=f"Revoke token sheet {width} of {username}").click()
    page.wait_for_url(f"{live_smarketing.url}/settings/tokens/")
    # then it is gone from the tokens in use, listed as revoked under all, and the secret is nowhere
    assert "is revoked" in page.locator(".messages").inner_text()
    assert page.locator(f'#tokens tr[data-name="sheet {width}"]').count() == 0
    page.get_by_role("link", name="All, revoked too").click()
    assert "revoked" in page.locator(f'#tokens tr[data-name="sheet {width}"]').inner_text()
    assert secret not in page.content()
    assert _fits(page)
    shot(page, f"settings-token-revoked-{width}")
    assert errors == []


def test_a_seller_is_refused_settings_with_the_layout(signed_in):
    page = signed_in("sam.sales", 1366, 768, "/me/")
    assert page.get_by_role("link", name="Settings").count() == 0
    response = page.goto("/settings/users/")
    assert response is not None and response.status == 403
    assert page.get_by_role("navigation", name="Main").is_visible()
    assert "Only RevOps admin users can manage settings" in page.locator("main").inner_text()
