"""The analytics datasets as Spark frames read from the history store's Parquet at the lake URL.

The executors read the files themselves (`spark.read.parquet`), so no table passes through the driver: the same
manifests and the same rules as DuckDB's views (`store/reader.py`): representable rows only, corrected rows left
out, a contact's segment from its account.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from smarketing.analytics.store.layout import TABLES, Lake, LakeTable, Manifest, table_files
from smarketing.analytics.store.reader import CORRECTIONS, DATASET_TABLE
from smarketing.analytics.store.sync import StoreState

_SPARK_TYPES = {"int": "BIGINT", "str": "STRING", "float": "DOUBLE", "ts": "TIMESTAMP", "date": "DATE",
                "bool": "BOOLEAN"}


def spark_urls(lake: Lake, manifest: Manifest) -> list[str]:
    """The manifest's files as URLs Spark opens: `file://` for a local lake, the lake's own scheme otherwise
    (`s3a://`, `hdfs://`, `abfss://`: the cluster's Hadoop configuration supplies the credentials)."""
    files = table_files(lake, manifest)
    if lake.is_local:
        return [f"file://{path}" for path in files]
    scheme = urlparse(lake.url).scheme
    return [f"{scheme}://{path}" for path in files]


def _ddl(table: LakeTable) -> str:
    return ", ".join(f"`{c}` {_SPARK_TYPES[t]}" for c, t in table.columns) + ", `_ok` BOOLEAN"


def table_frame(session: Any, lake: Lake, manifest: Manifest) -> Any:
    """One lake table as a Spark frame (its files as the manifest lists them; none: an empty frame)."""
    table = TABLES[manifest.table]
    urls = spark_urls(lake, manifest)
    if not urls:
        return session.createDataFrame([], _ddl(table))
    return session.read.schema(_ddl(table)).parquet(*urls)


def dataset_view(session: Any, name: str, state: StoreState, suffix: str) -> str:
    """Register dataset `name` as a temporary view over the lake and return the view's name."""
    from smarketing.analytics.datasets import SCHEMAS

    columns = list(SCHEMAS[name].names)
    main = f"smk_lake_{DATASET_TABLE[name]}_{suffix}"
    table_frame(session, state.lake, state.manifests[DATASET_TABLE[name]]).createOrReplaceTempView(main)
    if name == "contacts":
        accounts = f"smk_lake_accounts_{suffix}"
        table_frame(session, state.lake, state.manifests["accounts"]).createOrReplaceTempView(accounts)
        picked = ", ".join("a.segment" if c == "segment" else f"c.`{c}`" for c in columns)
        sql = f"SELECT {picked} FROM {main} AS c LEFT JOIN {accounts} AS a ON a.id = c.account_id WHERE c._ok"
    else:
        where = "t._ok"
        if name in CORRECTIONS:
            corrections, key = CORRECTIONS[name]
            view = f"smk_lake_{corrections}_{suffix}"
            table_frame(session, state.lake, state.manifests[corrections]).createOrReplaceTempView(view)
            where += f" AND NOT EXISTS (SELECT 1 FROM {view} AS x WHERE x.{key} = t.id)"
        sql = f"SELECT {', '.join(f't.`{c}`' for c in columns)} FROM {main} AS t WHERE {where}"
    view_name = f"smk_{name}_{suffix}"
    session.sql(sql).createOrReplaceTempView(view_name)
    return view_name


def skipped_warning(name: str, manifests: dict[str, Manifest]) -> str | None:
    """The same note DuckDB's views give for rows the lake flagged as unrepresentable."""
    from smarketing.analytics.store.reader import skipped_warning as reader_warning

    return reader_warning(name, manifests)
