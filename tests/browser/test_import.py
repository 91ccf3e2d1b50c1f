"""Bring your own company in Chromium: RevOps upload a HubSpot contacts export on the Import page, the task worker
runs the dry run while the page shows its progress, they read it, confirm it, and find the contacts on the funnel."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from smarketing.ingest.tests.layouts import write_hubspot
from smarketing.ingest.uploads import INLINE_MAX_BYTES

from .conftest import BIN, ROOT, stop_process

pytestmark = pytest.mark.browser

WAIT_MS = 120_000
LEADS, MQLS = 2_300, 12  # enough rows that the file is over the inline bound: the worker imports it
PERIOD = "2024-03-01..2024-03-31"  # the imported contacts' month
ENTERED = 'Date entered "{} (Lifecycle Stage Pipeline)"'


def _export(path: Path) -> Path:
    """Leads from paid social, and MQLs from referrals, all created in March 2024 (HubSpot's layout and quirks)."""
    rows = []
    for n in range(LEADS + MQLS):
        mql = n >= LEADS
        created = datetime(2024, 3, 1 + n % 20, 9 + n % 8, n % 60)
        row = {"Record ID": str(910_000 + n), "First Name": f"Mira{n}" if mql else f"Lea{n}",
               "Last Name": "Uploadson", "Email": f"upload{n}@byo-company.test", "Create Date": created,
               "Lifecycle Stage": "Marketing Qualified Lead" if mql else "Lead",
               "Original Traffic Source": "Referrals" if mql else "Paid Social", "Country/Region": "Portugal",
               ENTERED.format("Lead"): created}
        if mql:
            row[ENTERED.format("Marketing Qualified Lead")] = created.replace(day=created.day + 2)
        rows.append(row)
    return write_hubspot(path, "contacts", rows)


@pytest.fixture
def worker(live_smarketing: Any) -> Iterator[Any]:
    """`start()` runs `smarketing worker` on the live server's database (stopped after the test)."""
    procs: list[subprocess.Popen[bytes]] = []

    def start() -> None:
        log = open(Path(live_smarketing.env["SMARKETING_DATA_DIR"]) / "worker.log", "ab")  # noqa: SIM115
        procs.append(subprocess.Popen([str(BIN / "smarketing"), "worker", "--queues", "default", "--interval", "0.5"],
                                      env=live_smarketing.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT))

    yield start
    for proc in procs:
        stop_process(proc)


def _funnel_figures(page: Any) -> tuple[float, float]:
    """The funnel page's cohort and MQLs entered for the period (as its figures' data-value)."""
    page.goto(f"/funnel/?period={PERIOD}&by=source")
    figures = []
    for name in ("cohort_entered", "mqls_entered"):
        figure = page.locator(f"a[data-measure={name}]").first
        figure.wait_for(timeout=WAIT_MS)
        figures.append(float(figure.get_attribute("data-value") or 0))
    return figures[0], figures[1]


def _status(page: Any) -> str:
    return str(page.locator("#import-run").get_attribute("data-status"))


def test_revops_upload_a_hubspot_export_confirm_it_and_find_the_contacts_on_the_funnel(as_role, shot, worker,
                                                                                        tmp_path):
    export = _export(tmp_path / "hubspot-contacts-2024-03.csv")
    assert export.stat().st_size > INLINE_MAX_BYTES
    page = as_role("rita.revops", timeout_ms=WAIT_MS)
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    cohort_before, mqls_before = _funnel_figures(page)
    # given RevOps on the Import page (in the navigation)
    page.goto("/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Import").click()
    page.wait_for_url(re.compile(r".*/import/$"))
    # when they upload the export
    page.get_by_label("Files", exact=True).set_input_files(str(export))
    page.get_by_role("button", name="Upload and check (dry run)").click()
    page.wait_for_url(re.compile(r".*/import/\d+/$"))
    # then the large file waits for the worker, and the page says so
    assert _status(page) == "pending"
    assert "Waiting for the task worker" in page.locator("#run-progress").inner_text()
    shot(page, "import-queued")
    # when the worker runs, the page (polling, no reload) shows the dry run: the file's kind and what would change
    worker()
    page.wait_for_selector("#import-run[data-status=succeeded]", timeout=WAIT_MS)
    page.wait_for_selector("#runs tr[data-status=succeeded]", timeout=WAIT_MS)  # the list follows, out of band
    assert page.locator("#run-files td[data-kind]").inner_text() == "contacts"
    records = page.locator("#summary-records")
    assert records.locator("tr[data-entity=contacts] td[data-count=created]").inner_text() == str(LEADS + MQLS)
    stages = page.locator("#summary-stages")
    assert stages.locator("tr[data-stage=lead] td").inner_text() == str(LEADS + MQLS)
    assert stages.locator("tr[data-stage=mql] td").inner_text() == str(MQLS)
    assert page.locator("#run-problems").count() == 0
    shot(page, "import-dry-run")
    dry_url = page.url
    # when they confirm
    page.get_by_role("button", name="Confirm: import these files").click()
    page.wait_for_url(lambda url: re.search(r"/import/\d+/$", url) is not None and url != dry_url)
    page.wait_for_selector("#import-run[data-status=succeeded]", timeout=WAIT_MS)
    assert "Import #" in page.locator("#h-run").inner_text()
    # then the past runs list both, with their file and sha256
    runs = page.locator("#runs tbody tr")
    assert runs.count() >= 2
    assert "hubspot-contacts-2024-03.csv" in runs.first.inner_text()
    shot(page, "import-done")
    # and the funnel of March 2024 counts them: every contact in the cohort, the referrals as MQLs
    cohort_after, mqls_after = _funnel_figures(page)
    assert (cohort_after - cohort_before, mqls_after - mqls_before) == (LEADS + MQLS, MQLS)
    shot(page, "import-funnel")
    # and the MQL figure opens the imported contacts by name
    page.locator("a[data-measure=mqls_entered]").first.click()
    page.wait_for_url(re.compile(r".*/metrics/mqls_entered/.*"))
    page.locator("[data-total]").wait_for(timeout=WAIT_MS)
    names = set(page.locator("tr[data-kind=contact] td a").all_inner_texts())
    assert {f"Mira{n} Uploadson" for n in range(LEADS, LEADS + MQLS)} <= names
    assert errors == []
