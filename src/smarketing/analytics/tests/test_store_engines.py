"""DuckDB reading the history store answers exactly what it answers reading the tables (and what PostgreSQL
answers in the database), and says as of when."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import connection

from smarketing.analytics.engine import open_engine
from smarketing.analytics.registry import run_query
from smarketing.analytics.store.layout import configured_lake, manifest_read
from smarketing.analytics.tests.test_engines_agree import SPECS, company  # noqa: F401 - the shared fixture


@pytest.fixture
def lake(settings, tmp_path):
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    return configured_lake()


def _results(settings, store: str, engine: str = "duckdb") -> list[dict]:
    settings.SMARKETING = {**settings.SMARKETING, "ANALYTICS_STORE": store}
    with open_engine(engine) as eng:  # type: ignore[arg-type]
        assert (eng.store is not None) == (store == "lake" and engine == "duckdb")
        return [run_query(spec, engine=eng).model_dump(mode="json", exclude={"kernel", "data_as_of"})
                for spec in SPECS]


@pytest.mark.django_db(transaction=True)
def test_duckdb_on_the_store_agrees_with_the_tables(company, lake, settings):  # noqa: F811
    # given the company's history, when DuckDB reads it from the store and from the tables
    on_store = _results(settings, "lake")
    live = _results(settings, "live")
    # then every query agrees, and the answers are not trivially empty
    assert on_store == live
    assert on_store[0]["total"]["entered"] == 12 and on_store[8]["subjects"] == 12
    # and the store was filled by the engine's own catch-up before the first query
    assert manifest_read(lake, "stage_changes").rows > 12 and manifest_read(lake, "touchpoints").rows == 24
    if connection.vendor == "postgresql":
        assert _results(settings, "lake", "postgres") == on_store


@pytest.mark.django_db(transaction=True)
def test_results_from_the_store_say_as_of_when(company, lake, settings):  # noqa: F811
    before = datetime.now(UTC)
    result = run_query(SPECS[0])
    assert result.data_as_of is not None and before <= result.data_as_of <= datetime.now(UTC)
    assert "data_as_of" in result.model_dump(mode="json")
    # a result with its own as_of (the metrics' reference moment) keeps it beside the data's
    from smarketing.analytics.metrics.query import MetricsQuery

    metrics = run_query(MetricsQuery(period="2026-Q4"))
    assert metrics.data_as_of is not None and metrics.as_of != metrics.data_as_of  # type: ignore[attr-defined]
    # read live (inside a transaction, or with the store switched off), a result has no as-of stamp
    settings.SMARKETING = {**settings.SMARKETING, "ANALYTICS_STORE": "live"}
    assert "data_as_of" not in run_query(SPECS[0]).model_dump(mode="json")


@pytest.mark.django_db
def test_inside_a_transaction_duckdb_reads_the_tables(company, lake):  # noqa: F811
    # the test's rows are not committed: the store's own connection could not see them, so the engine reads live
    with open_engine("duckdb") as eng:
        assert eng.store is None
        assert run_query(SPECS[0], engine=eng).total.entered == 12  # type: ignore[attr-defined]
