"""Charts people can use, in Chromium: hover a bar for its exact value (the table's number), click it through to the
records behind it, and sort and filter the table beside it; at desk and phone width, with screenshots."""

from __future__ import annotations

import re
import warnings
from typing import Any

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 90_000  # the first visit of a session warms the figures
CHART = "figure[data-chart]:has(.chart-canvas[aria-label^='Reached vs required'])"


def _bar(page: Any, series: int, index: int) -> dict[str, Any]:
    """The middle of a bar on screen, with the text and href its data item carries."""
    return page.evaluate("""([sel, series, index]) => {
        const canvas = document.querySelector(sel + ' .chart-canvas');
        const chart = echarts.getInstanceByDom(canvas);
        const spec = JSON.parse(canvas.parentElement.querySelector('script[type="application/json"]').textContent);
        const item = spec.series[series].data[index];
        const [x, y] = chart.convertToPixel({seriesIndex: series}, [item.value / 2, index]);
        const box = canvas.getBoundingClientRect();
        return {x: box.left + x, y: box.top + y, text: item.text, href: item.href};
    }""", [CHART, series, index])


def _click_through(page: Any, bar: dict[str, Any], records: re.Pattern[str]) -> None:
    """Click the bar and wait for its records page.

    Twice in CI (both suites and Chromium sharing two cores) the phone-width click opened nothing within 90 s and
    left no trace. So: if the browser has not even asked for the records after 15 s, print what lies under the
    pointer and click once more (a person taps again); a second click that opens nothing fails the test. A request
    that was sent but answers slowly is waited for in full (the server log is attached to a failure)."""
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if records.match(r.url) else None)
    page.mouse.click(bar["x"], bar["y"])
    try:
        page.wait_for_url(records, timeout=15_000)
        return
    except Exception:  # noqa: BLE001 - Playwright's TimeoutError; what follows decides
        if asked:
            page.wait_for_url(records)
            return
    under = page.evaluate("""([x, y]) => { const e = document.elementFromPoint(x, y);
        return e ? e.outerHTML.slice(0, 200) : null; }""", [bar["x"], bar["y"]])
    warnings.warn(f"no request for the records 15 s after the click at {bar}; under the pointer: {under}; "
                  "clicking again", stacklevel=1)
    page.mouse.click(bar["x"], bar["y"])
    page.wait_for_url(records)


@pytest.mark.parametrize("width, height", [(1366, 768), (390, 844)])
def test_hover_a_bar_for_its_exact_value_click_it_to_its_records_and_sort_the_table(as_role, shot, width, height):
    # given marketing on the goals planner, its chart drawn
    page = as_role("maria.marketing", width=width, height=height, timeout_ms=WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # Reduced motion draws every bar at once, so a redraw (the page grows when the table opens) never leaves a bar
    # half grown under the pointer on a loaded machine.
    page.emulate_media(reduced_motion="reduce")
    page.goto("/goals/")
    page.locator(CHART + "[data-chart-ready]").scroll_into_view_if_needed()
    # when they hover the Lead row's required bar
    bar = _bar(page, 1, 0)
    page.mouse.move(bar["x"], bar["y"])
    tip = page.locator(".chart-tip").filter(has_text="Required")
    tip.wait_for()
    # then the tooltip names the stage and shows the same number as the table's Required cell
    required = page.locator("table[data-table=plan] tbody tr").first.locator("td").nth(1).text_content()
    assert tip.inner_text().startswith("Lead\n") and f"Required: {required}" in tip.inner_text()
    assert bar["text"] == required
    shot(page, f"chart-hover-{width}")
    # and the table beside it sorts by a number column and filters in place
    details = page.locator("details.numbers:has(table[data-table=plan])")
    details.locator("summary").click()
    header = details.locator("th").nth(1)
    header.get_by_role("button").click()
    header.get_by_role("button").click()
    assert header.get_attribute("aria-sort") == "descending"
    values = [float(v) for v in details.locator("tbody tr td:nth-child(2)").evaluate_all(
        "cells => cells.map(c => c.dataset.sort)")]
    assert values == sorted(values, reverse=True)
    details.get_by_role("searchbox").fill("MQL")
    assert details.locator("tbody tr:visible").count() == 1 and "1 of 5 rows" in details.inner_text()
    shot(page, f"table-sorted-filtered-{width}")
    # when they click the bar, the records behind it open
    page.locator(CHART).scroll_into_view_if_needed()
    bar = _bar(page, 1, 0)
    _click_through(page, bar, re.compile(r".*/metrics/leads_created/\?period=.*"))
    page.locator("[data-total]").wait_for()
    shot(page, f"chart-click-records-{width}")
    assert errors == []
