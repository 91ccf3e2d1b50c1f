"""Every page of the web app passes axe-core with no serious or critical violation, at desk width (every page) and
on a phone (a sample); a failure lists each rule, page and element. The walk's pages come from the URL conf
(tests/browser/walk.py), so a new page is checked without touching this file."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from .walk import Visitor, Walked, axe_violations, params

pytestmark = pytest.mark.browser

# Pages of each shape for the phone: a dashboard, a queue, records, a form, a long table, search, the inbox, a refusal.
PHONE_SAMPLE = {"home", "handoff", "campaign", "contact", "playbook", "search", "notifications", "403"}


@pytest.fixture(scope="module")
def desk(browser: Any, live_smarketing: Any) -> Iterator[Visitor]:
    visitor = Visitor(browser, live_smarketing, width=1366, height=768)
    yield visitor
    visitor.close()


@pytest.fixture(scope="module")
def phone(browser: Any, live_smarketing: Any) -> Iterator[Visitor]:
    visitor = Visitor(browser, live_smarketing, width=390, height=844)
    yield visitor
    visitor.close()


def _check(visitor: Visitor, walked: Walked, size: str) -> None:
    page = visitor.open(walked)
    found = axe_violations(page)
    assert not found, f"axe-core on {walked.name} ({page.url}) at {size}, as {walked.username or 'nobody'}:\n" + \
        "\n".join(found)


@pytest.mark.parametrize("walked", params())
def test_no_serious_or_critical_accessibility_violation_at_desk_width(desk, walked):
    _check(desk, walked, "1366x768")


@pytest.mark.parametrize("walked", params(PHONE_SAMPLE))
def test_no_serious_or_critical_accessibility_violation_on_a_phone(phone, walked):
    _check(phone, walked, "390x844")


def test_the_check_finds_a_planted_violation(desk):
    # given a page that passes, with a button that has no name planted in it
    page = desk.open(Walked("404", "rita.revops", "/no-such-page/"))
    page.evaluate("document.getElementById('main').insertAdjacentHTML('beforeend', '<button id=planted></button>')")
    # then the check names the rule and the element
    assert any(line.startswith("button-name (critical): #planted") for line in axe_violations(page))
