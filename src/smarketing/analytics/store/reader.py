"""The analytics datasets as DuckDB views over the lake's Parquet, read in place (nothing copied per query)."""

from __future__ import annotations

from typing import Any

from smarketing.analytics.store.layout import TABLES, Lake, LakeTable, Manifest, table_files

# Which lake table each dataset reads; the contacts dataset also takes its segment from the accounts table.
DATASET_TABLE = {"stage_changes": "stage_changes", "touchpoints": "touchpoints", "contacts": "contacts",
                 "accounts": "accounts", "opportunities": "opportunities", "campaigns": "campaigns"}
# A corrected row (RevOps' recorded reversal) drops out of its dataset: the corrections table and its key.
CORRECTIONS = {"stage_changes": ("stage_change_corrections", "stage_change_id"),
               "touchpoints": ("touchpoint_corrections", "touchpoint_id")}
_DUCK_TYPES = {"int": "BIGINT", "str": "VARCHAR", "float": "DOUBLE", "ts": "TIMESTAMPTZ", "date": "DATE",
               "bool": "BOOLEAN"}


def _literal_list(paths: list[str]) -> str:
    return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"


def _empty(table: LakeTable) -> str:
    cols = ", ".join(f"CAST(NULL AS {_DUCK_TYPES[t]}) AS \"{c}\"" for c, t in table.columns)
    return f"(SELECT {cols}, FALSE AS _ok LIMIT 0)"


def source(con: Any, lake: Lake, manifest: Manifest) -> str:
    """A FROM item reading one lake table: `read_parquet` over its files (a local lake), or a registered Arrow
    dataset over pyarrow.fs (a remote one, which DuckDB cannot open without extensions)."""
    table = TABLES[manifest.table]
    files = table_files(lake, manifest)
    if not files:
        return _empty(table)
    if lake.is_local:
        return f"read_parquet({_literal_list(files)}, hive_partitioning = false)"
    import pyarrow.dataset as pads

    name = f"lake_{table.name}"
    con.register(name, pads.dataset(files, filesystem=lake.filesystem(), format="parquet",
                                    schema=table.arrow_schema()))
    return name


def dataset_sql(con: Any, name: str, lake: Lake, manifests: dict[str, Manifest]) -> str:
    """The SELECT yielding dataset `name` (its columns, representable rows only) from the lake."""
    from smarketing.analytics.datasets import SCHEMAS

    columns = list(SCHEMAS[name].names)
    main = source(con, lake, manifests[DATASET_TABLE[name]])
    if name == "contacts":
        accounts = source(con, lake, manifests["accounts"])
        picked = ", ".join("a.segment" if c == "segment" else f"c.\"{c}\"" for c in columns)
        return (f"SELECT {picked} FROM {main} AS c LEFT JOIN {accounts} AS a ON a.id = c.account_id "
                f"WHERE c._ok")
    where = "t._ok"
    if name in CORRECTIONS:
        table, key = CORRECTIONS[name]
        where += f" AND t.id NOT IN (SELECT {key} FROM {source(con, lake, manifests[table])} AS x)"
    return f"SELECT {', '.join(chr(34) + c + chr(34) for c in columns)} FROM {main} AS t WHERE {where}"


def corrected_since_sql(con: Any, name: str, lake: Lake, manifests: dict[str, Manifest], mark: int) -> str:
    """The SELECT of the ids of dataset `name`'s rows corrected by a correction with an id above `mark`."""
    table, key = CORRECTIONS[name]
    return f"SELECT x.{key} FROM {source(con, lake, manifests[table])} AS x WHERE x.id > {int(mark)}"


def skipped_warning(name: str, manifests: dict[str, Manifest]) -> str | None:
    """The engine's note for a dataset whose stored rows the lake flagged as unrepresentable."""
    import pyarrow as pa

    from smarketing.analytics.datasets import LoadedDataset

    skipped = manifests[DATASET_TABLE[name]].skipped
    return LoadedDataset(name, pa.table({}), skipped).warning
