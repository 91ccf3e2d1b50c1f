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


def test_funnel_goals_and_journeys_agree_on_the_cluster(spark_on_cluster, company):  # noqa: F811
    specs = test_engines_agree.SPECS
    chosen = [specs[1], specs[5], specs[7], specs[8]]
    assert test_engines_agree._results("spark", chosen) == test_engines_agree._results("duckdb", chosen)


def test_attribution_and_roi_agree_on_the_cluster(spark_on_cluster, deal_world):  # noqa: F811
    specs = test_attribution_engines.SPECS
    chosen = [specs[1], specs[2], specs[6]]
    deal = deal_world["deal"].pk
    assert (test_attribution_engines._results("spark", deal, chosen)
            == test_attribution_engines._results("duckdb", deal, chosen))

