"""Catching the lake up with the database: exact for the append-only history, fresh for the mutable records.

History (stage changes, touchpoints, handoff decisions, SLA events, feedback) is copied by id high-water mark.
Rows are never updated, so "every row with an id above the mark" is exactly what is new, provided no row below
the mark can still appear. The mark only moves to an id below which every row is committed:
- SQLite has one writer at a time and hands out ids inside the write transaction, so the largest id a reader sees
  has every smaller id committed (or rolled back, which leaves a gap, not a late row);
- PostgreSQL's sequences hand out ids before commit, so a transaction holding id 10 may commit after one holding
  id 11. The horizon is read under `LOCK TABLE … IN SHARE MODE`, which waits for the transactions writing the
  table to end (a few milliseconds of held-back writes); every id at or below it is then settled.
Each copy writes its Parquet files first (a temporary name, then a rename) and commits the manifest with the new
mark last, also by rename. A crash between the two leaves files that no manifest names: readers ignore them and
the next catch-up deletes them before copying the same rows again, so no row is missing or doubled.
A catch-up first plans every table (marks, horizons, id ranges of at most CHUNK_IDS), then hands all the ranges
to the copier, whose helper processes read and write several at once (see copier). A range may finish before
the one below it; its files then wait, named by no manifest, until the ranges below are in place: a table's
manifest moves in id order only, so its mark never passes a range that is not in the lake.

Mutable records (contacts, accounts, opportunities, campaigns, campaign members) are small next to the history and
change in place, so each is kept as one compacted snapshot file, rewritten whole when its mark moves: the newest
`updated_at` and the row count (the count notices deletions, which leave `updated_at` alone). The previous
snapshot file is kept for one more refresh so a query that opened it can finish. (A delta file merged at read
time would make refreshes of very large record tables cheaper; at 100,000 contacts a rewrite takes a fraction of
a second, so it is not done.)

A lake copied from another database, or a mark row that is gone or changed (a flush, a reseed), makes that table
start again from nothing. Deleting history rows other than the last one copied is not noticed by a catch-up
(history is never deleted by the product; a contact's erasure cascades to it): `smarketing store status` compares
counts and `smarketing store rebuild` starts over. Each catch-up adds one file per month it touched; a month that
gathers COMPACT_AT files has its newer files merged into one by the catch-up that made it so (see `_compact`).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from smarketing.analytics.store import extract
from smarketing.analytics.store.layout import (
    HISTORY,
    MANIFEST,
    SNAPSHOTS,
    TABLES,
    Lake,
    LakeTable,
    Manifest,
    configured_lake,
    history_file_ids,
    lake_delete,
    lake_files,
    manifest_read,
    manifest_write,
)

CHUNK_IDS = 500_000  # history ids copied per step: bounds memory, and a crash loses at most one step's work
COMPACT_AT = 16  # files in one month partition that make a catch-up merge them (see parts_to_merge)
# How long a catch-up waits for PostgreSQL transactions writing a history table before it leaves that table as it
# is this time (a query must not hang behind a long import; the task queue's catch-up can afford to wait longer).
QUERY_LOCK_TIMEOUT_MS = 500
TASK_LOCK_TIMEOUT_MS = 30_000
# Called with a table's name after its new files are in place and before its manifest is committed (tests use it
# to stand in for a crash at the worst moment). Progress callbacks get (table, rows copied so far, rows to copy).
Interrupt = Callable[[str], None]
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class StoreState:
    """The lake's tables as a catch-up left them, and the moment they were known complete."""

    lake: Lake
    manifests: dict[str, Manifest]
    copied: dict[str, int]
    # When the catch-up that produced this state started: every row committed before then is in the lake ...
    caught_up_at: datetime | None = None
    # ... except in these tables, whose writers held them longer than the catch-up could wait.
    lagging: tuple[str, ...] = ()

    @functools.cached_property
    def manifests_json(self) -> dict[str, str]:
        """Each table's manifest as JSON, written once per state: what a reader compares to tell whether what it
        read before still holds (`touches_cache.store_identity`, `queries.kept`), asked for by every kept read of
        every figure."""
        return {name: manifest.to_json() for name, manifest in self.manifests.items()}

    @property
    def as_of(self) -> datetime:
        """When the lake was known to hold every committed row (the oldest such moment over its tables)."""
        if self.caught_up_at is not None and not self.lagging:
            return self.caught_up_at
        names = self.lagging or tuple(self.manifests)
        times = [self.manifests[n].synced_at for n in names if self.manifests[n].synced_at]
        earliest = datetime.fromisoformat(min(times)) if times else datetime.now(UTC)
        return min(earliest, self.caught_up_at) if self.caught_up_at else earliest


def _now() -> str:
    return datetime.now(UTC).isoformat()


@contextmanager
def _store_lock(lake: Lake, conn: Any) -> Iterator[None]:
    """One catch-up at a time per lake: two at once would both copy the rows above the same mark."""
    from django.db import connection

    handle = None
    if lake.is_local:
        import fcntl

        os.makedirs(lake.root, exist_ok=True)
        handle = open(os.path.join(lake.root, "_store.lock"), "w")  # noqa: SIM115 - held for the whole block
        fcntl.flock(handle, fcntl.LOCK_EX)
    elif connection.vendor == "postgresql":
        # A remote lake may be written from several machines; the database they share serialises them.
        extract.scalar(conn, "SELECT pg_advisory_lock(hashtext('smarketing-history-store'))")
        conn.commit()
    try:
        yield
    finally:
        if handle is not None:
            handle.close()
        elif connection.vendor == "postgresql":
            extract.scalar(conn, "SELECT pg_advisory_unlock(hashtext('smarketing-history-store'))")
            conn.commit()


def _remove_unlisted(lake: Lake, manifest: Manifest) -> None:
    """Delete the table's files that its manifest does not name (an interrupted copy's, or a retired one's)."""
    keep = set(manifest.files) | set(manifest.retired) | {MANIFEST}
    for rel in lake_files(lake, manifest.table):
        if rel not in keep and not rel.endswith("_store.lock"):
            lake_delete(lake, manifest.table, rel)


def _mark_text(conn: Any, table: LakeTable, row_id: int) -> str | None:
    value = extract.scalar(conn, extract.mark_sql(table).format(id=int(row_id)))
    return None if value is None else str(value)


class Lagging(Exception):
    """A history table's writers held it longer than the catch-up could wait: it stays as it is this time."""


def _horizon(conn: Any, table: LakeTable, lock_timeout_ms: int) -> int:
    """The largest id below which every row of `table` is settled (see the module docstring)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        extract.scalar(conn, f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}")
        try:
            extract.scalar(conn, f"LOCK TABLE {table.db_table()} IN SHARE MODE")
        except Exception as exc:  # the driver's lock-timeout error (SQLSTATE 55P03)
            conn.rollback()
            if "55P03" in str(exc) or "lock timeout" in str(exc):
                raise Lagging(table.name) from exc
            raise
    value = extract.scalar(conn, f"SELECT MAX(id) FROM {table.db_table()}")
    conn.commit()
    return int(value or 0)


def _start_over(lake: Lake, table: LakeTable) -> Manifest:
    manifest = Manifest(table.name, database=extract.database_label())
    manifest_write(lake, manifest)
    _remove_unlisted(lake, manifest)
    return manifest


@dataclass
class _Copy:
    """One table's catch-up: the ranges handed to the copier and what is committed of them so far."""

    table: LakeTable
    manifest: Manifest
    jobs: list[extract.CopyJob] = field(default_factory=list)
    ranges: list[tuple[int, int]] = field(default_factory=list)  # history: the id range of each job
    results: dict[int, extract.CopyResult] = field(default_factory=dict)  # finished, not yet committed
    committed: int = 0  # jobs committed, in order
    copied: int = 0
    mark: str = ""  # snapshot: the updated_at mark read before the copy


def _job(conn: Any, lake: Lake, table: LakeTable, sql: str, file_name: str, rows_guess: int,
         mark_sql: str = "", batch_rows: int = 0) -> extract.CopyJob:
    lo, hi = extract.analytics_bounds()
    return extract.CopyJob(table=table.name, source=conn.spec, sql=sql, lake=lake.url, file_name=file_name,
                           bounds=(lo.isoformat(), hi.isoformat()), mark_sql=mark_sql, rows_guess=rows_guess,
                           batch_rows=batch_rows)


def _history_plan(lake: Lake, conn: Any, table: LakeTable, lock_timeout_ms: int) -> _Copy:
    manifest = manifest_read(lake, table.name)
    horizon = _horizon(conn, table, lock_timeout_ms)
    stale = manifest.database != extract.database_label() or horizon < manifest.high_water
    if not stale and manifest.mark_id:
        stale = _mark_text(conn, table, manifest.mark_id) != manifest.mark_recorded_at
        conn.commit()
    if stale and (manifest.files or manifest.high_water or manifest.database):
        manifest = _start_over(lake, table)
    elif manifest.high_water < horizon:
        _remove_unlisted(lake, manifest)  # an interrupted copy's files, before copying the same rows again
    manifest.database = extract.database_label()
    if not manifest.lineage:
        manifest.lineage = uuid.uuid4().hex
    plan = _Copy(table, manifest)
    span = horizon - manifest.high_water
    if span <= 0:
        return plan
    parts = -(-span // CHUNK_IDS)
    step = -(-span // parts)  # equal ranges, so the helpers finish together
    marks = extract.mark_sql(table)
    for lo in range(manifest.high_water, horizon, step):
        hi = min(horizon, lo + step)
        plan.ranges.append((lo, hi))
        # A range holds at most hi - lo rows: read as one batch, it needs no typed first row.
        sql = extract.select_sql(table, f"id > {lo} AND id <= {hi}", typed_first_row=False)
        plan.jobs.append(_job(conn, lake, table, sql, f"part-{lo + 1:012d}-{hi:012d}.parquet", hi - lo, marks,
                              batch_rows=hi - lo))
    return plan


def _history_commit(lake: Lake, plan: _Copy, result: extract.CopyResult, *, interrupt: Interrupt | None,
                    progress: Progress | None) -> None:
    """Name one range's files in the manifest and move the mark past it (ranges commit in id order)."""
    manifest = plan.manifest
    hi = plan.ranges[plan.committed][1]
    if result.rows:
        manifest.rows += result.rows
        manifest.skipped += result.skipped
        manifest.mark_id, manifest.mark_recorded_at = result.last_id, result.mark or ""
    if interrupt is not None:
        interrupt(plan.table.name)
    manifest.files = [*manifest.files, *result.files]
    manifest.high_water = hi
    manifest.synced_at = _now()
    manifest_write(lake, manifest)
    plan.copied += result.rows
    if progress is not None:
        start, end = plan.ranges[0][0], plan.ranges[-1][1]
        progress(plan.table.name, hi - start, end - start)


def _history_finish(lake: Lake, plan: _Copy) -> None:
    if not plan.manifest.synced_at:  # a table still empty: say when it was first found so
        plan.manifest.synced_at = _now()
        manifest_write(lake, plan.manifest)
    if plan.copied:
        plan.manifest = _compact(lake, plan.manifest, plan.table)


def parts_to_merge(sized: list[tuple[str, int]]) -> list[str]:
    """Which of a crowded month's files (name, bytes) a compaction merges: its newest files, in id order, after the
    older ones that are each at least as large as all newer files together, which stay as they are.

    Why: a CRM written to all day adds a small file to the current month at every catch-up. Merging the month
    whole each COMPACT_AT catch-ups rewrites its large file around them (500,000 touches: about a second, inside
    a command); merging the small ones costs a hundredth of that. The large file is merged again once the newer
    files together outgrow it, so a month keeps few files (their sizes at least double going back). Should fewer
    than half of COMPACT_AT be left to merge, the month is merged whole."""
    ordered = sorted(sized, key=lambda item: (history_file_ids(item[0]) or (0, 0), item[0]))
    newer = sum(size for _, size in ordered)
    settled = 0
    for _, size in ordered:
        newer -= size
        if size < newer:
            break
        settled += 1
    chosen = ordered[settled:]
    if len(chosen) < max(2, COMPACT_AT // 2):
        chosen = ordered
    return [name for name, _ in chosen]


def _compact(lake: Lake, manifest: Manifest, table: LakeTable) -> Manifest:
    """Merge the newer files (`parts_to_merge`) of each month that gathered COMPACT_AT files or more (each catch-up
    adds one file per month it touched).

    The merged file is written first and the manifest then names it instead of its parts, which it keeps as
    `retired` until the next compaction (a query that opened them can finish); a crash in between leaves a file no
    manifest names, which the next copy deletes. The rows, and so the marks, do not change. A month's files hold
    disjoint id ranges and only a run of its newest is merged, so a merged file's name (the span of its parts) is
    never one a file of the month had.
    """
    by_month: dict[str, list[str]] = {}
    for rel in manifest.files:
        by_month.setdefault(rel.split("/", 1)[0], []).append(rel)
    crowded = {month: files for month, files in by_month.items() if len(files) >= COMPACT_AT}
    if not crowded:
        return manifest  # (before loading Parquet's writer: most catch-ups compact nothing)
    import pyarrow as pa
    import pyarrow.parquet as pq

    fs = lake.filesystem()
    merged_away: list[str] = []
    files = list(manifest.files)
    for month, crowd in crowded.items():
        infos = fs.get_file_info([lake.path(table.name, rel) for rel in crowd])
        parts = parts_to_merge([(rel, info.size or 0) for rel, info in zip(crowd, infos, strict=True)])
        ranges = [history_file_ids(rel) or (0, 0) for rel in parts]
        lo, hi = min(r[0] for r in ranges), max(r[1] for r in ranges)
        rows = pa.concat_tables([pq.read_table(lake.path(table.name, rel), filesystem=fs) for rel in parts])
        rel = f"{month}/part-{lo:012d}-{hi:012d}.parquet"
        extract.write_parquet(lake, f"{table.name}/{rel}", rows.sort_by("id"), table)
        files = [f for f in files if f not in parts] + [rel]
        merged_away += parts
    manifest.files, manifest.retired = files, merged_away
    manifest_write(lake, manifest)
    _remove_unlisted(lake, manifest)  # the files retired by the compaction before this one
    return manifest


def _snapshot_plan(lake: Lake, conn: Any, table: LakeTable, lock_timeout_ms: int) -> _Copy:
    from django.db import connection

    manifest = manifest_read(lake, table.name)
    cast = "MAX(updated_at)::text" if connection.vendor == "postgresql" else "CAST(MAX(updated_at) AS TEXT)"
    newest = extract.scalar(conn, f"SELECT {cast} FROM {table.db_table()}")
    count = int(extract.scalar(conn, f"SELECT COUNT(*) FROM {table.db_table()}") or 0)
    conn.commit()
    plan = _Copy(table, manifest, mark=f"{newest or ''}|{count}")
    if manifest.database == extract.database_label() and manifest.updated_mark == plan.mark and manifest.files:
        return plan
    _remove_unlisted(lake, manifest)
    # Read after the mark: a row changed in between is in this copy and moves the mark again (one refresh more).
    generation = manifest.generation + 1 if manifest.database == extract.database_label() else 1
    plan.jobs.append(_job(conn, lake, table, extract.select_sql(table), f"part-g{generation:08d}.parquet", count))
    return plan


def _snapshot_commit(lake: Lake, plan: _Copy, result: extract.CopyResult, *, interrupt: Interrupt | None,
                     progress: Progress | None) -> None:
    if interrupt is not None:
        interrupt(plan.table.name)
    old, label = plan.manifest, extract.database_label()
    generation = old.generation + 1 if old.database == label else 1
    plan.manifest = Manifest(plan.table.name, files=result.files, rows=result.rows, skipped=result.skipped,
                             updated_mark=plan.mark, generation=generation,
                             retired=old.files if old.database == label else [], database=label, synced_at=_now())
    manifest_write(lake, plan.manifest)
    _remove_unlisted(lake, plan.manifest)
    plan.copied = result.rows
    if progress is not None:
        progress(plan.table.name, result.rows, result.rows)


def store_catch_up(*, tables: list[str] | None = None, lake: Lake | None = None, interrupt: Interrupt | None = None,
                   progress: Progress | None = None, lock_timeout_ms: int = TASK_LOCK_TIMEOUT_MS) -> StoreState:
    """Copy what the database committed since the last catch-up into the lake; returns the tables' state."""
    chosen = [TABLES[name] for name in tables] if tables else [*HISTORY, *SNAPSHOTS]
    return _catch_up(lake or configured_lake(), chosen, empty_first=False, interrupt=interrupt, progress=progress,
                     lock_timeout_ms=lock_timeout_ms)


def _catch_up(lake: Lake, chosen: list[LakeTable], *, empty_first: bool, interrupt: Interrupt | None,
              progress: Progress | None, lock_timeout_ms: int) -> StoreState:
    from smarketing.analytics.store import copier

    started = datetime.now(UTC)
    manifests: dict[str, Manifest] = {}
    lagging: list[str] = []
    plans: list[_Copy] = []
    with extract.adbc_connect() as conn, _store_lock(lake, conn):
        if empty_first:
            for table in chosen:
                _start_over(lake, table)
        for table in chosen:
            planner = _history_plan if table.kind == "history" else _snapshot_plan
            try:
                plans.append(planner(lake, conn, table, lock_timeout_ms))
            except Lagging:
                manifests[table.name] = manifest_read(lake, table.name)
                lagging.append(table.name)
        # Every table's ranges go to the copier at once, so the helpers share them out; each table's manifest
        # moves as soon as its ranges up to that point are in place (a range that finishes early waits).
        owners = [(plan, k) for plan in plans for k in range(len(plan.jobs))]

        def done(index: int, result: extract.CopyResult) -> None:
            plan, k = owners[index]
            plan.results[k] = result
            commit = _history_commit if plan.table.kind == "history" else _snapshot_commit
            while plan.committed in plan.results:
                commit(lake, plan, plan.results.pop(plan.committed), interrupt=interrupt, progress=progress)
                plan.committed += 1

        copier.copy_all([job for plan in plans for job in plan.jobs], done)
        for plan in plans:
            if plan.table.kind == "history":
                _history_finish(lake, plan)
            manifests[plan.table.name] = plan.manifest
    copied = {name: 0 for name in lagging} | {plan.table.name: plan.copied for plan in plans}
    return StoreState(lake, {t.name: manifests[t.name] for t in chosen}, {t.name: copied[t.name] for t in chosen},
                      caught_up_at=started, lagging=tuple(lagging))


def store_rebuild(*, lake: Lake | None = None, progress: Progress | None = None) -> StoreState:
    """Empty the lake's tables and copy everything again (also compacts the history's files)."""
    from smarketing.analytics.store import copier

    copier.start(copier.HELPERS)  # every helper will have work: they load their libraries while the lake empties
    return _catch_up(lake or configured_lake(), [*HISTORY, *SNAPSHOTS], empty_first=True, interrupt=None,
                     progress=progress, lock_timeout_ms=TASK_LOCK_TIMEOUT_MS)


def store_state(*, lake: Lake | None = None) -> StoreState:
    """The lake's manifests as they are, without catching up."""
    lake = lake or configured_lake()
    return StoreState(lake, {t: manifest_read(lake, t) for t in TABLES}, {})
