"""Measures on small hand-written histories: values per period and filters, New York period bounds, and the
records behind each figure adding up to it."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smarketing.analytics.builders import build_journeys
from smarketing.analytics.engine import open_engine
from smarketing.analytics.metrics import (
    MEASURES,
    MeasureRecordsQuery,
    MetricsQuery,
    measure_get,
    reporting_period,
    run_measure_records,
    run_metrics,
)
from smarketing.analytics.registry import get_kind, parse_spec
from smarketing.core import clock
from smarketing.core.errors import ValidationFailed

# ada: MQL at 03:00 UTC on 1 Oct = 23:00 on 30 Sep in New York → September
# bob: lead in October, MQL, recycled, MQL again in November (two entries)
# cy:  enters as MQL in November; a 700 deal opened 20 Nov, won 1 Dec
# dee: lead at 04:00 UTC on 1 Jan 2027 = 23:00 on 31 Dec in New York → Q4 2026
PEOPLE = {
    "ada": {"source": "webinar", "account": "acme", "owner": 7, "events": [
        ("2026-09-20", "stage:lead"), ("2026-10-01T03:00:00Z", "stage:mql"), ("2026-10-10", "stage:sql"),
        ("2026-10-02", "email_open", {"campaign": "Nurture", "channel": "email"})]},
    "bob": {"source": "webinar", "account": "acme", "events": [
        ("2026-10-02", "stage:lead"), ("2026-10-05", "stage:mql"), ("2026-10-20", "stage:recycled"),
        ("2026-11-02", "stage:mql"), ("2026-10-03", "webinar_attended", {"campaign": "Webinar", "channel": "webinar"})]},
    "cy": {"source": "ads", "account": "beta", "events": [("2026-11-15", "stage:mql")],
           "deals": [{"amount": 700, "outcome": "won", "opened": "2026-11-20", "closed": "2026-12-01", "owner": 7}]},
    "dee": {"source": "", "account": "beta", "events": [("2027-01-01T04:00:00Z", "stage:lead")],
            "deals": [{"amount": 300, "outcome": "lost", "opened": "2026-12-02", "closed": "2026-12-20", "owner": 8}]},
}
ACCOUNTS = {"acme": {"segment": "enterprise"}, "beta": {"segment": "smb"}}
NOW = datetime(2026, 12, 5, 12, tzinfo=UTC)


@pytest.fixture
def engine(active_playbook):
    clock.freeze(NOW)
    with open_engine("duckdb", frames=build_journeys(PEOPLE, ACCOUNTS)) as eng:
        yield eng
    clock.freeze(None)


def _values(engine, period: str, filters: dict | None = None, names: list[str] | None = None) -> dict:
    result = run_metrics(engine, MetricsQuery(period=period, filters=filters or {}, names=names or []))
    return {m.name: m.value for m in result.measures}


def test_reporting_periods_are_new_york_midnights():
    q4 = reporting_period("2026-Q4", tz="America/New_York")
    assert (q4.start, q4.end) == (datetime(2026, 10, 1, 4, tzinfo=UTC), datetime(2027, 1, 1, 5, tzinfo=UTC))
    assert q4.label == "Q4 2026" and q4.months == ["2026-10", "2026-11", "2026-12"]
    assert reporting_period("2026-11", tz="UTC").end == datetime(2026, 12, 1, tzinfo=UTC)
    span = reporting_period("2026-10-01..2026-12-31", tz="America/New_York")
    assert (span.start, span.end) == (q4.start, q4.end)
    assert q4.previous().key == "2026-Q3" and reporting_period("2026-01", tz="UTC").previous().key == "2025-12"
    last = reporting_period("last-30d", tz="UTC", now=NOW)
    assert (last.end - last.start).days == 30 and last.end == NOW
    assert q4.elapsed_fraction(NOW) == pytest.approx((NOW - q4.start) / (q4.end - q4.start))
    before = last.previous()
    assert (before.start, before.end) == (last.start - (last.end - last.start), last.start)
    again = reporting_period(before.key, tz="UTC", now=NOW)
    assert (again.start, again.end) == (before.start, before.end)


@pytest.mark.parametrize("key", ["2026-13", "2026-Q5", "Q4", "last-0d", "2026-12-01..2026-11-01", "2026-02-30..2026-03-01"])
def test_a_bad_period_names_the_period_field(key):
    with pytest.raises(ValidationFailed) as err:
        reporting_period(key, tz="UTC")
    assert err.value.field == "period"


def test_lifecycle_entries_count_every_entry_in_new_york_quarters(engine):
    q4 = _values(engine, "2026-Q4")
    assert (q4["leads_created"], q4["mqls_entered"], q4["sqls_entered"], q4["recycled_entered"]) == (2, 3, 1, 1)
    sep = _values(engine, "2026-09", names=["mqls_entered", "leads_created"])
    assert sep == {"mqls_entered": 1, "leads_created": 1}


def test_filters_follow_the_funnel_rules(engine):
    webinar = _values(engine, "2026-Q4", {"source": ["webinar"]})
    assert (webinar["leads_created"], webinar["mqls_entered"]) == (1, 2)
    assert _values(engine, "2026-Q4", {"source": ["(none)"]})["leads_created"] == 1  # dee has no source
    both = _values(engine, "2026-Q4", {"source": ["webinar", "ads"], "segment": ["smb"]})
    assert both["mqls_entered"] == 1  # cy only: sources ORed, segment ANDed
    assert _values(engine, "2026-Q4", {"campaign": ["Webinar"]})["mqls_entered"] == 2  # bob's first touch


def test_opportunity_measures(engine):
    q4 = _values(engine, "2026-Q4")
    assert (q4["opportunities_opened"], q4["pipeline_opened"], q4["deals_won"], q4["revenue_won"]) == (2, 1000, 1, 700)
    assert (q4["deals_lost"], q4["win_rate"]) == (1, 0.5)
    assert _values(engine, "2026-Q4", {"segment": ["smb"], "source": ["ads"]})["win_rate"] == 1.0


def test_opportunity_measures_by_owner_are_by_the_deals_owner(engine):
    # given cy's deal carried by rep 7 (cy's contact has no owner) and dee's by rep 8, while ada's contact is rep 7's
    names = ["opportunities_opened", "deals_won", "deals_lost", "win_rate", "sqls_entered"]
    seven = _values(engine, "2026-Q4", {"owner": ["7"]}, names)
    eight = _values(engine, "2026-Q4", {"owner": ["8"]}, names)
    # then "by owner" reads the deal's owner for opportunity measures and the contact's for contact measures
    assert (seven["opportunities_opened"], seven["deals_won"], seven["deals_lost"], seven["win_rate"]) == (1, 1, 0, 1.0)
    assert (eight["opportunities_opened"], eight["deals_won"], eight["deals_lost"], eight["win_rate"]) == (1, 0, 1, 0.0)
    assert seven["sqls_entered"] == 1  # ada (SQL on 10 Oct), whose contact rep 7 owns
    assert _values(engine, "2026-Q4", {"owner": ["(none)"]}, ["opportunities_opened"])["opportunities_opened"] == 0
    # and the other filters still apply to the deal's primary contact
    assert _values(engine, "2026-Q4", {"owner": ["7"], "source": ["webinar"]}, ["deals_won"])["deals_won"] == 0


def test_funnel_cohort_is_the_contacts_entering_in_the_period(engine):
    q4 = _values(engine, "2026-Q4")
    # bob (lead 2 Oct), cy (MQL 15 Nov) and dee (lead 31 Dec in New York); ada entered in September
    assert (q4["cohort_entered"], q4["cohort_reached_mql"], q4["cohort_reached_sql"]) == (3, 2, 0)
    # and every stage of the cohort, SAL included, is the funnel query's step for the same local days
    funnel = get_kind("funnel").run(engine, parse_spec("funnel", {
        "from_stage": "lead", "to_stage": "customer", "start": "2026-10-01", "end": "2026-12-31",
        "timezone": "America/New_York"}))
    reached = {step.stage: step.reached for step in funnel.total.steps}
    assert [q4[f"cohort_reached_{s}"] for s in ("mql", "sal", "sql", "opportunity", "customer")] == [
        reached[s] for s in ("mql", "sal", "sql", "opportunity", "customer")]
    assert q4["cohort_reached_mql"] >= q4["cohort_reached_sal"] >= q4["cohort_reached_sql"]


def test_records_are_exactly_the_rows_counted(engine):
    result = run_metrics(engine, MetricsQuery(period="2026-Q4"))
    for name, measure in MEASURES.items():
        if measure.records == "none" or measure.records == "feedback" or measure.grain == "sla clock":
            continue
        if measure.unit in ("percent", "number"):  # a ratio of two sums; its records are the numerator's deals
            continue
        records = run_measure_records(engine, MeasureRecordsQuery(name=name, period="2026-Q4", limit=500))
        value = result.get(name)
        counted = value.numerator if measure.unit == "ratio" else value.value
        if measure.unit == "money":
            assert sum(r.amount for r in records.items) == pytest.approx(counted, abs=1e-6), name
        else:
            assert records.total == counted == len(records.items), name
    mqls = run_measure_records(engine, MeasureRecordsQuery(name="mqls_entered", period="2026-Q4"))
    assert [r.id for r in mqls.items] == [2, 2, 3]  # bob twice, then cy, oldest first
    paged = run_measure_records(engine, MeasureRecordsQuery(name="mqls_entered", period="2026-Q4", offset=1, limit=1))
    assert (paged.total, [r.id for r in paged.items]) == (3, [2])


def test_unknown_names_and_refused_filters_are_named():
    with pytest.raises(ValidationFailed) as err:
        measure_get("mqls")
    assert err.value.field == "name" and "mqls_entered" in err.value.message
    with pytest.raises(ValidationFailed) as err:
        parse_spec("metrics", {"period": "2026-Q4", "names": ["first_touch_within_sla"],
                               "filters": {"source": ["webinar"]}})
    assert err.value.field == "filters.source"
    with pytest.raises(ValidationFailed) as err:
        parse_spec("metrics", {"period": "2026-Q4", "filters": {"industry": ["saas"]}})
    assert err.value.field == "filters.industry"
    assert get_kind("metrics").spec is MetricsQuery
    with pytest.raises(ValidationFailed) as err:
        parse_spec("measure_records", {"name": "mqls_entered", "period": "2026-Q9"})
    assert err.value.field == "period"


def test_all_measures_with_a_filter_say_which_cannot_take_it(engine):
    result = run_metrics(engine, MetricsQuery(period="2026-Q4", filters={"source": ["webinar"]}))
    sla = result.get("first_touch_within_sla")
    assert sla.value is None and "cannot be filtered by source" in sla.note and sla.filters == []
    assert result.get("mqls_entered").filters == ["source", "segment", "owner", "country", "campaign"]


def test_the_funnel_query_in_the_reporting_time_zone_is_the_cohort_measure(engine):
    from datetime import date

    from smarketing.analytics.queries.funnel import FunnelQuery, run_funnel

    days = {"from_stage": "lead", "to_stage": "customer", "start": date(2026, 10, 1), "end": date(2026, 12, 31)}
    new_york = run_funnel(engine, FunnelQuery(**days, timezone="America/New_York"))
    assert new_york.total.entered == _values(engine, "2026-Q4", names=["cohort_entered"])["cohort_entered"] == 3
    # in UTC days dee's lead (04:00 UTC on 1 January) falls outside Q4
    assert run_funnel(engine, FunnelQuery(**days)).total.entered == 2
    with pytest.raises(ValidationFailed) as err:
        FunnelQuery(**days, timezone="Mars/Olympus")
    assert err.value.field == "timezone"


def test_without_a_playbook_the_measures_run_in_a_given_zone_and_the_target_is_none(db):
    # given no active playbook: the period's zone is given, and no MQL commitment has been agreed
    with open_engine("duckdb", frames=build_journeys(PEOPLE, ACCOUNTS)) as engine:
        result = run_metrics(engine, MetricsQuery(period="2026-09", timezone="America/New_York",
                                                  names=["mqls_entered", "mql_volume_target_to_date"]))
    assert (result.get("mqls_entered").value, result.get("mql_volume_target_to_date").value) == (1, None)
