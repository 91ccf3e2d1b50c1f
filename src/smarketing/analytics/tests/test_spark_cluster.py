"""The engines-agree suite's Spark cases on a real standalone cluster (a master and a worker started by the tests)."""

from __future__ import annotations

import pytest

from smarketing.analytics.tests import test_attribution_engines, test_engines_agree
from smarketing.analytics.tests.test_attribution_api import deal_world  # noqa: F401  (fixture)
from smarketing.analytics.tests.test_engines_agree import company  # noqa: F401  (fixture)

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.django_db]


def test_the_worker_registers_on_the_loopback_and_the_driver_runs_there(spark_cluster, spark_on_cluster):
    # Given the cluster, when the driver runs a job, then it ran on the standalone worker bound to 127.0.0.1
    workers = spark_cluster.alive_workers()
    assert [w["host"] for w in workers] == ["127.0.0.1"] and workers[0]["cores"] == 1
    assert spark_on_cluster.sparkContext.master == spark_cluster.master_url
    assert spark_on_cluster.range(1000).selectExpr("sum(id) AS s").collect()[0]["s"] == 499500
    apps = spark_cluster.status()["activeapps"]
    assert [a["name"] for a in apps] == ["smarketing-tests"]
    assert spark_on_cluster.conf.get("spark.driver.host") == "127.0.0.1"


def test_attribution_and_roi_agree_on_the_cluster(spark_on_cluster, deal_world):  # noqa: F811
    specs = test_attribution_engines.SPECS
    chosen = [specs[1], specs[6]]  # Markov order 2 and ROI (transition and path counts in Spark)
    deal = deal_world["deal"].pk
    assert (test_attribution_engines._results("spark", deal, chosen)
            == test_attribution_engines._results("duckdb", deal, chosen))



@pytest.fixture
def lake(settings, tmp_path):
    from smarketing.analytics.store.layout import configured_lake

    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    return configured_lake()


@pytest.mark.django_db(transaction=True)
def test_spark_on_the_cluster_reads_the_store_and_agrees(spark_on_cluster, company, lake, settings):  # noqa: F811
    # Given the company's history mirrored into the lake (the engine catches it up), when Spark on the cluster
    # answers from the lake's Parquet and DuckDB answers from the same files
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.registry import run_query

    specs = test_engines_agree.SPECS
    chosen = [specs[1], specs[5], specs[7], specs[8], specs[9]]
    answers = {}
    for name in ("spark", "duckdb"):
        with open_engine(name) as engine:  # type: ignore[arg-type]
            assert engine.store is not None
            answers[name] = [run_query(spec, engine=engine).model_dump(mode="json", exclude={"kernel", "data_as_of"})
                             for spec in chosen]
            if name == "spark":
                # the executors scan the Parquet files themselves: no table was sent from the driver
                engine.table("touchpoints")
                view = spark_on_cluster.table(f"smk_touchpoints_{id(engine)}")
                explained = view._jdf.queryExecution().executedPlan().toString()
                assert "FileScan parquet" in explained and "LocalTableScan" not in explained
    # then the three-way engines agree exactly, and the answers are not empty
    assert answers["spark"] == answers["duckdb"]
    assert answers["duckdb"][3]["subjects"] == 12
