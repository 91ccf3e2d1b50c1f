"""`warm.preload()` loads what the analytics commands load on their first run, in a process that will fork: it
leaves no connection and no thread behind, and the commands' modules, kernels and compiled queries are ready."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from smarketing.analytics.tests.test_attribution_api import deal_world  # noqa: F401  (fixture)

PRELOAD_THEN_REPORT = """
import json, sys, threading
import django
django.setup()
from django.db import connection
from smarketing.analytics import engine, kernels, paths, warm

warm.preload()
import gc
duckdb_connections = sum(type(o).__name__ == "DuckDBPyConnection" for o in gc.get_objects())
report = {
    "threads": [t.name for t in threading.enumerate()],
    "django_connected": connection.connection is not None,
    "duckdb_connections": duckdb_connections,
    "compiled_queries": len(engine._COMPILED),
    "modules": sorted(m for m in ("smarketing.analytics.queries.roi", "smarketing.analytics.queries.journeys",
                                  "smarketing.analytics.queries.funnel", "smarketing.analytics.metrics",
                                  "ibis.backends.duckdb", "scipy.linalg") if m in sys.modules),
    # Every kernel signature this machine's cache holds is loaded already: a second pass finds none to load.
    "left_to_load": sum(warm.load_cached_kernels(m) for m in (kernels.loops, kernels.rules, kernels.markov,
                                                               kernels.shapley, kernels.journeys, kernels.paths,
                                                               paths)),
}
print(json.dumps(report))
"""


def test_preload_loads_the_commands_modules_and_leaves_no_connection_or_thread(tmp_path: Path) -> None:
    # Given a fresh process with Django set up
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(DJANGO_SETTINGS_MODULE="smarketing.settings.test", SMARKETING_DATA_DIR=str(tmp_path))
    # When it preloads the analytics
    done = subprocess.run([sys.executable, "-c", PRELOAD_THEN_REPORT], env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    # Then the query modules, the DuckDB backend and the solver are imported, every cached kernel is loaded ...
    assert report["modules"] == ["ibis.backends.duckdb", "scipy.linalg", "smarketing.analytics.metrics",
                                 "smarketing.analytics.queries.funnel", "smarketing.analytics.queries.journeys",
                                 "smarketing.analytics.queries.roi"]
    assert report["left_to_load"] == 0
    # ... and the commands' queries are compiled, ready for a forked command to run
    assert report["compiled_queries"] >= 10
    # ... and nothing a fork must not inherit is left: no thread but the main one, no database connection
    assert report["threads"] == ["MainThread"]
    assert report["django_connected"] is False
    assert report["duckdb_connections"] == 0


def test_the_compile_run_runs_every_model_at_both_levels_their_roi_and_the_journeys(deal_world):  # noqa: F811
    # Given a company with deals and touches
    from smarketing.analytics.enums import AttributionModel
    from smarketing.analytics.warm import compile_kernels

    # When the worker's compile run goes through every command once (so each kernel is compiled on a fresh install)
    done = compile_kernels()
    # Then each model ran at both levels and for the ROI, and the journeys ran, each without an error
    expected = {f"{kind}:{model.value}:{level}" for model in AttributionModel
                for kind, level in (("attribution", "contact"), ("attribution", "account"), ("roi", "contact"))}
    assert set(done["runs"]) == expected | {"journeys"} and len(done["runs"]) == len(expected) + 1
