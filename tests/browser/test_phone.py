"""On a phone (390x844) the navigation folds behind a Menu button that the keyboard reaches and works, no page scrolls
sideways, and the keyboard path through the header is visible: the skip link first, a focus ring on everything."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from .walk import REVOPS, Visitor, Walked, params

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def phone(browser: Any, live_smarketing: Any) -> Iterator[Visitor]:
    visitor = Visitor(browser, live_smarketing, width=390, height=844)
    yield visitor
    visitor.close()


@pytest.mark.parametrize("walked", params())
def test_no_page_scrolls_sideways_on_a_phone(phone, walked):
    page = phone.open(walked)
    width, scroll = page.evaluate("[innerWidth, document.scrollingElement.scrollWidth]")
    assert scroll <= width, f"{walked.name} ({page.url}) is {scroll} px wide in a {width} px window"


def _focused(page: Any) -> dict[str, Any]:
    return page.evaluate("""() => { const el = document.activeElement, r = el.getBoundingClientRect(),
        s = getComputedStyle(el);
        return {id: el.id, text: el.innerText.trim(), left: r.left, top: r.top, outline: s.outlineStyle,
                width: parseFloat(s.outlineWidth)}; }""")


def _tab_to(page: Any, element_id: str, *, most: int = 12) -> list[dict[str, Any]]:
    """Press Tab until the element has focus; what had focus on the way (each with a visible focus ring)."""
    seen = []
    for _ in range(most):
        page.keyboard.press("Tab")
        now = _focused(page)
        seen.append(now)
        assert now["outline"] != "none" and now["width"] >= 2, f"no visible focus ring on {now}"
        if now["id"] == element_id:
            return seen
    raise AssertionError(f"#{element_id} not reached with Tab: {seen}")


def test_the_menu_opens_and_closes_from_the_keyboard(phone, shot):
    # given RevOps on the scoreboard on a phone: the navigation is folded behind the Menu button
    page = phone.open(Walked("home", REVOPS, None))
    menu = page.locator("#menu-toggle")
    nav = page.locator("#mainnav")
    assert menu.is_visible() and not nav.is_visible()
    assert menu.get_attribute("aria-expanded") == "false" and menu.get_attribute("aria-controls") == "mainnav"
    # when they press Tab from the top: the skip link comes first, on screen
    page.keyboard.press("Tab")
    skip = _focused(page)
    assert skip["text"] == "Skip to content" and skip["left"] >= 0 and skip["top"] >= 0
    # and Tab on to the Menu button and press Enter
    _tab_to(page, "menu-toggle")
    page.keyboard.press("Enter")
    # then the navigation opens, says so, and Tab walks into its links
    assert menu.get_attribute("aria-expanded") == "true" and nav.is_visible()
    shot(page, "phone-menu-open-390")
    page.keyboard.press("Tab")
    assert page.evaluate("document.getElementById('mainnav').contains(document.activeElement)")
    page.keyboard.press("Tab")
    width, scroll = page.evaluate("[innerWidth, document.scrollingElement.scrollWidth]")
    assert scroll <= width, "the open menu does not push the page sideways"
    # when they press Escape: it closes and the focus is back on the button
    page.keyboard.press("Escape")
    assert menu.get_attribute("aria-expanded") == "false" and not nav.is_visible()
    assert _focused(page)["id"] == "menu-toggle"
    # and a click opens it too, and a link in it leads to its page
    menu.click()
    nav.get_by_role("link", name="Handoff queue").click()
    page.wait_for_url(re.compile(r".*/handoff/(\?.*)?$"))
    assert page.locator("#menu-toggle").get_attribute("aria-expanded") == "false"


def test_at_desk_width_the_navigation_shows_without_a_menu(phone):
    page = phone.page_for(REVOPS)
    page.set_viewport_size({"width": 1366, "height": 768})
    try:
        page.goto("/")
        assert page.locator("#mainnav").is_visible() and not page.locator("#menu-toggle").is_visible()
        # the skip link moves the focus to the page's content
        page.keyboard.press("Tab")
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
    finally:
        page.set_viewport_size({"width": 390, "height": 844})
