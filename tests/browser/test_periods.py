"""Periods in Chromium at desk and phone width: compare a quarter with the previous one, keep the period (and the
comparison and a filter) across three pages, pick funnel filters in the searchable multi-select, type a custom
range (and see a bad one refused by field), then reset."""

from __future__ import annotations

import re
from typing import Any

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 180_000  # a compared period computes every measure twice; on a loaded machine that takes a while
SIZES = [pytest.param(1366, 768, id="desktop"), pytest.param(390, 844, id="phone")]


def _nav_href(page: Any, label: str) -> str:
    return page.locator("nav.mainnav a", has_text=label).first.get_attribute("href") or ""


def _scope_shown(page: Any) -> tuple[str, bool]:
    return page.locator("#period").input_value(), page.locator("#compare").is_checked()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_compare_a_quarter_and_keep_the_period_across_pages(as_role, live_smarketing, shot, width, height):
    page = as_role("rita.revops", width=width, height=height, timeout_ms=WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # given the scoreboard, when Q3 2026 is picked and compared with the previous period
    page.locator("#period").select_option("2026-Q3")
    page.wait_for_url(re.compile(r".*period=2026-Q3.*"))
    page.locator("#compare").check()
    page.wait_for_url(re.compile(r".*compare=prev.*"))
    # then each headline figure shows its change in words against Q2 2026, with the Q2 figure as a link
    revenue = page.locator(".kpi .delta[data-delta-of='revenue_won']")
    revenue.wait_for()
    assert re.search(r"(up|down|no change).*from .* in Q2 2026", revenue.inner_text(), re.S)
    assert (revenue.locator("a[data-measure='revenue_won']").get_attribute("href") or "").endswith("period=2026-Q2")
    shot(page, f"periods-compare-scoreboard-{width}")
    # when the funnel is opened from the navigation, which carries the period and the comparison
    funnel_href = _nav_href(page, "Funnel")
    assert "period=2026-Q3" in funnel_href and "compare=prev" in funnel_href
    page.goto(funnel_href)
    # then it shows Q3 2026 compared, its stages with their changes
    assert _scope_shown(page) == ("2026-Q3", True)
    page.locator("#funnel-results .delta[data-delta-of='cohort_entered']").wait_for()
    # and a lead source picked in the searchable multi-select shows as a chip and narrows the funnel in place
    control = page.locator("#f-source-ts-control")
    control.click()
    control.press_sequentially("web", delay=30)
    page.locator(".ts-dropdown .option", has_text="webinar").first.click()
    page.wait_for_url(re.compile(r".*source=webinar.*"))
    page.keyboard.press("Escape")
    chip = page.locator(".ts-wrapper .item", has_text="webinar")
    assert chip.count() == 1
    page.locator("#funnel-results", has_text="Showing only Lead source: webinar").wait_for()
    shot(page, f"periods-funnel-chips-{width}")
    # when the campaigns page is opened with nothing in its address
    page.goto("/campaigns/")
    # then it uses the last chosen period and comparison (from the session), and its navigation keeps the filter
    assert _scope_shown(page) == ("2026-Q3", True)
    assert "compared with Q2 2026" in page.locator(".pagehead").inner_text()
    assert "source=webinar" in _nav_href(page, "Funnel")
    shot(page, f"periods-campaigns-kept-{width}")
    # when a custom range is typed on the scoreboard
    page.goto(_nav_href(page, "Scoreboard"))
    assert _scope_shown(page) == ("2026-Q3", True)
    page.locator("#period-from").fill("2026-07-01")
    page.locator("#period-to").fill("2026-08-31")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*from=2026-07-01.*"))
    # then the page shows that range, compared with the same number of days before
    assert "1 Jul 2026 – 31 Aug 2026" in page.locator(".pagehead").inner_text()
    page.locator(".kpi .delta[data-delta-of='revenue_won']").wait_for()
    # and a range that ends before it starts is refused next to its field
    page.locator("#period-from").fill("2026-08-31")
    page.locator("#period-to").fill("2026-07-01")
    page.get_by_role("button", name="Apply").click()
    error = page.locator("#period-to-error")
    error.wait_for()
    assert "before the first day" in error.inner_text()
    assert page.locator("#period-to").get_attribute("aria-invalid") == "true"
    shot(page, f"periods-range-error-{width}")
    # when the reset link is followed, the pages open on the current quarter without comparison again
    page.get_by_role("link", name="Reset period and filters").click()
    page.wait_for_load_state()
    assert page.locator("#compare").is_checked() is False
    assert page.locator("#period").input_value() != "2026-Q3"
    assert errors == []
