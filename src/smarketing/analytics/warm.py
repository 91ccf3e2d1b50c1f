"""Everything the analytics commands load on their first run, loaded ahead: for a process that forks a child per
command (the command service), so each child starts where a second run in one process would.

`preload()` imports the query kinds, the kernels and the libraries they import inside their functions, loads the
Ibis DuckDB backend and its SQL compilers, compiles each command's expressions once (over unbound tables, so
nothing is read), and loads every Numba kernel this machine has compiled before from Numba's cache. It opens no
connection (DuckDB or Django) and starts no thread: a fork after it must not inherit either.
"""

from __future__ import annotations

from typing import Any

from smarketing.analytics.datasets import SCHEMAS


def preload() -> None:
    """Import, compile and load what the analytics commands load lazily, without a connection or a thread."""
    import ibis
    import pyarrow.compute  # noqa: F401 - the queries import it inside their functions
    import scipy.linalg  # noqa: F401 - the Markov solve

    import smarketing.analytics.engine
    import smarketing.analytics.kernels.ranges
    import smarketing.analytics.kernels.ranges_markov
    import smarketing.analytics.kernels.ranges_rules
    import smarketing.analytics.kernels.ranges_shapley
    import smarketing.analytics.paths
    import smarketing.analytics.store.reader
    import smarketing.analytics.store.sync  # noqa: F401
    from smarketing.analytics import kernels, registry

    registry.all_kinds()  # imports every query module (and so the kernels and their Numba dispatchers)
    ibis.duckdb  # noqa: B018 - loads the backend and its SQL compilers; connect() is what opens a database
    _compile_commands()
    for module in (kernels.journeys, kernels.loops, kernels.markov, kernels.paths, kernels.ranges,
                   kernels.ranges_markov, kernels.ranges_rules, kernels.ranges_shapley, kernels.rules, kernels.shapley,
                   smarketing.analytics.paths):
        load_cached_kernels(module)


def load_cached_kernels(module: Any) -> int:
    """Load, from Numba's on-disk cache, every compiled signature of the module's kernels that was compiled on this
    machine for their current code (what their first call would load); compile nothing. Returns how many."""
    from numba.core.dispatcher import Dispatcher

    loaded = 0
    for value in vars(module).values():
        if not isinstance(value, Dispatcher):
            continue
        kernel: Any = value  # Numba's cache lives on private attributes its stubs do not declare
        cache = kernel._cache
        if getattr(cache, "_cache_file", None) is None:  # a kernel without an on-disk cache
            continue
        codegen = kernel.targetctx.codegen()
        for key in cache._cache_file._load_index():
            sig = key[0]
            # The index may hold entries for another CPU or older code: only an exact key loads without compiling.
            if key == cache._index_key(sig, codegen) and tuple(sig) not in kernel.overloads:
                kernel.compile(sig)
                loaded += 1
    return loaded


class _DryEngine:
    """Stands in for an engine: tables are unbound and every result is empty, so running a query through it
    imports and compiles what a real run does and reads nothing."""

    name = "duckdb"
    embedded = False  # nothing may be cached in a database
    store = True  # stands for the history store's datasets

    def __init__(self) -> None:
        self.memo: dict[Any, Any] = {}
        self.warnings: list[str] = []

    def table(self, name: str) -> Any:
        import ibis

        return ibis.table(SCHEMAS[name], name=name)

    def to_arrow(self, expr: Any) -> Any:
        import ibis

        from smarketing.analytics.engine import compiled_sql

        # Compiled as the store engine compiles it (the same unbound tables), so a forked command finds it compiled.
        compiled_sql(expr, ibis.duckdb)
        return expr.schema().to_pyarrow().empty_table()

    def execute(self, expr: Any) -> Any:
        if hasattr(expr, "as_table") and not hasattr(expr, "schema"):
            expr = expr.as_table()
        return self.to_arrow(expr).to_pandas()


def _compile_commands() -> None:
    """Each analytics command's query run once over empty unbound tables."""
    from smarketing.analytics.queries.attribution import AttributionQuery, run_attribution
    from smarketing.analytics.queries.funnel import FunnelQuery, run_funnel
    from smarketing.analytics.queries.journeys import JourneysQuery, JourneyStepIn, run_journeys
    from smarketing.analytics.queries.roi import RoiQuery, run_roi

    engine = _DryEngine()
    run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", by="source"))
    for spec in (AttributionQuery(model="markov"), AttributionQuery(model="linear", level="account")):  # type: ignore[arg-type]
        run_attribution(engine, spec)
    # The ideal journeys are given, as the playbook's are read from the database.
    steps = [JourneyStepIn(kind="form_fill"), JourneyStepIn(kind="stage:customer")]
    run_journeys(engine, JourneysQuery(kernel="numpy", ideal_journeys={"new_customer": steps,
                                                                       "existing_customer": steps}))
    run_roi(engine, RoiQuery())


# Custom position weights for the compile run (any valid ones: the kernels compile for their types, not values).
_COMPILE_WEIGHTS = (0.4, 0.2, 0.4)


def compile_kernels() -> dict[str, Any]:
    """Run every analytics command once on the real data (each attribution model at both levels, each model's ROI,
    the journeys), so Numba compiles each kernel they call and keeps it in its on-disk cache: a fresh install's first
    command of a model would otherwise compile its kernels inside it (a second or two each on the small demo;
    `make demo` has the worker do this in the background). Returns the runs made and the seconds they took."""
    import time

    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.enums import AttributionModel
    from smarketing.analytics.registry import parse_spec, run_query

    started = time.perf_counter()
    runs: list[str] = []
    with open_engine() as engine:
        for model in AttributionModel:
            weights = {"weights": _COMPILE_WEIGHTS} if model == AttributionModel.CUSTOM else {}
            for kind, level in (("attribution", "contact"), ("attribution", "account"), ("roi", "contact")):
                run_query(parse_spec(kind, {"model": model.value, "level": level, **weights}), engine=engine)
                runs.append(f"{kind}:{model.value}:{level}")
        run_query(parse_spec("journeys", {}), engine=engine)
        runs.append("journeys")
    return {"runs": runs, "seconds": round(time.perf_counter() - started, 2)}
