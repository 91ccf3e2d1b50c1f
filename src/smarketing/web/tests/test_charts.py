"""The charts (ECharts specs the page draws), the one number format and labels in words, and the tables' sort keys."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.web import charts, formatting
from smarketing.web.periods import parse_period
from smarketing.web.tables import Column, Table


def _spec(html: str) -> dict:
    found = re.search(r'<script type="application/json">(.*?)</script>', html, re.S)
    assert found, html
    return json.loads(found.group(1))


def test_bar_chart_is_a_container_with_an_escaped_spec_formatted_values_and_drill_downs():
    # when
    html = charts.bar_chart([charts.Bar("paid_social <b>", 9741, href="/metrics/x/?period=2026-Q4"),
                             charts.Bar("B", 445213, target=300000)], title="T & co", fmt=formatting.money)
    # then: one figure the script draws, its title and every value in words for screen readers
    assert html.startswith('<figure class="chart" data-chart') and 'role="img"' in html
    assert 'aria-label="T &amp; co"' in html and "$9.7k" in html
    assert "<b>" not in html and "\\u003Cb\\u003E" in html
    spec = _spec(html)
    value, target = spec["series"]
    assert [d["value"] for d in value["data"]] == [9741, 445213]
    assert value["data"][0] == {"value": 9741, "full": "Paid social <b>", "text": "$9.7k", "exact": "$9,741",
                                "href": "/metrics/x/?period=2026-Q4"}
    assert target["name"] == "Target" and target["data"][1]["text"] == "$300.0k" and target["data"][0]["value"] is None
    assert spec["legend"]["data"] == ["Value", "Target"]
    assert spec["xAxis"]["axisLabel"]["smkTicks"] == ["$0", "$200.0k", "$400.0k", "$600.0k"]


def test_a_bar_without_a_value_draws_nothing_and_reads_as_a_dash():
    # given the time in stage of a stage nobody left yet
    html = charts.bar_chart([charts.Bar("Lead → next", 2.5), charts.Bar("MQL → next", None)], title="d",
                            fmt=formatting.days)
    # then
    data = _spec(html)["series"][0]["data"]
    assert data[1]["value"] is None and data[1]["text"] == "—"
    assert "MQL → next —" in html and "0.0 d" not in html.split("<script")[0]
    assert "legend" not in _spec(html)


@pytest.mark.parametrize("fn", [charts.bar_chart, charts.line_chart, charts.waterfall_chart, charts.funnel_chart,
                                charts.flow_chart])
def test_every_chart_says_no_data_when_empty(fn):
    assert "No data yet" in fn([], title="x")


def test_waterfall_ends_with_the_running_total_and_signs_its_steps():
    spec = _spec(charts.waterfall_chart([("Leads", 100), ("lost", -60), ("lost", -30)], title="w",
                                        end_label="Customers"))
    base, bars = spec["series"]
    assert spec["xAxis"]["data"] == ["Leads", "Lost", "Lost", "Customers"]
    assert base["data"] == [0, 40, 10, 0] and [d["value"] for d in bars["data"]] == [100, 60, 30, 10]
    assert [d["text"] for d in bars["data"]] == ["100", "-60", "-30", "10"]


def test_flow_chart_draws_forward_ribbons_and_counts_loops_it_leaves_to_the_table():
    html = charts.flow_chart([("web_visit", "b", 5), ("b", "c", 3), ("c", "web_visit", 1)], title="f")
    links = _spec(html)["series"][0]["links"]
    assert [(x["source"], x["target"], x["text"]) for x in links] == [("web_visit", "b", "5"), ("b", "c", "3")]
    assert links[0]["full"] == "Web visit → B" and "1 back-and-forth relation listed in the table" in html


def test_line_chart_plots_target_dashed_and_a_sparkline_labels_only_its_first_and_last_dates():
    spec = _spec(charts.line_chart([("w1", 1), ("w2", 3)], title="l", target=[("w1", 2), ("w2", 4)]))
    assert spec["series"][1]["lineStyle"]["type"] == "dashed" and spec["legend"]["data"] == ["Value", "Target"]
    spark = _spec(charts.line_chart([(f"{d} Nov", 1) for d in (1, 8, 15, 22)], title="s", width=200, height=84))
    assert spark["yAxis"]["show"] is False and spark["xAxis"]["data"] == ["1 Nov", "8 Nov", "15 Nov", "22 Nov"]
    assert spark["xAxis"]["axisLabel"]["interval"] == 2 and "legend" not in spark


@pytest.mark.parametrize("value, text", [(1234567, "$1.23M"), (45600, "$45.6k"), (9741, "$9.7k"), (980, "$980"),
                                         (999_960, "$1.00M"), (None, "—"), (-20000, "−$20.0k")])
def test_money_has_one_compact_rule(value, text):
    assert formatting.money(value) == text


@pytest.mark.parametrize("key, words", [("paid_social", "Paid social"), ("feature_request", "Feature request"),
                                        ("Mqls", "MQLs"), ("sla_breaches", "SLA breaches"), ("Acme Corp", "Acme Corp"), ("iPhone launch", "iPhone launch"), ("▸ lead", "▸ Lead"),
                                        ("", "—")])
def test_labels_are_words_never_raw_keys(key, words):
    assert formatting.label(key) == words


def test_a_text_cell_shows_a_raw_key_in_words_and_leaves_names_alone():
    assert [formatting.format_value("text", v) for v in ("list_import", "Acme_Corp", "webinar", None)] == [
        "List import", "Acme_Corp", "webinar", "—"]


def test_percent_and_days_carry_units():
    assert formatting.pct(0.256) == "25.6 %"
    assert formatting.days(2.5) == "2.5 d"
    assert formatting.hours(50) == "2.1 d"


def test_table_cells_carry_raw_sort_keys_exact_money_and_row_links():
    table = Table("t", "T", [Column("name", "Name"), Column("amount", "Amount", "money"), Column("kind", "Kind", "label")],
                  [{"name": "a", "amount": 9741, "kind": "paid_social"}, {"name": "b", "amount": None, "kind": None}],
                  links={0: "/campaigns/1/"})
    first, second = table.display_rows()
    assert (first[0].href, first[1].text, first[1].sort, first[1].title, first[2].text) == (
        "/campaigns/1/", "$9.7k", "9741.0", "$9,741", "Paid social")
    assert (second[0].href, second[1].text, second[1].sort) == ("", "—", "")


@pytest.mark.parametrize("key, start, end, label", [
    ("2026-Q4", datetime(2026, 10, 1, 4, tzinfo=UTC), datetime(2027, 1, 1, 5, tzinfo=UTC), "Q4 2026"),
    ("2026-02", datetime(2026, 2, 1, 5, tzinfo=UTC), datetime(2026, 3, 1, 5, tzinfo=UTC), "February 2026"),
    ("2026", datetime(2026, 1, 1, 5, tzinfo=UTC), datetime(2027, 1, 1, 5, tzinfo=UTC), "year 2026"),
    ("2026-11-02..2026-11-08", datetime(2026, 11, 2, 5, tzinfo=UTC), datetime(2026, 11, 9, 5, tzinfo=UTC),
     "2 Nov 2026 – 8 Nov 2026"),
])
def test_periods_parse_from_url_keys_in_the_playbooks_time_zone(active_playbook, key, start, end, label):
    # given the shipped playbook's business calendar in New York: periods start and end at midnight there
    p = parse_period(key)
    assert (p.start, p.end, p.label, p.timezone) == (start, end, label, "America/New_York")


def test_periods_are_in_utc_while_no_playbook_is_active(db):
    assert parse_period("2026-Q4").start == datetime(2026, 10, 1, tzinfo=UTC)


def test_rolling_period_ends_now_and_bad_keys_name_the_field(active_playbook):
    clock.freeze(datetime(2026, 11, 20, tzinfo=UTC))
    assert parse_period("last-30d").start == datetime(2026, 10, 21, tzinfo=UTC)
    with pytest.raises(ValidationFailed) as err:
        parse_period("2026-13")
    assert err.value.field == "period"
