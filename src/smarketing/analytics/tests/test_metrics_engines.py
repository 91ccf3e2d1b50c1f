"""Every measure, and the records behind it, is the same on DuckDB and PostgreSQL (and Spark, when asked)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from smarketing.analytics.engine import open_engine
from smarketing.analytics.metrics import MeasureRecordsQuery, MetricsQuery
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401  (the shared fixture)
from smarketing.core import clock

SPECS = [
    MetricsQuery(period="2026"),
    MetricsQuery(period="2026-Q1"),
    MetricsQuery(period="2026-02", filters={"source": ["webinar", "referral"], "segment": ["enterprise", "smb"]}),
    MetricsQuery(period="2026-01-01..2026-03-31", filters={"campaign": ["Summit"], "country": ["(none)"]}),
    MeasureRecordsQuery(name="mqls_entered", period="2026", limit=5, offset=2),
    MeasureRecordsQuery(name="cohort_reached_customer", period="2026-Q1", filters={"source": ["webinar"]}),
    MeasureRecordsQuery(name="win_rate", period="2026"),
    MeasureRecordsQuery(name="touchpoints_recorded", period="2026-Q1", filters={"owner": ["(none)"]}),
]


def _results(engine_name: str, specs: list = SPECS) -> list[dict]:
    clock.freeze(datetime(2026, 11, 20, 15, tzinfo=UTC))
    try:
        with open_engine(engine_name) as engine:  # type: ignore[arg-type]
            return [run_query(spec, engine=engine).model_dump(mode="json") for spec in specs]
    finally:
        clock.freeze(None)


@pytest.mark.django_db
def test_duckdb_and_postgresql_agree_on_every_measure(company):  # noqa: F811
    duck = _results("duckdb")
    year = {m["name"]: m["value"] for m in duck[0]["measures"]}
    # the figures are not trivially empty, so agreeing on them means something
    assert year["mqls_entered"] > 0 and year["cohort_entered"] == 12 and 0 < year["win_rate"] < 1
    filtered = {m["name"]: m["value"] for m in duck[2]["measures"]}
    assert filtered["mqls_entered"] is not None and duck[4]["total"] == year["mqls_entered"]
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine runs when the application database is PostgreSQL")
    assert _results("postgres") == duck


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.django_db
def test_spark_agrees_with_duckdb_on_the_measures(company):  # noqa: F811
    # Spark is slow to start and to plan, so it runs every measure once, filtered, and one records list.
    specs = [SPECS[2], SPECS[5]]
    assert _results("spark", specs) == _results("duckdb", specs)
