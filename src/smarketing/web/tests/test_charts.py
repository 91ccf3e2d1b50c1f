"""The SVG helpers: accessible, escaped, proportional, and honest about missing data."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.web import charts, formatting
from smarketing.web.periods import parse_period


def _widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg)]


def test_bar_chart_is_proportional_titled_and_escaped():
    # when
    svg = charts.bar_chart([charts.Bar("<b>A</b>", 50), charts.Bar("B", 100, target=80)], title="T & co")
    # then
    assert svg.startswith("<svg") and 'role="img"' in svg and "<title" in svg
    assert "<b>" not in svg and "&lt;b&gt;" in svg and "T &amp; co" in svg
    a, b = _widths(svg)[:2]
    assert b == pytest.approx(2 * a)
    assert "target 80" in svg


@pytest.mark.parametrize("fn, arg", [(charts.bar_chart, []), (charts.line_chart, []), (charts.waterfall_chart, []),
                                     (charts.funnel_chart, []), (charts.flow_chart, [])])
def test_every_chart_says_no_data_when_empty(fn, arg):
    assert "No data yet" in fn(arg, title="x")


def test_waterfall_ends_with_the_running_total():
    svg = charts.waterfall_chart([("Leads", 100), ("lost", -60), ("lost", -30)], title="w")
    assert "End: 10" in svg


def test_flow_chart_draws_forward_ribbons_and_counts_loops_it_leaves_to_the_table():
    svg = charts.flow_chart([("a", "b", 5), ("b", "c", 3), ("c", "a", 1)], title="f")
    assert svg.count("<path") == 2
    assert "a → b: 5" in svg and "1 back-and-forth relation listed" in svg


def test_line_chart_plots_target_dashed():
    svg = charts.line_chart([("w1", 1), ("w2", 3)], title="l", target=[("w1", 2), ("w2", 4)])
    assert "stroke-dasharray" in svg and svg.count("<circle") == 2


@pytest.mark.parametrize("value, text", [(1234567, "$1.23M"), (45600, "$45.6k"), (980, "$980"), (None, "—"),
                                         (-20000, "−$20.0k")])
def test_money_formats_with_unit(value, text):
    assert formatting.money(value) == text


def test_percent_and_days_carry_units():
    assert formatting.pct(0.256) == "25.6 %"
    assert formatting.days(2.5) == "2.5 d"
    assert formatting.hours(50) == "2.1 d"


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
