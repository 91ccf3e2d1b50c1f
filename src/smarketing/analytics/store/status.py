"""How the lake stands against the database, table by table (the `smarketing store status` selector)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from smarketing.analytics.store.layout import HISTORY, SNAPSHOTS, Lake, configured_lake, manifest_read


@dataclass(frozen=True)
class TableStatus:
    table: str
    kind: str
    lake_rows: int
    database_rows: int
    files: int
    mark: str  # history: the id high-water mark; snapshot: the newest updated_at copied
    behind: int  # rows committed in the database and not yet in the lake (history: above the mark)
    synced_at: str | None  # when rows were last copied in
    # The lake has rows the database no longer has, or copied another database: `store rebuild` starts over.
    drift: bool

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def store_status(*, lake: Lake | None = None) -> list[TableStatus]:
    """Each lake table beside its database table: rows on both sides, the mark, how far behind, any drift."""
    from django.db import connection

    from smarketing.analytics.store.extract import database_label

    lake = lake or configured_lake()
    label = database_label()
    out = []
    with connection.cursor() as cursor:
        for table in (*HISTORY, *SNAPSHOTS):
            m = manifest_read(lake, table.name)
            cursor.execute(f"SELECT COUNT(*), MAX(id) FROM {table.db_table()}")
            count, max_id = cursor.fetchone()
            count, max_id = int(count or 0), int(max_id or 0)
            foreign = bool(m.database) and m.database != label
            if table.kind == "history":
                cursor.execute(f"SELECT COUNT(*) FROM {table.db_table()} WHERE id <= %s", [m.high_water])
                below = int(cursor.fetchone()[0] or 0)
                behind = count - below if not foreign else count
                drift = foreign or below != m.rows
                mark = str(m.high_water)
            else:
                behind = 0 if m.updated_mark.endswith(f"|{count}") and not foreign and m.files else abs(count - m.rows)
                drift = foreign
                mark = m.updated_mark.rpartition("|")[0] or "-"
            out.append(TableStatus(table.name, table.kind, m.rows, count, len(m.files), mark, behind,
                                   m.synced_at or None, drift))
    return out
