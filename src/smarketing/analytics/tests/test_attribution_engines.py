"""Attribution and ROI give identical results on DuckDB, PostgreSQL and Spark over the same application data."""

from __future__ import annotations

import pytest
from django.db import connection

from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.attribution import AttributionQuery
from smarketing.analytics.queries.attribution_opportunity import OpportunityAttributionQuery
from smarketing.analytics.queries.roi import RoiQuery
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_attribution_api import deal_world  # noqa: F401  (fixture)

SPECS: list[AttributionQuery | RoiQuery] = [
    AttributionQuery.model_validate(spec) for spec in (
        {"model": "linear", "level": "account", "credit": "pipeline"},
        {"model": "markov", "order": 2},
        {"model": "shapley", "level": "account", "conversion": "opportunity_won", "credit": "revenue"},
        {"model": "w_shaped", "level": "account"},
        {"model": "time_decay", "half_life_days": 2, "conversion": "mql", "window_days": 30},
        {"model": "custom", "weights": (0.5, 0.2, 0.3), "level": "account", "start": "2026-01-15"},
    )
]
SPECS += [RoiQuery.model_validate(spec) for spec in (
    {"model": "markov", "level": "account"},
    # DuckDB reads the MQLs and SQLs of a period off each subject's kept first arrival; the others query them.
    {"model": "w_shaped", "start": "2026-01-02", "end": "2026-03-31", "timezone": "America/New_York"},
    {"model": "shapley", "window_days": 20},
)]


def _results(engine_name: str, deal_id: int, specs: list | None = None) -> list[dict]:
    specs = SPECS if specs is None else specs
    with open_engine(engine_name) as engine:  # type: ignore[arg-type]
        deal = OpportunityAttributionQuery.model_validate({"opportunity_id": deal_id, "model": "full_path",
                                                           "level": "account"})
        specs = [*specs, deal]
        return [run_query(spec, engine=engine).model_dump(mode="json") for spec in specs]


@pytest.mark.django_db
def test_duckdb_and_postgresql_agree_on_attribution(deal_world):  # noqa: F811
    duck = _results("duckdb", deal_world["deal"].pk)
    assert duck[0]["total_value"] == 1000.0
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine runs when the application database is PostgreSQL")
    assert _results("postgres", deal_world["deal"].pk) == duck


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.django_db
def test_spark_agrees_with_duckdb_on_attribution(deal_world):  # noqa: F811
    # Spark jobs are slow to start, so Spark runs the attribution specs (ROI reuses the same journeys).
    deal, specs = deal_world["deal"].pk, [SPECS[1], SPECS[2], SPECS[4]]
    assert _results("spark", deal, specs) == _results("duckdb", deal, specs)
