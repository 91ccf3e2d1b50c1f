"""The measures pages: every figure carries its measure and unrounded value, equal to the query kind's, and opens
the records behind it, each linked to its record page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client

from smarketing.analytics.metrics import MeasureRecordsQuery, MetricsQuery
from smarketing.analytics.registry import run_query
from smarketing.core import clock
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import AccountFactory, ContactFactory, OpportunityFactory

FIGURE = re.compile(r'<a class="measure" href="([^"]*)" data-measure="([a-z_]+)" data-value="([^"]*)"')


@pytest.fixture
def history(active_playbook, monkeypatch):
    from smarketing.web.data import common

    monkeypatch.setattr(common, "RUN_INLINE", True)
    common.clear()
    clock.freeze(datetime(2026, 11, 20, 15, tzinfo=UTC))
    account = AccountFactory(segment="smb")
    for i in range(4):
        person = ContactFactory(account=account, lead_source="webinar" if i % 2 else "ads")
        stage_change_record(contact=person, to_stage="lead", occurred_at=datetime(2026, 10, 2 + i, tzinfo=UTC))
        stage_change_record(contact=person, to_stage="mql", occurred_at=datetime(2026, 10, 10 + i, tzinfo=UTC))
        if i == 3:
            OpportunityFactory(account=account, primary_contact=person, amount=1234.5, outcome="won",
                               opened_at=datetime(2026, 10, 20, tzinfo=UTC), closed_at=datetime(2026, 11, 2, tzinfo=UTC))
    yield
    clock.freeze(None)
    common.clear()


@pytest.fixture
def viewer(users) -> Client:
    client = Client()
    client.force_login(users["viewer"])
    return client


def _figures(body: str) -> dict[str, tuple[str, str]]:
    return {name: (href, value) for href, name, value in FIGURE.findall(body)}


@pytest.mark.django_db
@pytest.mark.parametrize("query, filters", [("period=2026-Q4", {}), ("period=2026-10&source=webinar",
                                                                      {"source": ["webinar"]})])
def test_every_figure_on_the_measures_page_equals_the_query_kind(history, viewer, query, filters):
    r = viewer.get(f"/metrics/?{query}")
    assert r.status_code == 200
    figures = _figures(r.content.decode())
    expected = run_query(MetricsQuery(period=query.split("&")[0].removeprefix("period="), filters=filters))
    assert set(figures) == {m.name for m in expected.measures}
    for m in expected.measures:
        href, value = figures[m.name]
        assert (float(value) if value else None) == m.value, m.name
        assert href.startswith(f"/metrics/{m.name}/?period=")


@pytest.mark.django_db
def test_a_figure_opens_its_records_linked_to_their_pages(history, viewer):
    r = viewer.get("/metrics/mqls_entered/?period=2026-Q4&source=webinar")
    assert r.status_code == 200
    body = r.content.decode()
    records = run_query(MeasureRecordsQuery(name="mqls_entered", period="2026-Q4", filters={"source": ["webinar"]}))
    assert records.total == 2 and f'data-total="{records.total}"' in body
    assert float(_figures(body)["mqls_entered"][1]) == records.total
    for item in records.items:
        assert f'href="/contacts/{item.id}/"' in body
    won = viewer.get("/metrics/revenue_won/?period=2026-Q4").content.decode()
    assert _figures(won)["revenue_won"][1] == "1234.5" and "/opportunities/" in won


@pytest.mark.django_db
def test_unknown_measure_is_404_and_a_bad_filter_is_named(history, viewer):
    assert viewer.get("/metrics/nope/?period=2026-Q4").status_code == 404
    r = viewer.get("/metrics/first_touch_within_sla/?period=2026-Q4&source=webinar")
    assert r.status_code == 422 and "filters.source" in r.content.decode()


def test_a_figure_without_a_value_shows_a_dash_and_an_empty_data_value(db):
    from smarketing.analytics.metrics import MeasureValue
    from smarketing.web.templatetags.measures import measure_value

    empty = MeasureValue(name="win_rate", label="Win rate", definition="Won / (won + lost)", basis="events in the period",
                         grain="opportunity", unit="ratio", value=None, numerator=0, denominator=0)
    html = measure_value(empty, "2026-Q4", {"source": ["web inar"]})
    assert 'data-value=""' in html and ">—</a>" in html and 'title="Won / (won + lost)"' in html
    assert 'href="/metrics/win_rate/?period=2026-Q4&amp;source=web+inar"' in html
    money = measure_value(empty.model_copy(update={"unit": "money", "value": 1234567.891}), "2026-Q4")
    assert 'data-value="1234567.891"' in money and ">$1.23M</a>" in money
