"""The period picker: custom ranges with errors by field, the chosen period and filters kept across pages (address
and session) with a reset, and the funnel chart's metric chosen from the data."""

from __future__ import annotations

import re

import pytest

from smarketing.web.data.funnel import chart_metric


def test_a_custom_range_is_the_period_and_its_links_carry_it(world, login):
    html = login("viewer").get("/funnel/", {"from": "2026-10-01", "to": "2026-10-31"}).content.decode()
    assert "1 Oct 2026 – 31 Oct 2026" in html
    assert 'value="2026-10-01"' in html and 'value="2026-10-31"' in html  # the range form shows it back
    assert "/metrics/cohort_entered/?period=2026-10-01..2026-10-31" in html  # figures are for that range


@pytest.mark.parametrize(("given", "field", "says"), [
    ({"from": "2026-10-31", "to": "2026-10-01"}, "to", "before the first day"),
    ({"from": "", "to": "2026-10-01"}, "from", "Enter the first day"),
    ({"from": "2026-02-30", "to": "2026-03-01"}, "from", "Not a date"),
    ({"from": "1850-01-01", "to": "1850-01-02"}, "from", "outside 1970"),
])
def test_a_bad_range_names_its_field_and_keeps_the_period(world, login, given, field, says):
    response = login("viewer").get("/", given)
    html = response.content.decode()
    assert response.status_code == 200
    error = re.search(rf'<p class="field-error" id="period-{field}-error" role="alert">([^<]*)</p>', html)
    assert error and says in error.group(1), html[html.find("period-picker"):][:3000]
    assert f'id="period-{field}" name="{field}"' in html and 'aria-invalid="true"' in html
    assert "Q4 2026" in html  # still this quarter


def test_the_period_and_filters_are_kept_across_pages_until_reset(world, login):
    client = login("viewer")
    # given a period, the comparison and a filter chosen on the funnel
    client.get("/funnel/", {"period": "2026-10", "compare": "prev", "source": "webinar"})
    # when the scoreboard is opened without any of them
    home = client.get("/").content.decode()
    # then it shows that period compared, and the navigation carries all of it
    assert "October 2026" in home and "compared with September 2026" in home
    assert 'href="/funnel/?period=2026-10&amp;compare=prev&amp;source=webinar"' in home
    # and the funnel opened from nowhere keeps the filter
    assert '<option value="webinar" selected>' in client.get("/funnel/").content.decode()
    # and a period chosen in the address replaces the remembered one (no filter there: none kept)
    assert "year 2025" in client.get("/campaigns/", {"period": "2025"}).content.decode()
    assert 'href="/funnel/?period=2025&amp;compare=prev"' in client.get("/goals/").content.decode()
    # and a filter the funnel refuses is explained there but never remembered
    assert client.get("/funnel/", {"period": "2025", "owner": "ana"}).status_code == 422
    assert "owner=ana" not in client.get("/goals/").content.decode()
    # when the reset link is followed
    reset = client.get("/period/reset/", {"next": "/campaigns/?period=2024"})
    assert reset.status_code == 302 and reset["Location"] == "/campaigns/"
    # then pages open on this quarter, without comparison or filters, and the navigation carries only that
    home = client.get("/").content.decode()
    assert "compared with" not in home and 'href="/funnel/?period=2026-Q4"' in home
    # and the reset never leaves the site
    assert client.get("/period/reset/", {"next": "https://example.com/"})["Location"] == "/"


def test_the_funnel_chart_defaults_to_a_conversion_that_is_not_zero_everywhere():
    rows = [{"mql_to_sql": 0.0, "mql_to_sal": 0.0, "lead_to_mql": 0.4, "lead_to_customer": 0.0, "contacts": 5},
            {"mql_to_sql": None, "mql_to_sal": 0.0, "lead_to_mql": 0.2, "lead_to_customer": 0.0, "contacts": 3}]
    assert chart_metric(rows, None) == "lead_to_mql"
    assert chart_metric([{**rows[0], "mql_to_sql": 0.5}], None) == "mql_to_sql"
    assert chart_metric(rows, "won_value") == "won_value" and chart_metric(rows, "bogus") == "lead_to_mql"
    assert chart_metric([{"contacts": 0}], None) == "contacts"


def test_the_funnel_chart_metric_is_chosen_in_the_address(world, login):
    html = login("viewer").get("/funnel/", {"period": "2026-Q4", "metric": "days_to_mql"}).content.decode()
    assert '<option value="days_to_mql" selected>' in html and "Median days from lead to MQL (velocity) by" in html
