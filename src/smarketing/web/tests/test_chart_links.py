"""Every chart item with records behind it opens the same records as the table row or measure figure beside it.

Which chart items have records (the rest open nothing, and say so by having no href):
- scoreboard: funnel stages (cohort measures), pacing points (revenue_won from the period's start to the month's end),
  feedback kinds (the feedback page for the period; a kind has no record page); the SLA and week tables have no chart.
- funnel: waterfall start and end (cohort_entered, cohort_reached_customer; the drops have no measure), breakdown
  groups (the charted metric's cohort measure for the group); time in stage has no records per stage.
- campaigns: each bar (its campaign's page); campaign detail has no chart.
- goals: each stage (its reached-so-far measure). feedback: each theme (its row). journeys: flow edges have none.
"""

from __future__ import annotations

import json
from html import unescape
from html.parser import HTMLParser
from typing import Any

import pytest

from smarketing.web.tests.test_compare import two_quarters  # noqa: F401  (a fixture)
from smarketing.web.tests.test_measures_agree import _cli_json


class _Page(HTMLParser):
    """A rendered page's chart specs, its data tables' row links and its measure links."""

    def __init__(self) -> None:
        super().__init__()
        self.specs: list[dict[str, Any]] = []
        self.tables: dict[str, list[str]] = {}
        self.measures: dict[str, list[str]] = {}
        self.deltas: dict[str, str] = {}
        self.links: list[str] = []
        self._json = False
        self._table = ""
        self._cell = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "script" and a.get("type") == "application/json":
            self._json = True
        elif tag == "table":
            self._table = a.get("data-table", "")
            if self._table:
                self.tables[self._table] = []
        elif tag == "tr":
            self._cell = 0
        elif tag == "td":
            self._cell += 1
        elif tag == "a" and self._table and self._cell == 1:
            self.tables[self._table].append(a["href"])
        if tag == "a" and "href" in a:
            self.links.append(a["href"])
        if tag == "a" and "data-measure" in a:
            self.measures.setdefault(a["data-measure"], []).append(a["href"])
        if "data-delta-of" in a and "class" in a:
            self.deltas[a["data-delta-of"]] = next(c for c in a["class"].split() if c.startswith("news-"))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = ""
        if tag == "script":
            self._json = False

    def handle_data(self, data: str) -> None:
        if self._json:
            spec = json.loads(data)
            if isinstance(spec, dict) and "series" in spec:
                self.specs.append(spec)


def page(html: str) -> _Page:
    p = _Page()
    p.feed(html)
    return p


def items(spec: dict[str, Any], series: int = 0) -> list[dict[str, Any]]:
    return [d for d in spec["series"][series]["data"] if isinstance(d, dict)]


def hrefs(spec: dict[str, Any], series: int = 0) -> list[str]:
    return [unescape(d.get("href", "")) for d in items(spec, series)]


def chart(p: _Page, series_name: str) -> dict[str, Any]:
    return next(s for s in p.specs if s["series"][0]["name"] == series_name)


def test_scoreboard_charts_open_the_records_of_their_figures(world, login):
    # when the scoreboard is opened for Q4 2026
    p = page(login("viewer").get("/", {"period": "2026-Q4"}).content.decode())
    # then each funnel stage opens the same records as the stage's figure in the table
    funnel = chart(p, "Reached")
    shown = {d["full"]: d.get("href", "") for d in items(funnel)}
    assert shown["Lead"] in p.measures["cohort_entered"] and shown["MQL"] in p.measures["cohort_reached_mql"]
    # and the feedback bars open the feedback page for the period
    assert hrefs(chart(p, "Open pipeline at stake")) == ["/feedback/?period=2026-Q4"]


def test_a_pacing_point_opens_the_deals_won_from_the_periods_start_to_its_months_end(world, login):
    from smarketing.web.data.scoreboard import pacing_hrefs
    from smarketing.web.periods import parse_period

    # given Q4 2026's pacing months
    october, november = pacing_hrefs(parse_period("2026-Q4"), ["2026-10", "2026-11"])
    # then each point opens revenue_won's records from the first of October to the month's end
    assert october == "/metrics/revenue_won/?period=2026-10-01..2026-10-31"
    assert november == "/metrics/revenue_won/?period=2026-10-01..2026-11-30"
    # and November's lists the deal won on November 10, October's none
    client = login("viewer")
    assert "of 1," in client.get(november).content.decode()
    assert "2026-11-10" not in client.get(october).content.decode()


def test_funnel_breakdown_bars_open_the_same_records_as_their_table_rows(world, login):
    # when the funnel is broken down by lead source, charting the MQLs reached
    p = page(login("viewer").get("/funnel/", {"period": "2026-Q4", "by": "source", "metric": "mql"}).content.decode())
    breakdown = next(s for s in p.specs if any("source=" in h for h in hrefs(s)))
    # then every bar opens its group's MQLs, the same link as the group's row in the table
    links = hrefs(breakdown)
    assert links == p.tables["breakdown"][:len(links)] and len(links) == 2
    assert all(h.startswith("/metrics/cohort_reached_mql/?period=2026-Q4&source=") for h in links)
    # and the waterfall's start and end open the cohort's records as the stage figures do
    waterfall = next(s for s in p.specs if s["series"][0]["name"] == "base")
    ends = hrefs(waterfall, 1)
    assert ends[0] in p.measures["cohort_entered"] and ends[-1] in p.measures["cohort_reached_customer"]
    assert not any(ends[1:-1])  # the drops have no records of their own


def test_campaign_bars_open_the_campaign_page_their_row_opens(world, login):
    p = page(login("viewer").get("/campaigns/", {"period": "2026-Q4"}).content.decode())
    bars = hrefs(p.specs[0])
    # then every bar opens the page its campaign's name in the table opens
    assert bars and all(h in p.links for h in bars), (bars, p.links)
    assert bars[0].startswith(f"/campaigns/{world['campaign'].id}/?") and "model=linear" in bars[0]


def test_goal_stages_open_their_reached_so_far_records(world, login):
    p = page(login("viewer").get("/goals/", {"period": "2026-Q4"}).content.decode())
    stages = hrefs(p.specs[0])
    assert stages and all(h in {x for links in p.measures.values() for x in links} for h in stages)


@pytest.mark.usefixtures("two_quarters")
def test_a_change_is_coloured_by_whether_it_is_good_news(login):
    # given one MQL in Q3 and five in Q4: MQLs went up, which is good news
    p = page(login("viewer").get("/", {"period": "2026-Q4", "compare": "prev"}).content.decode())
    assert p.deltas["mqls_entered"] == "news-good"
    # and the CLI's comparison says the same
    cli = {m["name"]: m["change"] for m in _cli_json("metrics", "--period", "2026-Q4", "--compare", "prev")["measures"]}
    assert cli["mqls_entered"]["good"] is True and cli["campaign_cost"]["good"] is None


def test_feedback_theme_bars_open_their_theme_rows(world, login):
    from datetime import UTC, datetime, timedelta

    from smarketing.core import clock
    from smarketing.feedback.services import feedback_record
    from smarketing.feedback.theme_services import themes_rebuild

    # given a theme run over this month's feedback
    clock.freeze(datetime(2026, 11, 20, 12, tzinfo=UTC))
    for text in ("The per-seat price is too high for them.", "Per-seat price again, too high for a team of 40."):
        feedback_record(kind="objection", text=text, occurred_at=clock.now() - timedelta(days=2))
    themes_rebuild(backend="tfidf")
    html = login("marketing").get("/feedback/", {"period": "2026-Q4"}).content.decode()
    # then each bar opens its theme's row on the page
    bars = hrefs(chart(page(html), "Revenue at stake"))
    assert bars and all(h.startswith("#theme-") and f'<tr id="{h[1:]}"' in html for h in bars)
