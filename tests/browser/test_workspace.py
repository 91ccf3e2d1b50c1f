"""The workspace both teams live in, in Chromium at desk and phone width: read and clear a notification (the header
badge goes down without a reload), then find that notification's contact with the header search and open it."""

from __future__ import annotations

import html
import re
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.browser

WAIT_MS = 120_000  # the first login warms the figures; on a loaded machine that takes a while
SIZES = [pytest.param(1366, 768, id="desktop"), pytest.param(390, 844, id="phone")]


def _unread(page: Any) -> int:
    label = page.locator("#bell").get_attribute("aria-label") or ""
    found = re.fullmatch(r"Notifications: (\d+) unread", label)
    assert found, label
    return int(found.group(1))


def _notify(server: Any, username: str) -> None:
    """Given: one more unread notification for `username` about a named contact (written by the product's service,
    in the server's database, as the SLA worker would)."""
    code = (
        "import sys, uuid, django; django.setup()\n"
        "from smarketing.crm.models import Contact\n"
        "from smarketing.team.models import User\n"
        "from smarketing.lifecycle.services_notifications import notification_create\n"
        "c = Contact.objects.exclude(last_name='').order_by('id').first()\n"
        "u = User.objects.get(username=sys.argv[1])\n"
        "notification_create(user_id=u.pk, kind='reassigned', title=f'Reassigned: {c.name}', contact=c,\n"
        "                    body='The SLA ran out; the lead moved to you.', dedupe_key=f'browser-{uuid.uuid4()}')\n"
    )
    done = subprocess.run([sys.executable, "-c", code, username], env=server.env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_read_a_notification_then_search_its_contact_and_open_it(as_role, live_smarketing, shot, width, height):
    # given sam.sales with at least one unread notification about a contact
    _notify(live_smarketing, "sam.sales")
    page = as_role("sam.sales", width=width, height=height, timeout_ms=WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    before = _unread(page)
    # when the user opens the inbox from the bell in the header
    page.locator("#bell").click()
    page.wait_for_url(re.compile(r".*/notifications/$"))
    first = page.locator("li.note.unread").first
    first.wait_for()
    shot(page, f"workspace-inbox-{width}")
    contact_link = first.locator("a[href^='/contacts/']").first
    contact_href = contact_link.get_attribute("href") or ""
    page_html = page.request.get(contact_href).text()  # the contact's name as its own page heads it
    heading = re.search(r"<h1>(.*?)</h1>", page_html)
    name = html.unescape(heading.group(1)).strip() if heading else ""
    note_id = first.get_attribute("data-notification")
    # and marks the first unread one read
    first.get_by_role("button", name=re.compile("^Mark read")).click()
    # then it leaves the unread list and the badge counts one fewer, without a page load
    page.wait_for_function("n => !document.querySelector(`li[data-notification='${n}']`)", arg=note_id)
    assert _unread(page) == before - 1
    shot(page, f"workspace-inbox-read-{width}")
    # and "All" still shows it, read
    page.get_by_label("Show").select_option("all")
    page.wait_for_url(re.compile(r".*show=all.*"))
    assert "unread" not in (page.locator(f"li[data-notification='{note_id}']").get_attribute("class") or "")
    assert contact_href and name, "the notification names and links its contact"
    # when they press "/" and type the contact's name into the header search
    page.locator("h1").click()
    page.keyboard.press("/")
    box = page.locator("#site-search")
    assert page.evaluate("document.activeElement.id") == "site-search"
    box.press_sequentially(name, delay=20)
    # then the contact shows up in the live results under the box, inside the screen
    hit = page.locator(f"#search-live a[href='{contact_href}']")
    hit.wait_for()
    live = page.locator("#search-live").bounding_box()
    assert live and live["x"] >= 0 and live["x"] + live["width"] <= width + 1
    shot(page, f"workspace-search-live-{width}")
    # and opening it shows the contact's page
    hit.click()
    page.wait_for_url(re.compile(re.escape(contact_href) + "$"))
    assert page.locator("h1").inner_text().strip() == name
    shot(page, f"workspace-search-contact-{width}")
    # and the full results page works from the box with Enter (no live list needed)
    page.keyboard.press("/")
    page.locator("#site-search").fill(name)
    page.locator("#site-search").press("Enter")
    page.wait_for_url(re.compile(r".*/search/\?q=.*"))
    assert page.locator(f"main a[href='{contact_href}']").count() >= 1
    shot(page, f"workspace-search-page-{width}")
    assert errors == []
