"""The playbook editor in Chromium: marketing opens a new draft in the form editor, lowers the MQL threshold, sees the
impact preview follow, saves; the draft's page shows the preview beside the sign-off, and marketing then sales sign
it off. At desk width and on a phone, with screenshots; axe-core finds nothing serious on the editor."""

from __future__ import annotations

import re
from typing import Any

import pytest

from .walk import axe_violations

pytestmark = pytest.mark.browser

WAIT_MS = 120_000  # the first preview rescores the history on a loaded machine


def _figure(page: Any, key: str) -> Any:
    return page.locator(f"#impact tr[data-figure='{key}'] td[data-side='draft']")


def _count(text: str) -> int:
    return int(re.sub(r"[^\d]", "", text))


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (390, 844)], ids=["desk", "phone"])
def test_change_the_threshold_in_the_form_see_the_impact_and_sign_off_from_both_sides(as_role, shot, width, height):
    from playwright.sync_api import expect

    size = f"{width}x{height}"
    # given marketing opens a new draft in the form editor, with the preview of its unchanged terms
    marketing = as_role("maria.marketing", width=width, height=height, timeout_ms=WAIT_MS)
    marketing.goto("/playbook/new/")
    threshold = marketing.get_by_label("MQL threshold (points)")
    current = int(float(threshold.input_value()))
    expect(_figure(marketing, "threshold")).to_have_text(str(current))
    mqls_before = _count(_figure(marketing, "mqls").inner_text())
    assert not axe_violations(marketing), axe_violations(marketing)
    # when a number that is not finite is typed, the field shows its problem before any save
    threshold.fill("nan")
    expect(marketing.locator("#sec-scoring .pb-live-err")).to_contain_text("finite number")
    expect(marketing.locator("#impact [data-state='invalid']")).to_be_visible()
    # when the MQL threshold is lowered in the form
    lowered = current - 10
    threshold.fill(str(lowered))
    # then the preview follows: the draft's threshold, more MQLs than today's, and the change beside today's
    expect(_figure(marketing, "threshold")).to_have_text(str(lowered))
    expect(marketing.locator("#sec-scoring .pb-live-err")).to_have_count(0)
    assert _count(_figure(marketing, "mqls").inner_text()) > mqls_before
    expect(marketing.locator("#impact tr[data-figure='threshold']")).to_contain_text(f"{current} → {lowered}")
    threshold.scroll_into_view_if_needed()
    shot(marketing, f"playbook-editor-preview-{size}")
    # when it is saved
    marketing.get_by_label("What changed and why").fill(f"Lower the MQL bar to {lowered}")
    marketing.locator("#pb-form").get_by_role("button", name="Create draft").click()
    marketing.wait_for_url(re.compile(r".*/playbook/v\d+/$"))
    draft_url = marketing.url
    # then the draft's page shows its impact beside the sign-off, and marketing signs
    expect(marketing.locator("#impact [data-state='ready']")).to_be_visible()
    expect(_figure(marketing, "threshold")).to_have_text(str(lowered))
    marketing.get_by_role("button", name=re.compile("Sign off for Marketing")).click()
    expect(marketing.locator(".messages")).to_contain_text("waiting for the other side")
    expect(marketing.locator("#impact [data-state='ready']")).to_be_visible()
    shot(marketing, f"playbook-draft-marketing-signed-{size}")
    # and sales signs the same draft, which becomes the active playbook at the lowered threshold
    sales = as_role("sam.sales", width=width, height=height, timeout_ms=WAIT_MS)
    sales.goto(draft_url)
    expect(sales.locator("#impact [data-state='ready']")).to_be_visible()
    sales.get_by_role("button", name=re.compile("Sign off for Sales")).click()
    expect(sales.locator(".messages")).to_contain_text("now the active playbook")
    shot(sales, f"playbook-draft-signed-{size}")
    sales.goto("/playbook/")
    expect(sales.locator("#h-active").locator("..")).to_contain_text(f"MQL at {lowered} points")
