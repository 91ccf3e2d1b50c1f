"""Funnel numbers on small hand-written journeys (declarative builders), and bad specs named by field."""

from __future__ import annotations

import pytest

from smarketing.analytics.builders import build_journeys
from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.funnel import (
    FunnelQuery,
    describe_filters,
    filters_from_terms,
    run_funnel,
)
from smarketing.analytics.registry import parse_spec
from smarketing.core.errors import ValidationFailed

# ada: lead 01-01, mql 01-03, sql 01-13, customer 02-12 (won 5000); two touches (Webinar campaign first)
# bob: lead 01-01, mql 01-05, then nothing
# cy:  mql 02-01 (entered as mql), sql 02-04, opportunity 02-06 (open 700)
# dee: lead 01-10, customer 03-01 directly (skips every stage; won 100)
PEOPLE = {
    "ada": {"source": "webinar", "account": "acme", "owner": 7, "events": [
        ("2026-01-01", "stage:lead"), ("2026-01-02", "webinar_attended", {"campaign": "Webinar", "channel": "webinar"}),
        ("2026-01-03", "stage:mql"), ("2026-01-05", "email_open", {"campaign": "Nurture", "channel": "email"}),
        ("2026-01-13", "stage:sql"), ("2026-02-12", "stage:customer")],
        "deals": [{"amount": 5000, "outcome": "won", "opened": "2026-01-20", "closed": "2026-02-12"}]},
    "bob": {"source": "webinar", "account": "acme", "events": [
        ("2026-01-01", "stage:lead"), ("2026-01-01", "email_open", {"campaign": "Nurture", "channel": "email"}),
        ("2026-01-05", "stage:mql")]},
    "cy": {"source": "ads", "account": "beta", "events": [
        ("2026-02-01", "stage:mql"), ("2026-02-04", "stage:sql"), ("2026-02-06", "stage:opportunity")],
        "deals": [{"amount": 700, "outcome": "open", "opened": "2026-02-06"}]},
    "dee": {"source": "", "account": "beta", "events": [("2026-01-10", "stage:lead"), ("2026-03-01", "stage:customer")],
            "deals": [{"amount": 100, "outcome": "won", "opened": "2026-02-01", "closed": "2026-03-01"}]},
}
ACCOUNTS = {"acme": {"segment": "enterprise"}, "beta": {"segment": "smb"}}


@pytest.fixture(scope="module")
def engine():
    with open_engine("duckdb", frames=build_journeys(PEOPLE, ACCOUNTS)) as eng:
        yield eng


def test_mql_to_customer_volume_conversion_velocity_and_value(engine):
    # when the funnel runs from MQL to customer
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer"))
    t = r.total
    # then all four entered MQL (dee by skipping, on 03-01), ada and dee converted
    assert (t.entered, t.converted, t.conversion_rate) == (4, 2, 0.5)
    # ada took 40 days (01-03 → 02-12), dee 0 days (entered on conversion)
    assert (t.median_days_to_convert, t.mean_days_to_convert) == (20.0, 20.0)
    # time in MQL until the next change: ada 10, cy 3 (bob and dee have none after entering)
    assert (t.median_days_in_stage, t.mean_days_in_stage) == (6.5, 6.5)
    assert (t.pipeline_value, t.won_value) == (5100.0, 5100.0)
    assert t.outcomes == {"won": 2, "lost": 0, "open": 1, "none": 1}
    assert r.stages == ["mql", "sal", "sql", "opportunity", "customer"]
    assert [s.reached for s in t.steps] == [4, 3, 3, 3, 2]
    sql = t.steps[2]
    assert (sql.conversion_from_previous, sql.conversion_from_start) == (1.0, 0.75)
    # SAL is skipped by everyone, so it is reached at the same moment as SQL: ada 10, cy 3, dee 0 days after MQL
    assert t.steps[1].median_days_from_previous == 3.0
    # ada has no opportunity change, so she reaches "opportunity or later" on 02-12: 30 days after SQL; cy 2; dee 0
    assert (t.steps[3].median_days_from_previous, t.steps[3].mean_days_from_previous) == (2.0, 10.666667)
    assert (t.steps[4].median_days_from_previous, t.steps[4].reached) == (0.0, 2)


@pytest.mark.parametrize(("by", "expected"), [
    ("source", {"webinar": (2, 1), "ads": (1, 0), "(none)": (1, 1)}),
    ("segment", {"enterprise": (2, 1), "smb": (2, 1)}),
    ("campaign", {"Webinar": (1, 1), "Nurture": (1, 0), "(none)": (2, 1)}),
    ("owner", {"7": (1, 1), "(none)": (3, 1)}),
    ("cohort_month", {"2026-01": (2, 1), "2026-02": (1, 0), "2026-03": (1, 1)}),
])
def test_groups_split_entered_and_converted(engine, by, expected):
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", by=by))
    assert {g.key: (g.entered, g.converted) for g in r.groups} == expected
    assert sum(g.entered for g in r.groups) == r.total.entered


def test_conversion_window_drops_slow_conversions(engine):
    # given a 30-day window, ada's 40 days no longer count
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", window_days=30))
    assert (r.total.entered, r.total.converted) == (4, 1)
    assert r.total.median_days_to_convert == 0.0
    assert r.total.won_value == 100.0


def test_date_range_limits_the_cohort_by_entry(engine):
    r = run_funnel(engine, FunnelQuery(from_stage="lead", to_stage="mql", start="2026-01-01", end="2026-01-05"))
    # ada and bob entered lead on 01-01; dee on 01-10 is outside; cy entered (as mql) on 02-01
    assert (r.total.entered, r.total.converted) == (2, 2)
    assert r.total.median_days_to_convert == 3.0


def test_account_level_rolls_up_contact_changes(engine):
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", level="account", by="segment"))
    # acme reached MQL on 01-03 (ada) and customer on 02-12; beta reached MQL 02-01 (cy), customer 03-01 (dee)
    assert {g.key: (g.entered, g.converted, g.median_days_to_convert) for g in r.groups} == {
        "enterprise": (1, 1, 40.0), "smb": (1, 1, 28.0)}


def test_empty_cohort_gives_zeros_not_errors(engine):
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="sql", start="2030-01-01", end="2030-02-01"))
    assert (r.total.entered, r.total.converted, r.total.conversion_rate) == (0, 0, None)


@pytest.mark.parametrize(("filters", "expected"), [
    ({"source": ["webinar"]}, (2, 1)),                                    # ada, bob
    ({"source": ["webinar", "ads"]}, (3, 1)),                             # values of one field are ORed
    ({"source": ["webinar", "ads"], "segment": ["smb"]}, (1, 0)),         # fields are ANDed: cy
    ({"source": ["(none)"]}, (1, 1)),                                     # dee has no source
    ({"campaign": ["Nurture"]}, (1, 0)),                                  # bob's first touch; ada's was Webinar
    ({"owner": ["7"]}, (1, 1)),
    ({"cohort_month": ["2026-01", "2026-03"]}, (3, 2)),                   # ada, bob; dee entered MQL in March
    ({"source": ["referral"]}, (0, 0)),                                   # nobody: zeros, not an error
])
def test_filters_narrow_the_cohort(engine, filters, expected):
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", filters=filters))
    assert (r.total.entered, r.total.converted) == expected
    assert [s.reached for s in r.total.steps][0] == expected[0]


def test_filters_and_grouping_combine_and_the_result_echoes_the_filters(engine):
    # when the MQL→customer funnel for webinar or ads leads is grouped by owner
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", by="owner",
                                       filters={"source": ["webinar", "ads"]}))
    # then only ada, bob and cy are counted, split by owner
    assert (r.total.entered, r.total.converted, r.total.won_value) == (3, 1, 5000.0)
    assert {g.key: (g.entered, g.converted) for g in r.groups} == {"7": (1, 1), "(none)": (2, 0)}
    assert r.query.filters == {"source": ["ads", "webinar"]}
    assert r.model_dump(mode="json")["query"]["filters"] == {"source": ["ads", "webinar"]}


@pytest.mark.parametrize("field", ["source", "campaign", "segment", "owner", "cohort_month"])
def test_filtering_on_a_group_key_gives_exactly_that_groups_numbers(engine, field):
    # given the funnel grouped by a field
    grouped = run_funnel(engine, FunnelQuery(from_stage="lead", to_stage="customer", by=field))
    for group in grouped.groups:
        # when the funnel is filtered to one group's key
        filtered = run_funnel(engine, FunnelQuery(from_stage="lead", to_stage="customer",
                                                  filters={field: [group.key]}))
        # then its total is that group, step by step
        assert filtered.total.model_dump(exclude={"key"}) == group.model_dump(exclude={"key"}), group.key


def test_account_funnels_filter_on_account_fields(engine):
    r = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", level="account",
                                       filters={"segment": ["enterprise"]}))
    assert (r.total.entered, r.total.converted, r.total.median_days_to_convert) == (1, 1, 40.0)


def test_filters_are_stored_in_one_spelling():
    a = FunnelQuery(from_stage="mql", to_stage="sql", filters={"source": ["webinar", "ads", "webinar"],
                                                               "campaign": ["Guide"]})
    b = FunnelQuery(from_stage="mql", to_stage="sql", filters={"campaign": ["Guide"], "source": ["ads", "webinar"]})
    assert a == b and a.model_dump_json() == b.model_dump_json()
    assert list(a.filters) == ["campaign", "source"]
    assert describe_filters(a.filters) == "campaign = Guide; source in (ads, webinar)"
    assert describe_filters({}) == ""


def test_filter_terms_from_the_edges():
    assert filters_from_terms(["source=webinar", "segment = enterprise", "source=referral", "campaign=A=B"],
                              sep="=", source="--where") == {
        "source": ["webinar", "referral"], "segment": ["enterprise"], "campaign": ["A=B"]}
    assert filters_from_terms(["source:webinar"], sep=":", source="filter") == {"source": ["webinar"]}
    for bad in ("webinar", "=webinar"):
        with pytest.raises(ValidationFailed) as err:
            filters_from_terms([bad], sep="=", source="--where")
        assert err.value.field == "--where" and "source=webinar" in err.value.message


@pytest.mark.parametrize(("filters", "level", "field", "words"), [
    ({"colour": ["red"]}, "contact", "filters.colour", ["'colour'", "'source'", "'cohort_month'", "'country'"]),
    ({"source": ["webinar"]}, "account", "filters.source", ["'source'", "'industry'", "'region'"]),
    ({"source": []}, "contact", "filters.source", ["no values"]),
    ({"source": [""]}, "contact", "filters.source", ["(none)"]),
    ({"cohort_month": ["2026-13"]}, "contact", "filters.cohort_month", ["YYYY-MM"]),
    ({"owner": ["ana"]}, "contact", "filters.owner", ["user id"]),
    ({"source": "webinar"}, "contact", "filters.source", ["list"]),
])
def test_bad_filters_name_the_field_path(filters, level, field, words):
    with pytest.raises(ValidationFailed) as err:
        parse_spec("funnel", {"from_stage": "mql", "to_stage": "sql", "level": level, "filters": filters})
    assert err.value.field == field
    assert all(w in err.value.message for w in words), err.value.message


@pytest.mark.parametrize(("data", "field"), [
    ({"from_stage": "prospect", "to_stage": "customer"}, "from_stage"),
    ({"from_stage": "mql", "to_stage": "won"}, "to_stage"),
    ({"from_stage": "customer", "to_stage": "mql"}, "to_stage"),
    ({"from_stage": "mql", "to_stage": "mql"}, "to_stage"),
    ({"from_stage": "mql", "to_stage": "sql", "start": "2026-02-01", "end": "2026-01-01"}, "end"),
    ({"from_stage": "mql", "to_stage": "sql", "by": "colour"}, "by"),
    ({"from_stage": "mql", "to_stage": "sql", "level": "account", "by": "source"}, "by"),
    ({"from_stage": "mql", "to_stage": "sql", "window_days": -3}, "window_days"),
    ({"from_stage": "mql", "to_stage": "sql", "start": "yesterday"}, "start"),
    ({"from_stage": "mql", "to_stage": "sql", "colour": "red"}, "colour"),
])
def test_bad_specs_name_the_field(data, field):
    with pytest.raises(ValidationFailed) as err:
        parse_spec("funnel", data)
    assert err.value.field == field
    assert err.value.message
