"""Rows go from the database to the lake's Parquet without a Python value per cell.

ADBC (SQLite, PostgreSQL) hands whole record batches over; Arrow's compute kernels give them the lake's types
(text dates of SQLite parsed, a flag for rows analytics cannot represent, the month partition key) in one
vectorised pass (DuckDB's lenient parser only for a batch with a date Arrow cannot read); the files are written
under a temporary name and renamed into place. `copy_rows` does this for one range of a table; it runs in the
copier's helper processes (see copier), several ranges at once, so it takes everything from the database's side
(the SQL, the source, the date bounds) ready-made and needs no Django.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from smarketing.analytics.store.layout import NO_MONTH, TABLES, Lake, LakeTable

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pyarrow as pa

Bounds = tuple[datetime, datetime]  # the times analytics can represent: [first, last)


def database_label() -> str:
    """Which database the lake mirrors (vendor, host and name), so a lake built from another one is rebuilt."""
    from django.db import connection

    s = connection.settings_dict
    return f"{connection.vendor}:{s.get('HOST') or ''}:{s.get('PORT') or ''}:{s['NAME']}"


def postgres_uri() -> str:
    """The libpq URI of Django's PostgreSQL database (for ADBC)."""
    from django.db import connection

    s = connection.settings_dict
    user = quote(str(s.get("USER") or ""), safe="")
    password = quote(str(s.get("PASSWORD") or ""), safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = str(s.get("HOST") or "localhost")
    port = f":{s['PORT']}" if s.get("PORT") else ""
    name = quote(str(s["NAME"]), safe="")
    # A Unix socket folder is percent-encoded in the host part, as libpq reads it.
    return f"postgresql://{auth}{quote(host, safe='')}{port}/{name}"


class PostgresSource:
    """A second connection to PostgreSQL (libpq through psycopg, Django's driver), for the marks, in transactions
    of its own; rows are read by the copier's helpers through ADBC (`spec`). Both connect by the same URI with the
    server's session defaults, so a mark's recorded_at reads as the same text from either."""

    def __init__(self) -> None:
        import psycopg

        uri = postgres_uri()
        self.spec = {"postgresql": uri}
        self.conn = psycopg.connect(uri)

    def scalar(self, sql: str) -> Any:
        with self.conn.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone() if cursor.description else None
        return None if row is None else row[0]

    def commit(self) -> None:
        self.conn.commit()

    def rollback(self) -> None:
        self.conn.rollback()

    def close(self) -> None:
        self.conn.close()


class SqliteSource:
    """SQLite: marks through Django's own connection, rows through the copier's helper processes (`spec`)."""

    def __init__(self) -> None:
        from django.db import connection

        self.spec = {"sqlite": str(connection.settings_dict["NAME"])}

    def scalar(self, sql: str) -> Any:
        from django.db import connection

        if connection.in_atomic_block:
            # Django's connection would show this transaction's uncommitted rows, which the helpers cannot see: a
            # mark taken there could pass rows that are never copied. The helpers' view is the committed one.
            from smarketing.analytics.store.copier import read_arrow

            table = read_arrow(self.spec, sql)
            return table.column(0)[0].as_py() if table.num_rows else None
        with connection.cursor() as cursor:
            cursor.execute(sql)
            row = cursor.fetchone()
        return None if row is None else row[0]

    def commit(self) -> None:
        """Django's connection is in autocommit here; the helpers end their read after each query."""

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass


@contextmanager
def adbc_connect() -> Iterator[Any]:
    """The store's source for the application database (marks here; `spec` tells the copier's helpers)."""
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


def select_sql(table: LakeTable, where: str = "", *, typed_first_row: bool = True) -> str:
    """The SELECT reading the table's rows matching `where` (plain SQL over its own columns), in id order on
    SQLite (its rowid scan). On SQLite a typed first row marked `_sentinel` comes first (see drop_sentinel),
    unless the read is known to fit ADBC's first batch, whose values it types together (7 % of a read)."""
    from django.db import connection

    vendor = connection.vendor
    body = f"SELECT {_select_list(table, vendor)} FROM {table.db_table()}" + (f" WHERE {where}" if where else "")
    if vendor == "sqlite" and typed_first_row:
        return f"SELECT * FROM ({_sentinel(table)}) UNION ALL SELECT 0 AS _sentinel, * FROM ({body})"
    return body


def scalar(conn: Any, sql: str) -> Any:
    """One value from the store's source (marks and counts)."""
    return conn.scalar(sql)


def mark_sql(table: LakeTable) -> str:
    """The SELECT giving a history row's recorded_at as text (`{id}` to fill in): the row a mark points at."""
    from django.db import connection

    cast = "recorded_at::text" if connection.vendor == "postgresql" else "CAST(recorded_at AS TEXT)"
    return f"SELECT {cast} FROM {table.db_table()} WHERE id = {{id}}"


def drop_sentinel(raw: pa.Table) -> pa.Table:
    """The rows without the typed first row of a SQLite read (a zero-copy slice when it came first)."""
    import pyarrow.compute as pc

    if "_sentinel" not in raw.column_names:
        return raw
    flag = raw.column("_sentinel")
    rows = raw.slice(1) if pc.index(flag, 1).as_py() == 0 else raw.filter(pc.equal(flag, 0))
    return rows.drop_columns(["_sentinel"])


def analytics_bounds() -> Bounds:
    from smarketing.core.validation import ANALYTICS_MAX, ANALYTICS_MIN

    return ANALYTICS_MIN, ANALYTICS_MAX


def conform(table: LakeTable, raw: pa.Table, bounds: Bounds | None = None) -> pa.Table:
    """Give raw rows the lake's types, the `_ok` flag and (for history) the `month` partition key, in id order
    (history: by month, then id, so each month is one slice).

    Arrow's own casts do it when every date parses as Django writes them; a batch with a date they cannot read
    (text edited by hand, an offset) goes through DuckDB's lenient parser instead, which marks what it cannot
    read as unrepresentable.
    """
    import pyarrow as pa

    bounds = bounds or analytics_bounds()
    try:
        return _conform_arrow(table, raw, bounds)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return _conform_duckdb(table, raw, bounds)


def _parse_times(col: pa.ChunkedArray, kind: str) -> pa.ChunkedArray:
    """A time column as naive UTC timestamps ("ts") or dates ("date"); ArrowInvalid on text Arrow cannot read."""
    import pyarrow as pa
    import pyarrow.compute as pc

    target = pa.timestamp("us") if kind == "ts" else pa.date32()
    if col.null_count == len(col):  # no value at all (ADBC's SQLite driver types such a column INT64)
        return pa.chunked_array([pa.nulls(len(col), target)])
    if pa.types.is_string(col.type) or pa.types.is_large_string(col.type):
        try:
            return col.cast(target)
        except pa.ArrowInvalid:
            # SQLite may hold '' for a missing time: rare, so that pass is only made when the plain cast fails.
            return pc.if_else(pc.equal(col, ""), pa.scalar(None, col.type), col).cast(target)
    if pa.types.is_timestamp(col.type) and kind == "ts":
        return col.cast(pa.timestamp("us", tz="UTC")).cast(target)
    return col.cast(target)


def _month_names(keys: pa.Array) -> pa.Array:
    """YYYYMM integers as 'YYYY-MM' partition names (NULL as NO_MONTH), computed on the few distinct keys."""
    import pyarrow as pa
    import pyarrow.compute as pc

    text = pc.utf8_lpad(pc.cast(keys, pa.string()), 6, "0")
    names = pc.binary_join_element_wise(pc.utf8_slice_codeunits(text, 0, -2), pc.utf8_slice_codeunits(text, -2),
                                        "-")
    return pc.fill_null(names, NO_MONTH)


def _conform_arrow(table: LakeTable, raw: pa.Table, bounds: Bounds | None = None) -> pa.Table:
    import pyarrow as pa
    import pyarrow.compute as pc

    lo, hi = (b.replace(tzinfo=None) for b in (bounds or analytics_bounds()))
    schema = table.arrow_schema()
    columns: list[pa.ChunkedArray] = []
    naive: dict[str, pa.ChunkedArray] = {}  # time columns as UTC wall-clock, for the checks and the month
    for (c, t), target in zip(table.columns, schema, strict=False):
        col = raw.column(c)
        if t in ("ts", "date"):
            parsed = _parse_times(col, t)
            naive[c] = parsed if t == "ts" else parsed.cast(pa.timestamp("us"))
            columns.append(parsed.cast(target.type))
        else:
            columns.append(col.cast(target.type))
    ids = raw.column("id")
    ok = pc.is_valid(ids)  # every row to begin with (an id is never NULL)
    for c in table.checked:
        if c in naive:
            inside = pc.and_kleene(pc.greater_equal(naive[c], pa.scalar(lo, pa.timestamp("us"))),
                                   pc.less(naive[c], pa.scalar(hi, pa.timestamp("us"))))
        else:
            inside = pc.less(pc.abs(columns[table.column_names.index(c)]), 1e300)
        ok = pc.and_(ok, pc.fill_null(pc.or_kleene(pc.is_null(raw.column(c)), inside), False))
    out = pa.Table.from_arrays([*columns, ok], schema=schema)
    n = out.num_rows
    # SQLite's rowid scan hands rows over in id order: then a stable sort by month alone keeps ids in order.
    in_id_order = n < 2 or bool(pc.all(pc.less(ids.slice(0, n - 1), ids.slice(1))).as_py())
    if table.kind != "history":
        return out if in_id_order else out.sort_by("id")
    when = naive[table.time_column]
    key = pc.add(pc.multiply(pc.year(when), 100), pc.month(when))  # YYYYMM, NULL where the time is missing
    if in_id_order:
        order = pc.sort_indices(key, null_placement="at_end")
    else:
        order = pc.sort_indices(pa.table({"key": key, "id": ids}), sort_keys=[("key", "ascending"),
                                                                                ("id", "ascending")],
                                null_placement="at_end")
    span = pc.min_max(key).as_py()
    one_month = key.null_count == n or (key.null_count == 0 and span["min"] == span["max"])
    if not (in_id_order and one_month):  # (rows of one month in id order are already where they belong)
        out, key = out.take(order), key.take(order)
    encoded = pc.dictionary_encode(key.combine_chunks(), null_encoding="encode")
    month = pa.DictionaryArray.from_arrays(encoded.indices, _month_names(encoded.dictionary))
    return out.append_column("month", month)


def _conform_duckdb(table: LakeTable, raw: pa.Table, bounds: Bounds | None = None) -> pa.Table:
    import duckdb
    import pyarrow as pa

    lo, hi = (b.date().isoformat() for b in (bounds or analytics_bounds()))
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


def write_parquet(lake: Lake, rel_path: str, rows: pa.Table, table: LakeTable) -> None:
    """Write one Parquet file of `table` under a temporary name and rename it into place."""
    import pyarrow.parquet as pq

    fs = lake.filesystem()
    final = lake.path(rel_path)
    folder = final.rsplit("/", 1)[0]
    fs.create_dir(folder, recursive=True)
    tmp = f"{folder}/_tmp-{uuid.uuid4().hex}.parquet"
    pq.write_table(rows, tmp, filesystem=fs, compression="zstd", use_dictionary=table.dictionary_columns)
    fs.move(tmp, final)


@dataclass(frozen=True)
class CopyJob:
    """One range of one table to copy into the lake, with everything the helper needs from the database's side."""

    table: str
    source: dict[str, str]  # {"sqlite": path} or {"postgresql": uri}
    sql: str  # select_sql over the range
    lake: str  # the lake's URL
    file_name: str  # the name of the file(s) written: one per month partition for history
    bounds: tuple[str, str]  # analytics_bounds as ISO text
    mark_sql: str = ""  # history: mark_sql, for the recorded_at of the range's last row
    rows_guess: int = 0  # how many rows to expect (to share the work out)
    # SQLite: rows per ADBC batch when the read has no typed first row (all of them: one batch types them all)
    batch_rows: int = 0


@dataclass
class CopyResult:
    files: list[str] = field(default_factory=list)  # relative to the table's folder
    rows: int = 0
    skipped: int = 0  # rows analytics cannot represent
    last_id: int = 0
    mark: str | None = None  # the last row's recorded_at as text (history)


def copy_rows(job: CopyJob, read: Callable[[str], pa.Table]) -> CopyResult:
    """Copy one range of a table into the lake (history: one file per month it touches) and say what it wrote."""
    import pyarrow.compute as pc

    table = TABLES[job.table]
    raw = drop_sentinel(read(job.sql))
    if not raw.num_rows and table.kind == "history":
        return CopyResult()  # (a snapshot of an empty table is an empty file: the manifest names one)
    rows = conform(table, raw, (datetime.fromisoformat(job.bounds[0]), datetime.fromisoformat(job.bounds[1])))
    del raw
    lake = Lake(job.lake)
    files: list[str] = []
    if table.kind == "history":
        offset = 0
        for item in pc.value_counts(rows.column("month")).to_pylist():  # in order of appearance: sorted
            rel = f"month={item['values']}/{job.file_name}"
            write_parquet(lake, f"{table.name}/{rel}", rows.slice(offset, item["counts"]).drop_columns(["month"]),
                          table)
            offset += item["counts"]
            files.append(rel)
    else:
        write_parquet(lake, f"{table.name}/{job.file_name}", rows, table)
        files.append(job.file_name)
    last = int(pc.max(rows.column("id")).as_py() or 0)
    mark = None
    if job.mark_sql:
        found = read(job.mark_sql.format(id=last))
        value = found.column(0)[0].as_py() if found.num_rows else None
        mark = None if value is None else str(value)
    skipped = rows.num_rows - int(pc.sum(rows.column("_ok")).as_py() or 0)
    return CopyResult(files=files, rows=rows.num_rows, skipped=skipped, last_id=last, mark=mark)
