"""The history store: exact incremental copies (also with concurrent writers and after a crash mid-copy), fresh
snapshots of the records, and DuckDB answering from it what it answers from the tables."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pyarrow.parquet as pq
import pytest
from django.db import connection, connections

from smarketing.analytics.store.layout import configured_lake, manifest_read, table_files
from smarketing.analytics.store.sync import store_catch_up, store_rebuild
from smarketing.campaigns.services import touchpoint_record
from smarketing.testing.factories import ContactFactory, TouchpointFactory

T0 = datetime(2026, 3, 30, 12, 0, tzinfo=UTC)


@pytest.fixture
def lake(settings, tmp_path):
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    return configured_lake()


def lake_rows(table: str, columns: list[str] | None = None) -> list[dict]:
    """Every row the manifest of `table` names, in id order (what a reader of the store gets)."""
    lake = configured_lake()
    files = table_files(lake, manifest_read(lake, table))
    rows = [r for f in files for r in pq.read_table(f, columns=columns).to_pylist()]
    return sorted(rows, key=lambda r: r["id"])


def db_ids(model) -> list[int]:
    return list(model.objects.order_by("id").values_list("id", flat=True))


def _record_touches(contact_ids: list[int], count: int, offset: int, errors: list[BaseException]) -> None:
    from smarketing.crm.models import Contact

    try:
        for i in range(count):
            contact = Contact.objects.get(pk=contact_ids[i % len(contact_ids)])
            touchpoint_record(contact=contact, channel="email", kind="email_click",
                              occurred_at=T0 + timedelta(days=(offset + i) % 60, minutes=i))
    except BaseException as exc:  # surfaced by the test, not lost in the thread
        errors.append(exc)
    finally:
        connections.close_all()


@pytest.mark.django_db(transaction=True)
def test_catch_up_while_two_writers_insert_copies_every_row_once(lake):
    from smarketing.campaigns.models import Touchpoint

    # given contacts, some touches already in the store, and two writers adding touches
    contacts = [ContactFactory().pk for _ in range(4)]
    for i in range(5):
        TouchpointFactory(contact_id=contacts[i % 4], occurred_at=T0 - timedelta(days=40 * i))
    store_catch_up(tables=["touchpoints"])
    errors: list[BaseException] = []
    writers = [threading.Thread(target=_record_touches, args=(contacts, 120, k * 7, errors)) for k in range(2)]
    for w in writers:
        w.start()
    # when the store catches up over and over while they write, and once more after they stop
    passes = 0
    while any(w.is_alive() for w in writers):
        store_catch_up(tables=["touchpoints"])
        passes += 1
    for w in writers:
        w.join()
    store_catch_up(tables=["touchpoints"])
    # then the store holds exactly the table's rows: none missing, none doubled, the same values
    assert not errors, errors
    assert passes >= 1
    rows = lake_rows("touchpoints", ["id", "contact_id", "occurred_at", "kind"])
    assert [r["id"] for r in rows] == db_ids(Touchpoint)
    assert len(rows) == 5 + 240
    stored = {r["id"]: (r["contact_id"], r["occurred_at"], r["kind"]) for r in rows}
    assert stored == {t.pk: (t.contact_id, t.occurred_at, t.kind) for t in Touchpoint.objects.all()}
    # and the rows sit in the month partitions of their time, Hive style
    manifest = manifest_read(lake, "touchpoints")
    assert manifest.rows == 245 and manifest.high_water == max(stored)
    months = {f.split("/")[0] for f in manifest.files}
    assert "month=2026-03" in months and "month=2026-04" in months and "month=2025-11" in months
    for f in table_files(lake, manifest):
        month = f.split("month=")[1][:7]
        assert {r["occurred_at"].strftime("%Y-%m") for r in pq.read_table(f).to_pylist()} == {month}


@pytest.mark.django_db(transaction=True)
def test_a_transaction_that_commits_after_a_later_id_is_not_skipped(lake):
    """PostgreSQL hands out ids before commit: id N may commit after id N+1; the mark must not pass it by."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time, so its ids commit in order")
    from django.db import transaction

    from smarketing.campaigns.models import Touchpoint

    contact = ContactFactory()
    inserted, release, errors = threading.Event(), threading.Event(), []

    def slow_writer() -> None:
        try:
            with transaction.atomic():
                touchpoint_record(contact=contact, channel="email", kind="email_open", occurred_at=T0)
                inserted.set()
                release.wait(30)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    slow = threading.Thread(target=slow_writer)
    slow.start()
    assert inserted.wait(30)
    touchpoint_record(contact=contact, channel="email", kind="email_click", occurred_at=T0)  # a later id, committed
    syncing = threading.Thread(target=lambda: (store_catch_up(tables=["touchpoints"]), connections.close_all()))
    syncing.start()
    # the catch-up either finishes (and must not have moved its mark past the open transaction's id) or waits for
    # that transaction: release it once the catch-up is seen finished or waiting on the table's lock
    for _ in range(1200):
        if not syncing.is_alive() or _waiting_on_lock(Touchpoint._meta.db_table):
            break
        time.sleep(0.05)
    release.set()
    slow.join()
    syncing.join()
    store_catch_up(tables=["touchpoints"])
    assert not errors
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == db_ids(Touchpoint)


def _waiting_on_lock(db_table: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = %s::regclass", [db_table])
        return bool(cursor.fetchone()[0])


class Crash(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_a_crash_between_the_files_and_the_mark_loses_and_doubles_nothing(lake):
    from smarketing.campaigns.models import Touchpoint

    contact = ContactFactory()
    for i in range(3):
        TouchpointFactory(contact=contact, occurred_at=T0 + timedelta(days=i))
    store_catch_up(tables=["touchpoints"])
    for i in range(4):
        TouchpointFactory(contact=contact, occurred_at=T0 + timedelta(days=20 * i))

    def crash(table: str) -> None:
        raise Crash(table)

    # when a catch-up dies after writing its new files but before committing its mark
    with pytest.raises(Crash):
        store_catch_up(tables=["touchpoints"], interrupt=crash)
    # then readers still see the old rows only (the new files are named by no manifest)
    assert len(lake_rows("touchpoints", ["id"])) == 3
    # and the next catch-up removes the leftovers and copies the rows once
    store_catch_up(tables=["touchpoints"])
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == db_ids(Touchpoint)
    files = {str(p.relative_to(lake.path("touchpoints"))) for p in
             __import__("pathlib").Path(lake.path("touchpoints")).rglob("*.parquet")}
    assert files == set(manifest_read(lake, "touchpoints").files)


@pytest.mark.django_db(transaction=True)
def test_records_are_refreshed_when_changed_or_deleted(lake):
    from smarketing.crm.services import contact_update

    # given contacts copied into the store
    a, b = ContactFactory(country="DE"), ContactFactory(country="FR")
    store_catch_up(tables=["contacts"])
    generation = manifest_read(lake, "contacts").generation
    # when nothing changed, a catch-up leaves the snapshot as it is
    assert store_catch_up(tables=["contacts"]).copied["contacts"] == 0
    assert manifest_read(lake, "contacts").generation == generation
    # when one changes, the snapshot shows the new value
    contact_update(contact=a, data={"country": "IT"})
    store_catch_up(tables=["contacts"])
    assert {r["id"]: r["country"] for r in lake_rows("contacts", ["id", "country"])} == {a.pk: "IT", b.pk: "FR"}
    # and when one is deleted (its updated_at mark cannot tell), the row count moves the mark
    b.delete()
    store_catch_up(tables=["contacts"])
    assert [r["id"] for r in lake_rows("contacts", ["id"])] == [a.pk]


@pytest.mark.django_db(transaction=True)
def test_a_lake_from_another_database_state_starts_over(lake):
    from smarketing.campaigns.models import Touchpoint

    contact = ContactFactory()
    TouchpointFactory(contact=contact, occurred_at=T0)
    store_catch_up(tables=["touchpoints"])
    # when the history is emptied and refilled (a reseed), the mark row is gone: the table is copied anew
    Touchpoint.objects.all().delete()
    TouchpointFactory(contact=contact, occurred_at=T0 + timedelta(days=1))
    store_catch_up(tables=["touchpoints"])
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == db_ids(Touchpoint)


@pytest.mark.django_db(transaction=True)
def test_rebuild_copies_every_table_once(lake):
    contact = ContactFactory()
    for i in range(3):
        TouchpointFactory(contact=contact, occurred_at=T0 + timedelta(days=31 * i))
    store_catch_up()
    TouchpointFactory(contact=contact, occurred_at=T0)
    state = store_rebuild()
    assert state.copied["touchpoints"] == 4 and len(lake_rows("touchpoints", ["id"])) == 4
    assert len(lake_rows("contacts", ["id"])) == 1


def test_arrow_and_duckdb_conversions_agree_on_awkward_values():
    import math

    import pyarrow as pa

    from smarketing.analytics.store import extract
    from smarketing.analytics.store.layout import TABLES

    # given SQLite-style text times (fractions, empty, out of range, missing) and odd numbers
    raw = pa.table({
        "id": [3, 1, 2, 4, 5, 6], "contact_id": [1, 1, None, 2, 2, 2], "account_id": [None] * 6,
        "campaign_id": [None] * 6, "channel": ["email"] * 6, "kind": ["email_open"] * 6,
        "occurred_at": ["2026-01-01 10:00:00.5", "2025-12-31 23:59:59", None, "1850-01-01 00:00:00", "",
                        "2026-01-02 00:00:00"],
        "value": [None, 1.5, float("nan"), 2.0, None, 1e301], "actor_id": [None] * 6, "source": [""] * 6,
        "source_id": [""] * 6, "recorded_at": ["2026-01-01 10:00:00"] * 6})
    table = TABLES["touchpoints"]
    fast, lenient = extract._conform_arrow(table, raw), extract._conform_duckdb(table, raw)

    def comparable(rows):
        return [{k: ("nan" if isinstance(v, float) and math.isnan(v) else v) for k, v in r.items()} for r in rows]

    # then both give the same rows, ordered by month then id, unrepresentable ones flagged
    assert comparable(fast.to_pylist()) == comparable(lenient.to_pylist())
    assert [(r["id"], r["month"], r["_ok"]) for r in fast.to_pylist()] == [
        (4, "1850-01", False), (1, "2025-12", True), (3, "2026-01", True), (6, "2026-01", False),
        (2, "none", False), (5, "none", False)]
    # and a time Arrow cannot read goes through DuckDB's parser instead of failing the copy
    odd = raw.set_column(6, "occurred_at", pa.array(["2026-01-01 10:00:00+00:00", "garbage", None, None, None,
                                                     None]))
    rows = {r["id"]: r for r in extract.conform(table, odd).to_pylist()}
    assert rows[3]["month"] == "2026-01" and rows[3]["_ok"] and rows[1]["_ok"] is False


@pytest.mark.django_db(transaction=True)
def test_a_query_does_not_wait_long_behind_a_writer_and_says_the_older_as_of(lake):
    """A catch-up before a query waits briefly for a table's writers, then leaves that table as it was."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite readers never wait for its writer")
    from django.db import transaction

    from smarketing.campaigns.models import Touchpoint

    contact = ContactFactory()
    TouchpointFactory(contact=contact, occurred_at=T0)
    first = store_catch_up(tables=["touchpoints"])
    inserted, release, errors = threading.Event(), threading.Event(), []

    def long_import() -> None:
        try:
            with transaction.atomic():
                touchpoint_record(contact=contact, channel="email", kind="email_open", occurred_at=T0)
                inserted.set()
                release.wait(60)
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    writer = threading.Thread(target=long_import)
    writer.start()
    try:
        assert inserted.wait(30)
        # when a catch-up runs with a short wait while the import holds the table
        state = store_catch_up(tables=["touchpoints", "contacts"], lock_timeout_ms=50)
        # then the touchpoints are left as they were, and the state's as-of is the last copy, not now
        assert state.lagging == ("touchpoints",) and state.copied["touchpoints"] == 0
        assert state.as_of <= first.as_of + timedelta(seconds=5) < state.caught_up_at + timedelta(seconds=5)
        assert state.as_of < state.caught_up_at  # type: ignore[operator]
    finally:
        release.set()
        writer.join()
    assert not errors
    store_catch_up(tables=["touchpoints"])
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == db_ids(Touchpoint)


@pytest.mark.django_db
def test_a_catch_up_inside_a_transaction_copies_and_marks_only_committed_rows(lake):
    # given rows this transaction wrote and has not committed
    contact = ContactFactory()
    TouchpointFactory(contact=contact, occurred_at=T0)
    # when the store catches up from inside it, then it neither copies them nor moves its mark past them
    state = store_catch_up(tables=["touchpoints"])
    assert state.copied["touchpoints"] == 0 and state.manifests["touchpoints"].high_water == 0


@pytest.mark.django_db(transaction=True)
def test_a_month_of_many_small_copies_is_merged_into_one_file(lake, monkeypatch):
    from pathlib import Path

    from smarketing.analytics.store import sync
    from smarketing.campaigns.models import Touchpoint

    monkeypatch.setattr(sync, "COMPACT_AT", 4)
    contact = ContactFactory()
    # when touches of one month arrive between catch-ups, five times
    for i in range(5):
        TouchpointFactory(contact=contact, occurred_at=T0 - timedelta(days=i))
        TouchpointFactory(contact=contact, occurred_at=T0 + timedelta(days=40))  # another month, each time too
        store_catch_up(tables=["touchpoints"])
    manifest = manifest_read(lake, "touchpoints")
    march = [f for f in manifest.files if f.startswith("month=2026-03/")]
    # then the month was merged when it reached four files, and the fifth copy added one more
    assert len(march) == 2 and len(manifest.files) <= 4
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == db_ids(Touchpoint)
    # and the merged-away files stay on disk for one round (a query may be reading them), then go
    assert manifest.retired and all(Path(lake.path("touchpoints", f)).exists() for f in manifest.retired)
    for i in range(8):
        TouchpointFactory(contact=contact, occurred_at=T0 - timedelta(days=i))
        store_catch_up(tables=["touchpoints"])
    after = manifest_read(lake, "touchpoints")
    on_disk = {str(p.relative_to(lake.path("touchpoints"))) for p in Path(lake.path("touchpoints")).rglob("*.parquet")}
    assert on_disk == set(after.files) | set(after.retired)
    assert not set(manifest.retired) & on_disk
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == db_ids(Touchpoint)


@pytest.mark.django_db(transaction=True)
def test_ranges_copied_side_by_side_commit_in_id_order_and_survive_a_crash(lake, monkeypatch):
    from pathlib import Path

    from smarketing.analytics.store import copier, sync
    from smarketing.campaigns.models import Touchpoint

    # given a touch in the store, then 22 more over several months, copied in ranges of 4 ids by two helpers
    monkeypatch.setattr(sync, "CHUNK_IDS", 4)
    monkeypatch.setattr(copier, "HELPERS", 2)
    monkeypatch.setattr(copier, "ROWS_PER_HELPER", 1)
    contact = ContactFactory()
    TouchpointFactory(contact=contact, occurred_at=T0)
    mark = store_catch_up(tables=["touchpoints"]).manifests["touchpoints"].high_water
    for i in range(22):
        TouchpointFactory(contact=contact, occurred_at=T0 + timedelta(days=9 * i))
    ids = db_ids(Touchpoint)
    commits: list[int] = []

    def crash_on_third(table: str) -> None:
        commits.append(len(commits))
        if len(commits) == 3:
            raise Crash(table)

    # when the catch-up dies before committing its third range
    with pytest.raises(Crash):
        store_catch_up(tables=["touchpoints"], interrupt=crash_on_third)
    # then the manifest names exactly the first two ranges (8 ids), whichever helper finished first
    manifest = manifest_read(lake, "touchpoints")
    assert manifest.high_water == mark + 8 and manifest.rows == 9
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == ids[:9]
    assert manifest.mark_id == ids[8]
    # and the next catch-up removes what the crash left and copies the rest once
    state = store_catch_up(tables=["touchpoints"])
    assert state.copied["touchpoints"] == 14
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == ids
    on_disk = {str(p.relative_to(lake.path("touchpoints"))) for p in Path(lake.path("touchpoints")).rglob("*.parquet")}
    assert on_disk == set(manifest_read(lake, "touchpoints").files)


@pytest.mark.django_db(transaction=True)
def test_an_empty_record_table_is_one_empty_file_and_is_not_copied_again(lake):
    # given no campaign members, when the store catches up twice
    first = store_catch_up(tables=["campaign_members"])
    again = store_catch_up(tables=["campaign_members"])
    # then the snapshot is one file with no rows, and nothing is copied the second time
    manifest = manifest_read(lake, "campaign_members")
    assert first.copied["campaign_members"] == 0 and len(manifest.files) == 1 and manifest.rows == 0
    assert pq.read_table(table_files(lake, manifest)[0]).num_rows == 0
    assert again.manifests["campaign_members"].generation == manifest.generation == 1


@pytest.mark.django_db(transaction=True)
def test_a_time_arrow_cannot_read_is_flagged_in_the_lake_not_a_failed_copy(lake):
    if connection.vendor != "sqlite":
        pytest.skip("PostgreSQL's timestamp columns hold only times it can read")
    from smarketing.campaigns.models import Touchpoint

    # given touches whose stored times were edited by hand: one with an offset, one unreadable
    contact = ContactFactory()
    plain, offset, garbage = (TouchpointFactory(contact=contact, occurred_at=T0).pk for _ in range(3))
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Touchpoint._meta.db_table} SET occurred_at = %s WHERE id = %s",
                       ["2026-04-01 01:30:00+02:00", offset])
        cursor.execute(f"UPDATE {Touchpoint._meta.db_table} SET occurred_at = %s WHERE id = %s", ["garbage", garbage])
    # when the store catches up (the helper's copy falls back to DuckDB's lenient parser)
    state = store_catch_up(tables=["touchpoints"])
    # then every row is copied: the offset read as UTC, the unreadable one flagged and in the no-month partition
    assert state.copied["touchpoints"] == 3 and state.manifests["touchpoints"].skipped == 1
    rows = {r["id"]: r for r in lake_rows("touchpoints", ["id", "occurred_at", "_ok"])}
    assert rows[plain]["occurred_at"] == T0 and rows[plain]["_ok"]
    assert rows[offset]["occurred_at"] == datetime(2026, 3, 31, 23, 30, tzinfo=UTC) and rows[offset]["_ok"]
    assert rows[garbage]["occurred_at"] is None and not rows[garbage]["_ok"]
    assert sorted(f.split("/")[0] for f in state.manifests["touchpoints"].files) == ["month=2026-03", "month=none"]


def test_a_reader_of_the_rows_above_a_mark_opens_only_the_files_that_may_hold_them():
    from smarketing.analytics.store.layout import Manifest, history_file_ids, manifest_above

    # given a history table's files: copied ranges, a month merged by a compaction, a name without a range
    files = ["month=2026-10/part-000000000001-000000500000.parquet",
             "month=2026-11/part-000000000001-000000501000.parquet",  # merged: its span reaches the newest rows
             "month=2026-11/part-000000501001-000000502000.parquet",
             "month=2026-10/part-000000500001-000000501000.parquet",
             "month=2026-12/odd.parquet"]
    manifest = Manifest("touchpoints", files=files, retired=["month=2026-11/part-000000000001-000000400000.parquet"],
                        high_water=502000, lineage="L")
    assert history_file_ids(files[2]) == (501001, 502000) and history_file_ids(files[4]) is None
    # when a reader wants the rows above id 500,500
    above = manifest_above(manifest, 500_500)
    # then it opens the files whose names reach above it, and any file whose name says nothing
    assert above.files == [files[1], files[2], files[3], files[4]]
    assert manifest_above(manifest, 502_000).files == [files[4]]
    assert (above.high_water, above.lineage) == (502000, "L") and manifest.files == files


def _part(lo: int, hi: int) -> str:
    return f"month=2026-11/part-{lo:012d}-{hi:012d}.parquet"


@pytest.mark.parametrize(("sizes", "merged"), [
    # copies of about one size (a month's first copy in ranges, or small copies only): all of them
    ([100, 90, 110, 100], [0, 1, 2, 3]),
    # a large merged file and small copies after it: the small ones
    ([5000, 10, 10, 10], [1, 2, 3]),
    # a file as large as the newer ones together stays too; once they outgrow it, it is merged with them
    ([5000, 40, 10, 10, 10, 10], [2, 3, 4, 5]),
    ([5000, 30, 10, 10, 10, 10], [1, 2, 3, 4, 5]),
])
def test_a_crowded_month_merges_its_newest_files_and_leaves_the_large_older_ones(sizes, merged, monkeypatch):
    from smarketing.analytics.store import sync

    monkeypatch.setattr(sync, "COMPACT_AT", 4)
    names = [_part(1000 * k + 1, 1000 * (k + 1)) for k in range(len(sizes))]
    shuffled = list(reversed(list(zip(names, sizes, strict=True))))  # (the manifest's order is not the ids')
    assert sync.parts_to_merge(shuffled) == [names[k] for k in merged]


def test_a_month_with_too_few_newer_files_to_merge_is_merged_whole(monkeypatch):
    from smarketing.analytics.store import sync

    monkeypatch.setattr(sync, "COMPACT_AT", 16)
    # sizes that halve file after file: each older one outweighs all newer ones together
    sizes = [2 ** (20 - k) for k in range(16)]
    names = [_part(1000 * k + 1, 1000 * (k + 1)) for k in range(16)]
    assert sync.parts_to_merge(list(zip(names, sizes, strict=True))) == names


@pytest.mark.django_db(transaction=True)
def test_a_month_merged_before_is_not_rewritten_for_the_small_copies_after_it(lake, monkeypatch):
    from pathlib import Path

    from smarketing.analytics.store import sync
    from smarketing.campaigns.models import Touchpoint
    from smarketing.campaigns.services import touchpoints_record_many

    monkeypatch.setattr(sync, "COMPACT_AT", 4)
    contact = ContactFactory()

    def record(n: int, tag: str) -> None:
        touchpoints_record_many(touchpoints=[
            {"contact_id": contact.pk, "account_id": contact.account_id, "channel": "email", "kind": "email_click",
             "occurred_at": T0 - timedelta(minutes=i), "source": "test", "source_id": f"{tag}-{i}"}
            for i in range(n)])
        store_catch_up(tables=["touchpoints"])

    def march() -> list[str]:
        return [f for f in manifest_read(lake, "touchpoints").files if f.startswith("month=2026-03/")]

    # given a month holding one large copy
    record(3000, "large")
    large = march()
    assert len(large) == 1
    # when small copies land on it until it is crowded
    for k in range(3):
        record(1, f"s{k}")
    # then the small ones were merged into one beside the large file, which was left as it was
    after = manifest_read(lake, "touchpoints")
    assert len(march()) == 2 and large[0] in march()
    assert len(after.retired) == 3 and large[0] not in after.retired
    assert all(Path(lake.path("touchpoints", f)).exists() for f in after.retired)
    assert [r["id"] for r in lake_rows("touchpoints", ["id"])] == db_ids(Touchpoint)
