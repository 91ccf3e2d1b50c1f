"""Bulk inserts of history: rows of prepared values straight into a model's table, bypassing the ORM.

Why not `bulk_create`: imports and the demo write tens of thousands to millions of append-only rows, and building
a model instance and compiling each of its values took most of their time. The rows go through the caller's
connection and transaction (PostgreSQL COPY, SQLite executemany in batches); columns a caller does not give are
filled with the field's default, so a new field with a default needs no change in the callers.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from django.db import connection, models

from smarketing.core.errors import ValidationFailed

BATCH = 50_000


class Keyed(Protocol):
    @property
    def source_key(self) -> str: ...


class PastRow(Keyed, Protocol):
    @property
    def occurred_at(self) -> datetime: ...

    @property
    def reason(self) -> str: ...


def past_row_check(row: PastRow, *, record: str) -> None:
    """What every imported history row must hold: an aware time, a source key and a reason that fit their columns."""
    if not isinstance(row.occurred_at, datetime) or row.occurred_at.tzinfo is None:
        raise ValidationFailed(f"{record}: occurred_at must carry a time zone", field="occurred_at", record=record)
    if len(row.source_key) > 128:
        raise ValidationFailed(f"{record}: source_key is longer than 128 characters", field="source_key",
                               record=record)
    if len(row.reason) > 500:
        raise ValidationFailed(f"{record}: reason is longer than 500 characters", field="reason", record=record)


def source_keys_once(rows: Iterable[Keyed], *, record: str) -> set[str]:
    """The non-empty source keys of rows about to be written, refusing a key given twice in one call (the record
    names the kind of row, e.g. "stage_change")."""
    keys: set[str] = set()
    for row in rows:
        if row.source_key:
            if row.source_key in keys:
                raise ValidationFailed(f"source_key {row.source_key!r} appears twice in one import",
                                       field="source_key", record=f"{record}:{row.source_key}")
            keys.add(row.source_key)
    return keys


def _columns(model: type[models.Model], given: Sequence[str]) -> tuple[list[str], list[Any]]:
    """Database columns for the given field names plus every other field's default (auto primary key left out)."""
    columns: list[str] = []
    defaults: list[Any] = []
    names = set(given)
    for name in given:
        columns.append(str(model._meta.get_field(name).column))  # type: ignore[union-attr]
    for f in model._meta.concrete_fields:
        if f.name in names or f.attname in names or f.primary_key:
            continue
        if not f.has_default() and not f.null:
            raise ValueError(f"{model.__name__}.{f.name} has no default; the bulk insert must give it")
        value = f.get_default() if f.has_default() else None
        columns.append(str(f.column))
        defaults.append(f.get_db_prep_save(value, connection))
    return columns, defaults


def rows_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> int:
    """Insert rows (values in `fields` order, field names or attnames, already in database form); returns how many."""
    if not rows:
        return 0
    columns, defaults = _columns(model, fields)
    table = model._meta.db_table
    qn = connection.ops.quote_name
    col_sql = ", ".join(qn(c) for c in columns)
    tail = tuple(defaults)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            raw = cursor.cursor  # the psycopg cursor, on the same connection and transaction
            with raw.copy(f"COPY {qn(table)} ({col_sql}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + tail if tail else row)
        else:
            # Why: index pages of millions of rows do not fit SQLite's default 2 MB page cache; 256 MB does.
            cursor.execute("PRAGMA cache_size = -262144")
            sql = f"INSERT INTO {qn(table)} ({col_sql}) VALUES ({', '.join(['%s'] * len(columns))})"
            for i in range(0, len(rows), BATCH):
                batch = rows[i:i + BATCH]
                cursor.executemany(sql, [r + tail for r in batch] if tail else batch)
    return len(rows)
