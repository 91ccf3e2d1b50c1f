"""The walk through every page of the web app that the accessibility and phone tests share.

The pages come from the web app's URL conf, so a page added there is walked without touching the tests: every
route that takes no argument, plus one record of each kind for the routes listed in `RECORD_ARGS`. A route that
answers GET with 405 is an action (logout, mark all read), not a page; the walk skips it, and the routes in
`NOT_PAGES` (answers to htmx, not pages). Three pages are not in the
URL conf: the login page (as nobody), the 403 page (a viewer opening the import page) and the 404 page.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.urls import URLPattern

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
REVOPS, VIEWER = "rita.revops", "vic.viewer"
# Routes with arguments that are pages: the argument is read from the live server's database (see `record_args`).
RECORD_ARGS = {"contact": "contact_id", "account": "account_id", "opportunity": "opportunity_id", "campaign": "pk",
               "playbook_version": "number", "measure_records": "name"}
# Pages reached as someone other than RevOps, or at an address that is not a route.
EXTRA = {"login": (None, "/login/"), "403": (VIEWER, "/import/"), "404": (REVOPS, "/no-such-page/")}
# Routes that answer htmx, not people: no HTML page to check.
NOT_PAGES = {"figures_ready"}  # a waiting page's poll (204 / 286, no body); tests/browser/test_worker_figures.py
WAIT_MS = 120_000  # the first visit of a page may warm its figures on a loaded machine


@dataclass(frozen=True)
class Walked:
    name: str  # the route's name, or a key of EXTRA
    username: str | None  # who visits it (None: not logged in)
    path: str | None  # None: built from the route and the server's records


def _routes() -> list[URLPattern]:
    from smarketing.web.urls import urlpatterns

    return [p for p in urlpatterns if isinstance(p, URLPattern) and p.name]


def pages() -> list[Walked]:
    """Every page of the web app, in the URL conf's order, then the login, 403 and 404 pages."""
    out = []
    for route in _routes():
        converters = getattr(route.pattern, "converters", {})
        if route.name == "login" or route.name in NOT_PAGES or (converters and route.name not in RECORD_ARGS):
            continue
        out.append(Walked(str(route.name), REVOPS, None))
    out += [Walked(name, who, path) for name, (who, path) in EXTRA.items()]
    return out


def params(selected: set[str] | None = None) -> list[Any]:
    """`pages()` as pytest parameters named by page (all, or only the `selected` names)."""
    return [pytest.param(p, id=p.name) for p in pages() if selected is None or p.name in selected]


RECORDS_CODE = """
import json, django
django.setup()
from smarketing.campaigns.models import Campaign
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.playbook.models import PlaybookVersion
contact = Contact.objects.exclude(last_name='').order_by('id').first()
print(json.dumps({
    "contact_id": contact.pk, "contact_name": contact.last_name,
    "account_id": Account.objects.order_by('id').values_list('id', flat=True).first(),
    "opportunity_id": Opportunity.objects.order_by('id').values_list('id', flat=True).first(),
    "pk": Campaign.objects.order_by('id').values_list('id', flat=True).first(),
    "number": PlaybookVersion.objects.order_by('number').values_list('number', flat=True).first(),
    "name": "mqls_entered",
}))
"""


def record_args(server: Any) -> dict[str, Any]:
    """One record of each kind in the live server's database (and a name to search for)."""
    done = subprocess.run([sys.executable, "-c", RECORDS_CODE], env=server.env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert all(v is not None for v in found.values()), f"the walk needs one record of each kind: {found}"
    return found


def path_of(walked: Walked, records: dict[str, Any]) -> str:
    from django.urls import reverse

    if walked.path is not None:
        return walked.path
    if walked.name in RECORD_ARGS:
        arg = RECORD_ARGS[walked.name]
        return reverse(walked.name, kwargs={arg: records[arg]})
    url = reverse(walked.name)
    return url + "?q=" + quote(records["contact_name"]) if walked.name == "search" else url


class Visitor:
    """One browser context per user for the whole walk (logging in once each), opened on first use."""

    def __init__(self, browser: Any, server: Any, *, width: int, height: int) -> None:
        self.browser, self.server, self.size = browser, server, {"width": width, "height": height}
        self.pages: dict[str | None, Any] = {}
        self.contexts: list[Any] = []
        self._records: dict[str, Any] | None = None

    @property
    def records(self) -> dict[str, Any]:
        if self._records is None:
            self._records = record_args(self.server)
        return self._records

    def page_for(self, username: str | None) -> Any:
        if username not in self.pages:
            ctx = self.browser.new_context(viewport=self.size, base_url=self.server.url)
            ctx.set_default_timeout(WAIT_MS)
            self.contexts.append(ctx)
            page = ctx.new_page()
            if username is not None:
                page.goto("/login/")
                page.get_by_label("Username").fill(username)
                page.get_by_label("Password").fill("demo")
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(self.server.url + "/")
            self.pages[username] = page
        return self.pages[username]

    def open(self, walked: Walked) -> Any:
        """Open the page (waiting until figures still being computed have arrived); skip a route that is an action
        (405 to GET, or a redirect to another page)."""
        from playwright.sync_api import Error

        page = self.page_for(walked.username)
        path = path_of(walked, self.records)
        try:
            page.goto(path)
        except Error:
            # Chromium refuses to show an empty error answer: ask once more without the page to see why.
            status = page.context.request.get(path, max_redirects=0).status
            self.pages[walked.username] = page.context.new_page()  # the failed one may still be navigating
            page.close()
            if status == 405:
                pytest.skip(f"{path} answers GET with 405: an action, not a page")
            raise
        landed = urlsplit(page.url).path
        assert landed != "/login/" or walked.username is None, f"{path} sent {walked.username} to the login page"
        if walked.name not in EXTRA and landed != urlsplit(path).path:
            pytest.skip(f"{path} redirects to {landed}: an action, not a page (that page is walked on its own)")
        # A page whose figures are still being computed refreshes itself; check the page people end up reading.
        page.wait_for_function("!document.querySelector('#main [hx-trigger=\"smk-figures-ready\"]')")
        page.wait_for_load_state("networkidle")
        return page

    def close(self) -> None:
        for ctx in self.contexts:
            ctx.close()


def axe_violations(page: Any, *, impacts: tuple[str, ...] = ("serious", "critical")) -> list[str]:
    """axe-core's violations of these impacts on the open page, one line each: rule, impact, target, summary."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))  # through the DevTools protocol, so the page's CSP allows it
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {resultTypes: ['violations']});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
          nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
    }""")
    lines = []
    for v in result:
        if v["impact"] not in impacts:
            continue
        for node in v["nodes"]:
            summary = " ".join((node["summary"] or "").split())[:300]
            lines.append(f"{v['id']} ({v['impact']}): {node['target']} — {v['help']}. {summary}")
    return lines
