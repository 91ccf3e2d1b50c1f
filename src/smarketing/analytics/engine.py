"""The one place that picks and opens the analytics engine, by configuration.

`settings.SMARKETING["ANALYTICS_ENGINE"]` chooses:
- `duckdb` (default): in process, over the history store (`analytics/store`): the engine first catches the lake
  up (one max(id) per history table when little changed), then each dataset is a view that reads the lake's
  Parquet in place. Inside a database transaction the caller may hold rows the store's own connection cannot
  see yet, so there (and with `SMARKETING_ANALYTICS_STORE=live`) the datasets are read through the Django
  connection into Arrow and loaded into an in-memory DuckDB, as before the store.
- `postgres`: ibis runs on the application's PostgreSQL itself, on Django's own connection (so it sees the
  same transaction, which keeps tests honest).
- `spark`: PySpark in local mode (`SMARKETING["SPARK_MASTER"]`); the datasets are loaded as Spark frames.

Queries only ever see `Engine.table(name)` — typed ibis tables with the schemas in `datasets.SCHEMAS` — and
`Engine.execute(expr)`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pandas as pd
import pyarrow as pa

from smarketing.analytics import datasets
from smarketing.analytics.datasets import EventFrames
from smarketing.analytics.store.sync import StoreState
from smarketing.core.errors import ValidationFailed

EngineName = Literal["duckdb", "postgres", "spark"]
ENGINE_NAMES: tuple[EngineName, ...] = ("duckdb", "postgres", "spark")

_spark_lock = threading.Lock()
_spark_session: Any = None


def configured_engine_name() -> EngineName:
    from django.conf import settings

    name = settings.SMARKETING.get("ANALYTICS_ENGINE", "duckdb")
    if name not in ENGINE_NAMES:
        raise ValidationFailed(f"analytics engine {name!r} is unknown; use one of {list(ENGINE_NAMES)}",
                               field="ANALYTICS_ENGINE")
    return name  # type: ignore[return-value]


@dataclass
class Engine:
    """An open analytics connection with the six typed datasets; tables load lazily on first use."""

    name: EngineName
    backend: Any
    frames: EventFrames | None = None
    _tables: dict[str, ir.Table] = field(default_factory=dict)
    # One line per dataset whose stored rows were skipped because no engine can represent them.
    warnings: list[str] = field(default_factory=list)
    # The history store this engine reads (DuckDB outside a transaction), as its catch-up left it.
    store: StoreState | None = None
    # What several queries on this connection read alike (the sorted touches of a level): kept for its life, on
    # DuckDB only, whose tables do not change while it is open.
    memo: dict[Any, Any] = field(default_factory=dict)

    @property
    def as_of(self) -> Any:
        """When the data read was known complete: the store's catch-up; None when read live from the tables."""
        return self.store.as_of if self.store is not None else None

    def table(self, name: str) -> ir.Table:
        if name not in datasets.SCHEMAS:
            raise ValidationFailed(f"unknown dataset {name!r}; known: {list(datasets.DATASET_NAMES)}", field="dataset")
        if name not in self._tables:
            self._tables[name] = self._load(name)
        return self._tables[name]

    def _arrow(self, name: str) -> pa.Table:
        if self.frames is not None:
            return self.frames.table(name)
        loaded = datasets.load_from_django(name)
        self._warn(loaded.warning)
        return loaded.table

    def _warn(self, warning: str | None) -> None:
        if warning and warning not in self.warnings:
            self.warnings.append(warning)

    def _load(self, name: str) -> ir.Table:
        schema = datasets.SCHEMAS[name]
        if self.name == "duckdb" and self.store is not None and self.frames is None:
            from smarketing.analytics.store import reader

            con = self.backend.con
            con.execute(f'CREATE OR REPLACE VIEW "{name}" AS '
                        f'{reader.dataset_sql(con, name, self.store.lake, self.store.manifests)}')
            self._warn(reader.skipped_warning(name, self.store.manifests))
            # An unbound table of the dataset's schema (the view has exactly those columns and types): the SQL of
            # an expression over it is the same in every process, so it is compiled once (see `compiled_sql`).
            return ibis.table(schema, name=name)
        if self.name == "duckdb":
            arrow = self._arrow(name)
            # A real table (not a view over the Arrow object) so repeated scans stay in DuckDB's own format.
            self.backend.con.register(f"_arrow_{name}", arrow)
            self.backend.con.execute(f'CREATE OR REPLACE TABLE "{name}" AS SELECT * FROM "_arrow_{name}"')
            self.backend.con.unregister(f"_arrow_{name}")
            return self.backend.table(name)
        if self.name == "spark" and self.store is not None and self.frames is None:
            from smarketing.analytics import spark_store

            # The executors read the lake's Parquet themselves: nothing passes through the driver.
            view = spark_store.dataset_view(self.backend._session, name, self.store, suffix=str(id(self)))
            self._warn(spark_store.skipped_warning(name, self.store.manifests))
            return self.backend.table(view).cast(schema)
        if self.name == "spark":
            session = self.backend._session
            arrow = self._arrow(name)
            frame = session.createDataFrame(arrow.to_pandas(), schema=_spark_schema(schema))
            view = f"smk_{name}_{id(self)}"
            frame.createOrReplaceTempView(view)
            return self.backend.table(view)
        # postgres
        if self.frames is not None:
            tmp = f"smk_{name}_{id(self)}"
            return self.backend.create_table(tmp, self.frames.table(name), temp=True, overwrite=True)
        skipped = datasets.unrepresentable_count(name)
        self._warn(datasets.LoadedDataset(name, schema.to_pyarrow().empty_table(), skipped).warning)
        return self.backend.sql(datasets.representable_select(name)).cast(schema)

    def execute(self, expr: ir.Expr) -> pd.DataFrame:
        """Run an expression and return a pandas frame (scalars come back as one-row frames)."""
        if isinstance(expr, ir.Scalar):
            expr = expr.as_table()
        if self._reads_store:
            return _pandas(self._store_arrow(expr.as_table()), expr.as_table().schema())
        result = self.backend.execute(expr)
        return result if isinstance(result, pd.DataFrame) else pd.DataFrame(result)

    def to_arrow(self, expr: ir.Table) -> pa.Table:
        if self._reads_store:
            from ibis.backends.duckdb.converter import DuckDBPyArrowData

            return DuckDBPyArrowData.convert_table(self._store_arrow(expr), expr.schema())
        return self.backend.to_pyarrow(expr)

    @property
    def _reads_store(self) -> bool:
        return self.name == "duckdb" and self.store is not None and self.frames is None

    def _store_arrow(self, expr: ir.Table) -> pa.Table:
        return self.backend.con.sql(compiled_sql(expr, self.backend)).to_arrow_table()

    @property
    def embedded(self) -> bool:
        """True when the data lives in this process, so NumPy kernels may replace engine work."""
        return self.name == "duckdb"

    def close(self) -> None:
        if self.name == "duckdb":
            self.backend.disconnect()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# The SQL of each expression over the store's unbound datasets, for the process's life: the web pages run the same
# few queries again and again, and `warm.preload` compiles the commands' before a command service forks.
_COMPILED: dict[Any, str] = {}
COMPILED_MAX = 1024


def compiled_sql(expr: ir.Table, backend: Any) -> str:
    """The DuckDB SQL of a table expression over unbound datasets, compiled once per process."""
    key = expr.op()
    sql = _COMPILED.get(key)
    if sql is None:
        if len(_COMPILED) >= COMPILED_MAX:
            _COMPILED.clear()
        sql = _COMPILED[key] = backend.compile(expr)
    return sql


def _pandas(table: pa.Table, schema: ibis.Schema) -> pd.DataFrame:
    """An Arrow result as the frame the Ibis DuckDB backend's execute returns for it."""
    import pyarrow.types as pat
    from ibis.backends.duckdb.converter import DuckDBPandasData

    df = pd.DataFrame({name: col.to_pylist() if pat.is_nested(col.type) or pat.is_dictionary(col.type)
                       or col.null_count else col.to_pandas()
                       for name, col in zip(table.column_names, table.columns, strict=True)})
    return DuckDBPandasData.convert_table(df, schema)


def open_engine(name: EngineName | None = None, *, frames: EventFrames | None = None) -> Engine:
    """Open the configured engine (or `name`) over the Django data, or over `frames` when given."""
    name = name or configured_engine_name()
    if name == "duckdb":
        store = None
        if frames is None and store_in_use():
            from smarketing.analytics.store.sync import QUERY_LOCK_TIMEOUT_MS, store_catch_up

            store = store_catch_up(lock_timeout_ms=QUERY_LOCK_TIMEOUT_MS)
        return Engine("duckdb", ibis.duckdb.connect(), frames, store=store)
    if name == "postgres":
        return Engine("postgres", _postgres_backend(), frames)
    if name == "spark":
        # Spark is an optional extra; without it the user gets one line that says how to install it.
        try:
            import pyspark  # noqa: F401
        except ImportError:
            raise ValidationFailed("the spark analytics engine needs PySpark, which is not installed: "
                                   "pip install -e .[spark]", field="engine") from None
        spark_store_state = None
        if frames is None and store_in_use():
            from smarketing.analytics.store.sync import QUERY_LOCK_TIMEOUT_MS, store_catch_up

            spark_store_state = store_catch_up(lock_timeout_ms=QUERY_LOCK_TIMEOUT_MS)
        return Engine("spark", ibis.pyspark.connect(spark_session()), frames, store=spark_store_state)
    raise ValidationFailed(f"analytics engine {name!r} is unknown; use one of {list(ENGINE_NAMES)}", field="engine")


def store_in_use() -> bool:
    """Whether the DuckDB engine reads the history store: configured so, and not inside a transaction (whose
    uncommitted rows the store's own connection cannot see)."""
    from django.conf import settings
    from django.db import connection

    return settings.SMARKETING.get("ANALYTICS_STORE", "lake") == "lake" and not connection.in_atomic_block


def _postgres_backend() -> Any:
    from django.db import connection

    if connection.vendor != "postgresql":
        raise ValidationFailed("the postgres analytics engine needs DATABASE_URL to point at PostgreSQL "
                               f"(the application database is {connection.vendor})", field="ANALYTICS_ENGINE")
    connection.ensure_connection()
    return ibis.postgres.from_connection(connection.connection)


def spark_session() -> Any:
    """The process's one local Spark session (starting Spark is slow, so it is shared)."""
    global _spark_session
    with _spark_lock:
        if _spark_session is None:
            from django.conf import settings
            from pyspark.sql import SparkSession

            master = str(settings.SMARKETING.get("SPARK_MASTER", "local[2]"))
            _spark_session = (
                SparkSession.builder.master(master).appName("smarketing-analytics")
                .config("spark.sql.session.timeZone", "UTC")
                .config("spark.sql.execution.arrow.pyspark.enabled", "true")
                .config("spark.sql.shuffle.partitions", "2")
                .config("spark.ui.enabled", "false")
                .config("spark.ui.showConsoleProgress", "false")
                .config("spark.driver.memory", "2g")
                .getOrCreate()
            )
        return _spark_session


def _spark_schema(schema: ibis.Schema) -> Any:
    from pyspark.sql import types as T

    mapping = {"int64": T.LongType(), "string": T.StringType(), "float64": T.DoubleType(),
               "boolean": T.BooleanType(), "date": T.DateType()}
    fields = []
    for col, typ in schema.items():
        spark_type = T.TimestampType() if typ.is_timestamp() else mapping[str(typ).lstrip("!")]
        fields.append(T.StructField(col, spark_type, True))
    return T.StructType(fields)
