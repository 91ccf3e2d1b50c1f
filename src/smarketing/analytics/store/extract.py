"""Rows leave the database Arrow-natively: ADBC (SQLite, PostgreSQL) hands whole record batches over, never a
Python value per cell. DuckDB then gives them the lake's types (text dates of SQLite parsed, a flag for rows
analytics cannot represent, the month partition key) in one vectorised pass.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from smarketing.analytics.store.layout import NO_MONTH, LakeTable

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa


def database_label() -> str:
    """Which database the lake mirrors (vendor, host and name), so a lake built from another one is rebuilt."""
    from django.db import connection

    s = connection.settings_dict
    return f"{connection.vendor}:{s.get('HOST') or ''}:{s.get('PORT') or ''}:{s['NAME']}"


class PostgresSource:
    """A second, Arrow-native connection to PostgreSQL through ADBC (libpq), in this process."""

    def __init__(self) -> None:
        import adbc_driver_postgresql.dbapi as pg_dbapi
        from django.db import connection

        s = connection.settings_dict
        user = quote(str(s.get("USER") or ""), safe="")
        password = quote(str(s.get("PASSWORD") or ""), safe="")
        auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
        host = str(s.get("HOST") or "localhost")
        port = f":{s['PORT']}" if s.get("PORT") else ""
        name = quote(str(s["NAME"]), safe="")
        # A Unix socket folder is percent-encoded in the host part, as libpq reads it.
        self.conn = pg_dbapi.connect(f"postgresql://{auth}{quote(host, safe='')}{port}/{name}")

    def scalar(self, sql: str) -> Any:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else row[0]

    def read(self, sql: str) -> pa.Table:
        cursor = self.conn.cursor()
        try:
            cursor.execute(sql)
            return cursor.fetch_arrow_table()
        finally:
            cursor.close()

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


class SqliteSource:
    """SQLite: marks through Django's own connection, rows through the ADBC helper process (see sqlite_reader)."""

    def __init__(self) -> None:
        from django.db import connection

        self.path = str(connection.settings_dict["NAME"])

    def scalar(self, sql: str) -> Any:
        from django.db import connection

        if connection.in_atomic_block:
            # Django's connection would show this transaction's uncommitted rows, which the reader cannot see: a
            # mark taken there could pass rows that are never copied. The reader's view is the committed one.
            from smarketing.analytics.store.sqlite_reader import read_arrow

            table = read_arrow(self.path, sql)
            return table.column(0)[0].as_py() if table.num_rows else None
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
        return None if row is None else row[0]

    def read(self, sql: str) -> pa.Table:
        from smarketing.analytics.store.sqlite_reader import read_arrow

        return read_arrow(self.path, sql)

    def commit(self) -> None:
        """Django's connection is in autocommit here; the helper ends its read after each query."""

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def adbc_connect() -> Iterator[Any]:
    """The store's Arrow-native source for the application database."""
    from django.db import connection

    source: PostgresSource | SqliteSource
    if connection.vendor == "postgresql":
        source = PostgresSource()
    elif connection.vendor == "sqlite":
        source = SqliteSource()
    else:  # pragma: no cover - settings refuse other databases
        raise RuntimeError(f"the history store cannot read a {connection.vendor} database")
    try:
        yield source
    finally:
        source.close()


def _select_list(table: LakeTable, vendor: str) -> str:
    casts = {
        # SQLite's column affinities already store Django's integers, booleans, text and dates as one storage
        # class each; a decimal is stored as INTEGER when whole, so only floats need a cast (casts cost ~30 %).
        "sqlite": {"int": "{c}", "str": "{c}", "float": "CAST({c} AS REAL)", "ts": "{c}", "date": "{c}",
                   "bool": "{c}"},
        "postgresql": {"int": "{c}::bigint", "str": "{c}::text", "float": "{c}::float8", "ts": "{c}",
                       "date": "{c}", "bool": "{c}"},
    }[vendor]
    return ", ".join(f"{casts[t].format(c=c)} AS {c}" for c, t in table.columns)


def _sentinel(table: LakeTable) -> str:
    # Why: ADBC's SQLite driver takes a column's type from its first values, and a column that starts with NULLs
    # (a touchpoint's value, say) would be typed INT64 and fail on the first REAL. One typed row first fixes it.
    values = {"int": "0", "str": "''", "float": "0.5", "ts": "''", "date": "''", "bool": "0"}
    return "SELECT 1 AS _sentinel, " + ", ".join(f"{values[t]} AS {c}" for c, t in table.columns)


def read_rows(conn: Any, table: LakeTable, where: str = "") -> pa.Table:
    """Read the table's rows matching `where` (plain SQL over its own columns) as one Arrow table."""
    from django.db import connection

    vendor = connection.vendor
    body = f"SELECT {_select_list(table, vendor)} FROM {table.db_table()}" + (f" WHERE {where}" if where else "")
    if vendor == "sqlite":
        import pyarrow.compute as pc

        raw = conn.read(f"SELECT * FROM ({_sentinel(table)}) UNION ALL SELECT 0 AS _sentinel, * FROM ({body})")
        return raw.filter(pc.equal(raw.column("_sentinel"), 0)).drop_columns(["_sentinel"])
    return conn.read(body)


def scalar(conn: Any, sql: str) -> Any:
    """One value from the store's source (marks and counts)."""
    return conn.scalar(sql)


def conform(table: LakeTable, raw: pa.Table) -> pa.Table:
    """Give raw rows the lake's types, the `_ok` flag and (for history) the `month` partition key.

    Arrow's own casts do it when every date parses as Django writes them; a batch with a date they cannot read
    (text edited by hand, an offset) goes through DuckDB's lenient parser instead, which marks what it cannot
    read as unrepresentable.
    """
    import pyarrow as pa

    try:
        return _conform_arrow(table, raw)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _conform_duckdb(table, raw)


def _conform_arrow(table: LakeTable, raw: pa.Table) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    from smarketing.core.validation import ANALYTICS_MAX, ANALYTICS_MIN

    lo, hi = ANALYTICS_MIN.replace(tzinfo=None), ANALYTICS_MAX.replace(tzinfo=None)
    schema = table.arrow_schema()
    columns: dict[str, pa.Array] = {}
    naive: dict[str, pa.Array] = {}  # time columns as UTC wall-clock, for the checks and the month
    for (c, t), target in zip(table.columns, schema, strict=False):
        col = raw.column(c)
        if t in ("ts", "date"):
            if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
                text = pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col)
                parsed = text.cast(pa.timestamp("us") if t == "ts" else pa.date32())
            elif pa.types.is_timestamp(col.type):
                parsed = col.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us")) if t == "ts" \
                    else col.cast(pa.date32())
            else:
                parsed = col.cast(pa.timestamp("us") if t == "ts" else pa.date32())
            naive[c] = parsed if t == "ts" else parsed.cast(pa.timestamp("us"))
            columns[c] = parsed.cast(target.type)
        else:
            columns[c] = col.cast(target.type)
    ok = pa.chunked_array([pa.array([True] * raw.num_rows, pa.bool_())])
    for c in table.checked:
        if c in naive:
            inside = pc.and_kleene(pc.greater_equal(naive[c], pa.scalar(lo, pa.timestamp("us"))),
                                   pc.less(naive[c], pa.scalar(hi, pa.timestamp("us"))))
        else:
            inside = pc.less(pc.abs(columns[c]), 1e300)
        ok = pc.and_(ok, pc.fill_null(pc.or_kleene(pc.is_null(raw.column(c)), inside), False))
    columns["_ok"] = ok
    out = pa.table(columns, schema=schema)
    if table.kind != "history":
        return out.sort_by("id")
    when = naive[table.time_column]
    key = pc.add(pc.multiply(pc.year(when), 100), pc.month(when)).cast(pa.int64())
    months = pc.unique(key).drop_null()
    names = pa.array([f"{v // 100:04d}-{v % 100:02d}" for v in months.to_pylist()] + [NO_MONTH], pa.string())
    index = pc.fill_null(pc.index_in(key, value_set=months), len(months))
    month = pa.DictionaryArray.from_arrays(index.combine_chunks() if hasattr(index, "combine_chunks") else index,
                                           names).cast(pa.string())
    return out.append_column("month", month).sort_by([("month", "ascending"), ("id", "ascending")])


def _conform_duckdb(table: LakeTable, raw: pa.Table) -> pa.Table:
    import duckdb
    import pyarrow as pa

    from smarketing.core.validation import ANALYTICS_MAX, ANALYTICS_MIN

    lo, hi = ANALYTICS_MIN.date().isoformat(), ANALYTICS_MAX.date().isoformat()
    parsed = {
        "int": "CAST(\"{c}\" AS BIGINT)", "str": "CAST(\"{c}\" AS VARCHAR)", "float": "CAST(\"{c}\" AS DOUBLE)",
        "bool": "CAST(\"{c}\" AS BOOLEAN)",
    }
    exprs: dict[str, str] = {}
    for c, t in table.columns:
        if t == "ts":
            # Timestamps become UTC wall-clock TIMESTAMPs here and are labelled UTC by the cast to the schema.
            is_text = pa.types.is_string(raw.schema.field(c).type) or pa.types.is_large_string(raw.schema.field(c).type)
            exprs[c] = (f"TRY_CAST(NULLIF(\"{c}\", '') AS TIMESTAMPTZ)::TIMESTAMP" if is_text
                        else f"CAST(\"{c}\" AS TIMESTAMPTZ)::TIMESTAMP")
        elif t == "date":
            exprs[c] = f"TRY_CAST(NULLIF(CAST(\"{c}\" AS VARCHAR), '') AS DATE)"
        else:
            exprs[c] = parsed[t].format(c=c)
    ok_terms = []
    for c in table.checked:
        typ = dict(table.columns)[c]
        if typ in ("ts", "date"):
            ok_terms.append(f"(\"{c}\" IS NULL OR ({exprs[c]} >= DATE '{lo}' AND {exprs[c]} < DATE '{hi}'))")
        else:
            ok_terms.append(f"(\"{c}\" IS NULL OR abs({exprs[c]}) < 1e300)")
    select = [f"{e} AS \"{c}\"" for c, e in exprs.items()]
    select.append(f"COALESCE({' AND '.join(ok_terms) if ok_terms else 'TRUE'}, FALSE) AS _ok")
    if table.kind == "history":
        select.append(f"COALESCE(strftime({exprs[table.time_column]}, '%Y-%m'), '{NO_MONTH}') AS month")
    con = duckdb.connect()
    try:
        con.execute("SET TimeZone='UTC'")
        con.register("raw", raw)
        order = "month, id" if table.kind == "history" else "id"
        out = con.sql(f"SELECT {', '.join(select)} FROM raw ORDER BY {order}").to_arrow_table()
    finally:
        con.close()
    schema = table.arrow_schema()
    if table.kind == "history":
        schema = schema.append(pa.field("month", pa.string()))
    return out.cast(schema)
