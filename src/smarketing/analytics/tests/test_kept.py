"""What becomes of a kept read of the whole history when the store changes (`queries.kept`): kept as it is while the
tables it reads are unchanged, whatever else changed; extended when only tables its reader extends were appended to
(the same lineage and database at a higher high-water mark); dropped when any other of its tables changed or one
was copied anew. Each declared read, at each level, against a change of each table of the store."""

from __future__ import annotations

from typing import Any

import pytest

from smarketing.analytics.queries import kept as kept_module
from smarketing.analytics.queries.kept import (
    COHORT_STEPS_KEPT,
    MQL_DECISIONS_KEPT,
    SALES_SLA_EVENTS_KEPT,
    TOUCH_TIMES_KEPT,
    Appended,
    Kept,
    funnel_timeline_kept,
    journey_events_kept,
    journey_existing_kept,
    kept_carried,
    kept_fate,
    lake_tables,
    reach_epochs_kept,
    sorted_times_kept,
)
from smarketing.analytics.store.layout import TABLES, Lake, Manifest
from smarketing.analytics.store.sync import StoreState

LAKE = "/lake"
DECLARED: list[Kept] = [
    TOUCH_TIMES_KEPT, MQL_DECISIONS_KEPT, COHORT_STEPS_KEPT, SALES_SLA_EVENTS_KEPT,
    sorted_times_kept("contact_stage_entries", ("stage_changes",)), sorted_times_kept("opportunities:opened_at", None),
    *(f(level) for level in ("contact", "account") for f in (journey_events_kept, journey_existing_kept)),
    *(f(level, "lead") for level in ("contact", "account") for f in (funnel_timeline_kept, reach_epochs_kept)),
]


def _manifest(table: str, *, high_water: int = 100, lineage: str = "one", database: str = "db") -> str:
    return Manifest(table, files=[f"part-{high_water}.parquet"], high_water=high_water, lineage=lineage,
                    database=database).to_json()


def _store(**changed: str) -> dict[str, str]:
    return {name: changed.get(name, _manifest(name)) for name in TABLES}


def test_unchanged_tables_keep_the_value_whatever_else_changed():
    was = _store()
    assert kept_fate({"touchpoints": was["touchpoints"]}, _store(contacts=_manifest("contacts", lineage="two")),
                     ()) == "same"


def test_tables_appended_to_extend_the_value_from_the_marks_it_was_read_up_to():
    was = {"touchpoints": _manifest("touchpoints"), "stage_changes": _manifest("stage_changes", high_water=7),
           "touchpoint_corrections": _manifest("touchpoint_corrections")}
    now = {**was, "touchpoints": _manifest("touchpoints", high_water=1100),
           "stage_changes": _manifest("stage_changes", high_water=9)}
    assert kept_fate(was, now, {"touchpoints", "stage_changes"}) == Appended({"touchpoints": 100, "stage_changes": 7})
    # a compaction (other files, the same mark) extends by nothing
    compacted = {**was, "touchpoints": Manifest("touchpoints", files=["all.parquet"], high_water=100, lineage="one",
                                                database="db").to_json()}
    assert kept_fate(was, compacted, {"touchpoints"}) == Appended({"touchpoints": 100})


@pytest.mark.parametrize("now", [
    _manifest("touchpoints", high_water=200, lineage="two"),  # copied anew
    _manifest("touchpoints", high_water=200, database="other"),  # from another database
    _manifest("touchpoints", high_water=50),  # a mark gone back
    "",  # no longer in the store
])
def test_a_table_copied_anew_drops_the_value(now):
    assert kept_fate({"touchpoints": _manifest("touchpoints")}, {"touchpoints": now}, {"touchpoints"}) is None


def test_appends_to_a_table_the_reader_does_not_extend_drop_the_value():
    was = {"touchpoints": _manifest("touchpoints"), "touchpoint_corrections": _manifest("touchpoint_corrections")}
    corrected = {**was, "touchpoint_corrections": _manifest("touchpoint_corrections", high_water=101)}
    assert kept_fate(was, corrected, {"touchpoints"}) is None
    assert kept_fate(was, {**was, "touchpoints": _manifest("touchpoints", high_water=101)}, ()) is None


def test_the_datasets_read_their_tables_corrections_and_the_contacts_accounts():
    assert lake_tables("touchpoints") == {"touchpoints", "touchpoint_corrections"}
    assert lake_tables("stage_changes", "contacts") == {"stage_changes", "stage_change_corrections", "contacts",
                                                        "accounts"}
    assert lake_tables("opportunities") == {"opportunities"}


def _memo(kept: Kept, manifests: dict[str, str], *, extends: bool) -> dict[Any, Any]:
    """A memo holding `kept`'s value read from the store `manifests`, as `kept_in` leaves it."""
    tables = set(manifests) if kept.tables is None else kept.tables
    source = kept_module._Source({t: manifests[t] for t in tables}, kept.appendable if extends else frozenset())
    return {("metrics:kept", kept.key): object(), ("metrics:kept from", kept.key): source, "other": 1}


@pytest.mark.parametrize("kept", DECLARED, ids=[k.key for k in DECLARED])
@pytest.mark.parametrize("table", sorted(TABLES))
@pytest.mark.parametrize("how", ["copied anew", "appended to"])
def test_each_kept_read_is_dropped_by_a_change_of_a_table_it_reads_and_kept_through_any_other(kept, table, how):
    # given the value of a declared kept read (its reader extends it where it can), and the store changed since in
    # one table only
    was = _store()
    changed = _manifest(table, lineage="two") if how == "copied anew" else _manifest(table, high_water=150)
    now = _store(**{table: changed})
    memo = _memo(kept, was, extends=True)
    # when the memo is carried to a computation over the changed store
    carried = kept_carried(memo, (LAKE, tuple(sorted(was.items()))), (LAKE, tuple(sorted(now.items()))))
    # then the value goes on only when the table is not one it reads, or was appended to and its reader extends it
    reads = kept.tables is None or table in kept.tables
    survives = not reads or (how == "appended to" and table in kept.appendable)
    assert (("metrics:kept", kept.key) in carried) == survives
    assert "other" not in carried  # nothing else of the memo goes on
    if survives:
        assert carried["metrics:kept", kept.key] is memo["metrics:kept", kept.key]


def test_a_read_without_an_extension_is_dropped_by_an_append_to_its_tables():
    was = _store()
    now = _store(touchpoints=_manifest("touchpoints", high_water=150))
    memo = _memo(TOUCH_TIMES_KEPT, was, extends=False)
    assert kept_carried(memo, (LAKE, tuple(sorted(was.items()))), (LAKE, tuple(sorted(now.items())))) == {}


def test_nothing_is_carried_to_another_lake():
    was = _store()
    memo = _memo(COHORT_STEPS_KEPT, was, extends=True)
    assert kept_carried(memo, (LAKE, tuple(sorted(was.items()))), ("/other", tuple(sorted(was.items())))) == {}


class _Engine:
    """An embedded engine over a store of `manifests` (what `kept_in` reads of one)."""

    embedded = True
    frames = None

    def __init__(self, manifests: dict[str, str], memo: dict[Any, Any]) -> None:
        self.store = StoreState(Lake(LAKE), {t: Manifest.from_json(m) for t, m in manifests.items()}, {})
        self.memo = memo


def test_kept_in_keeps_extends_or_reads_again_as_the_store_moved_on():
    reads: list[int] = []

    def read() -> list[int]:
        reads.append(1)
        return [1, 2]

    def extend(value: list[int], appended: Appended) -> list[int]:
        return [*value, appended.above["touchpoints"]]

    was = _store()
    memo: dict[Any, Any] = {}
    # read once, then kept while the store is the same
    assert kept_module.kept_in(_Engine(was, memo), TOUCH_TIMES_KEPT, read, extend=extend) == [1, 2]
    assert kept_module.kept_in(_Engine(was, memo), TOUCH_TIMES_KEPT, read, extend=extend) == [1, 2]
    assert len(reads) == 1
    # extended after touches were appended, then kept again for that store
    appended = _store(touchpoints=_manifest("touchpoints", high_water=150))
    assert kept_module.kept_in(_Engine(appended, memo), TOUCH_TIMES_KEPT, read, extend=extend) == [1, 2, 100]
    assert kept_module.kept_in(_Engine(appended, memo), TOUCH_TIMES_KEPT, read, extend=extend) == [1, 2, 100]
    # read again after a correction
    corrected = {**appended, "touchpoint_corrections": _manifest("touchpoint_corrections", high_water=101)}
    assert kept_module.kept_in(_Engine(corrected, memo), TOUCH_TIMES_KEPT, read, extend=extend) == [1, 2]
    assert len(reads) == 2
    # an engine that is not embedded keeps nothing; carried_only keeps nothing where the memo is not carried
    engine = _Engine(was, {})
    engine.embedded = False
    assert kept_module.kept_in(engine, TOUCH_TIMES_KEPT, read) is None
    assert kept_module.kept_in(_Engine(was, {}), TOUCH_TIMES_KEPT, read, carried_only=True) is None


@pytest.mark.parametrize("dataset", ["stage_changes", "touchpoints", "contacts", "accounts", "opportunities",
                                     "campaigns"])
def test_the_tables_of_a_dataset_are_those_its_sql_reads(dataset):
    from smarketing.analytics.store.layout import Lake
    from smarketing.analytics.store.reader import DATASET_TABLE, dataset_sql

    manifests = {name: Manifest(name, files=["part.parquet"]) for name in TABLES}
    sql = dataset_sql(None, dataset, Lake(LAKE), manifests)
    assert set(DATASET_TABLE) == {"stage_changes", "touchpoints", "contacts", "accounts", "opportunities",
                                  "campaigns"}
    assert {name for name in TABLES if f"{LAKE}/{name}/part.parquet" in sql} == lake_tables(dataset)
