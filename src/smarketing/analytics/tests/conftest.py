"""The analytics tests' Spark standalone cluster: started once per session, only by the tests that ask for it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from smarketing.analytics.tests.spark_cluster import SparkCluster, cluster_session, standalone_cluster


@pytest.fixture(scope="session")
def spark_cluster() -> Iterator[SparkCluster]:
    """A master and one worker on the loopback for the whole session, stopped at its end (also on failure)."""
    from django.db import connection

    # `make test` runs the SQLite and PostgreSQL suites side by side: the cluster runs once, in the SQLite run.
    if connection.vendor != "sqlite":
        pytest.skip("the Spark standalone cluster runs in the SQLite suite (once per `make test`)")
    with standalone_cluster() as cluster:
        yield cluster


@pytest.fixture
def spark_on_cluster(spark_cluster: SparkCluster) -> Iterator[Any]:
    """The product's Spark engine runs on the standalone cluster for this test (the process's one session is
    swapped for a driver on the cluster, and dropped afterwards so later tests start their own)."""
    from smarketing.analytics import engine

    with engine._spark_lock:
        if engine._spark_session is not None:
            engine._spark_session.stop()
        session = cluster_session(spark_cluster)
        engine._spark_session = session
    try:
        yield session
    finally:
        with engine._spark_lock:
            session.stop()
            engine._spark_session = None
