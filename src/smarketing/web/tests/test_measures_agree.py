"""Every figure a page shows equals the same measure from `smarketing metrics --period … --where … --json`.

The pages render each figure as `<a data-measure="name" data-value="unrounded" href="/metrics/name/?period=…">`;
the link says which period and filters the figure is for, so each one is checked against the CLI run for exactly
those. Seeded with the demo company and a frozen clock (the end of the simulated year, Q4 2026 running).
"""

from __future__ import annotations

import json
import math
from collections import defaultdict
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.db import connection
from django.test import Client
from typer.testing import CliRunner

from smarketing.core import clock

AS_OF = datetime(2026, 11, 23, 20, tzinfo=UTC)  # a Monday in the last weeks of the demo year
PAGES = ["/", "/funnel/", "/goals/", "/journeys/", "/handoff/", "/metrics/"]
PERIODS = ["2026-Q4", "2026-10", "last-30d"]
FILTER_FIELDS = ("source", "segment", "owner", "country", "campaign")


class _Figures(HTMLParser):
    """Collects every element carrying `data-measure`: (name, data-value, href)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-measure" in a:
            self.found.append((a["data-measure"] or "", a.get("data-value") or "", a.get("href") or ""))


def figures(html: str) -> list[tuple[str, str, str]]:
    parser = _Figures()
    parser.feed(html)
    return parser.found


def scope_of(href: str) -> tuple[str, tuple[tuple[str, tuple[str, ...]], ...]]:
    """The (period, filters) a figure's drill-down link names."""
    period, filters = "", defaultdict(set)
    for key, value in parse_qsl(urlsplit(href).query):
        if key == "period":
            period = value
        elif key == "filter" and ":" in value:
            field, _, v = value.partition(":")
            filters[field].add(v)
        elif key in FILTER_FIELDS:
            filters[key].add(value)
    return period, tuple(sorted((k, tuple(sorted(v))) for k, v in filters.items()))


def _cli_json(*args: str) -> Any:
    from smarketing.cli import build_app

    out = CliRunner().invoke(build_app(), [*args, "--json"])
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def cli_metrics(period: str, filters: tuple[tuple[str, tuple[str, ...]], ...]) -> dict[str, float | None]:
    """`smarketing metrics --period P --where f=v … --json`: measure name → value."""
    args = ["metrics", "--period", period]
    for field, values in filters:
        for value in values:
            args += ["--where", f"{field}={value}"]
    return {m["name"]: m["value"] for m in _cli_json(*args)["measures"]}


def same(shown: str, value: float | None) -> bool:
    if value is None:
        return shown == ""
    return shown != "" and math.isclose(float(shown), value, rel_tol=1e-9, abs_tol=1e-9)


def check_pages_agree_with_the_cli(size: str) -> None:
    from smarketing.crm.selectors import contact_field_values
    from smarketing.demo.services import demo_seed
    from smarketing.team.models import User
    from smarketing.web.data import common

    # given the demo company, seen at a fixed moment by a RevOps user (who may read every page)
    demo_seed(size=size, seed=1)
    clock.freeze(AS_OF)
    common.clear()
    client = Client()
    client.force_login(User.objects.get(username="rita.revops"))
    source = contact_field_values(field="lead_source")[0]
    # when every page that shows measures is opened for Q4 2026, a month and the last 30 days, and the pages that
    # take filters (the funnel, the list of measures) with two sets of filters
    urls = [f"{page}?period={p}" for page in PAGES for p in PERIODS]
    urls += [f"{page}?period={p}&{where}" for page in ("/funnel/", "/metrics/") for p, where in (
        ("2026-Q4", "segment=enterprise"), ("2026-10", f"source={source}&segment=mid_market"))]
    shown: list[tuple[str, str, str, str]] = []
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert not response.context["computing"], url
        shown += [(url, *f) for f in figures(response.content.decode())]
    # then every page shows measures, and each figure is the CLI's value for the period and filters it links to
    assert {urlsplit(u).path for u, *_ in shown} == set(PAGES)
    cli: dict[Any, dict[str, float | None]] = {}
    wrong = []
    for url, name, value, href in shown:
        scope = scope_of(href)
        assert scope[0], f"{name} on {url} links to no period: {href}"
        if scope not in cli:
            cli[scope] = cli_metrics(*scope)
        if not same(value, cli[scope][name]):
            wrong.append(f"{name} on {url}: page {value!r}, CLI {cli[scope][name]!r} for {scope}")
    assert not wrong, "\n".join(wrong)
    # and the filtered funnel's figures were checked with their filters
    assert any(scope[1] for scope in cli)
    # and the Q4 2026 MQL count is one number wherever it appears (and is the goals plan's actual)
    q4_mqls = {(urlsplit(url).path, value) for url, name, value, href in shown
               if name == "mqls_entered" and scope_of(href) == ("2026-Q4", ())}
    assert {page for page, _value in q4_mqls} >= {"/", "/funnel/", "/goals/", "/handoff/"}
    counted = cli[("2026-Q4", ())]["mqls_entered"]
    assert counted and {float(value) for _page, value in q4_mqls} == {counted}
    goals = _cli_json("goals", "--period", "2026-Q4")
    assert next(p["actual_to_date"] for p in goals["pacing"] if p["stage"] == "mqls") == counted


def test_every_page_figure_equals_smarketing_metrics_on_the_small_demo(db):
    check_pages_agree_with_the_cli("small")


@pytest.mark.slow
def test_every_page_figure_equals_smarketing_metrics_on_the_medium_demo(db):
    if connection.vendor != "sqlite":
        pytest.skip("the same pages and measures run on PostgreSQL with the small demo above; the medium company "
                    "adds only volume (about three minutes), so it runs once, on SQLite")
    check_pages_agree_with_the_cli("medium")
