"""What an embedded engine keeps of the reads of the whole history that every period slices, and what of it
outlives a change of the store.

A kept read (every MQL entry with its decision, every touch's time, the funnel timeline of every subject) does not
depend on the period or model asked for: it is read once, kept in the engine's memo, and each period's figure is a
slice of it (`kept_in`). The web's figure tasks carry the memo from one computation to the next
(`web.data.common._memo_carry`). Each kept read is declared below (`Kept`: its key in the memo and the lake tables
it reads, through the engine's datasets or through the ORM whose tables the lake mirrors) and its value remembers
the manifests of those tables as it was read. When the store has changed since (a catch-up after CRM writes),
`kept_fate` judges each value: its tables unchanged, it is kept as it is; the tables its reader can extend only
appended to (the same lineage at a higher high-water mark) and the others unchanged, it is extended by the rows
appended (`kept_in`'s `extend`); otherwise it is read afresh. So a thousand touches recorded make the touch times
and the journey events take in a thousand rows, and leave the MQL decisions, SLA events and funnel timelines as
they were, instead of every worker reading the whole history again after each catch-up.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

T = TypeVar("T")
# The key an engine's memo holds (True) when a caller carries the memo on to later computations over the same store
# (the web's figure tasks). Reads of the whole history that cost more than one period's are kept
# (`kept_in(..., carried_only=True)`) only then: a one-off run (the CLI, the SLA report) reads its period alone.
MEMO_CARRIED = "metrics:memo carried"
_VALUE = "metrics:kept"  # memo key (_VALUE, key): the kept value
_SOURCE = "metrics:kept from"  # memo key (_SOURCE, key): what it was read from (`_Source`)


@dataclass(frozen=True)
class Kept:
    """A kept read: its key in the memo, the lake tables it reads (None: every table, so any change of the store
    drops it), and those of them whose appended rows its reader can take in."""

    key: str
    tables: frozenset[str] | None
    appendable: frozenset[str] = frozenset()


def lake_tables(*datasets: str) -> frozenset[str]:
    """The lake tables the engine's datasets read (`store.reader.dataset_sql`): each dataset's own table, the
    corrections that take rows out of it, and the accounts the contacts take their segment from."""
    from smarketing.analytics.store.reader import CORRECTIONS, DATASET_TABLE

    found: set[str] = set()
    for name in datasets:
        found.add(DATASET_TABLE[name])
        if name in CORRECTIONS:
            found.add(CORRECTIONS[name][0])
        if name == "contacts":
            found.add("accounts")
    return frozenset(found)


def _kept(key: str, datasets: tuple[str, ...] = (), *, mirrored: tuple[str, ...] = (),
          appendable: tuple[str, ...] = ()) -> Kept:
    """A kept read of the engine's `datasets` and of the ORM's models whose lake tables are `mirrored`."""
    return Kept(key, lake_tables(*datasets) | frozenset(mirrored), frozenset(appendable))


def _subjects(level: str) -> tuple[str, ...]:
    """What a level's history reads besides itself: an account's takes the account of a contact without one."""
    return ("contacts",) if level == "account" else ()


# ---------------------------------------------------------------------------------------------- the kept reads

# `metrics.activity._touch_times`: every touch's time (of a contact), sorted.
TOUCH_TIMES_KEPT = _kept("touchpoint_times", ("touchpoints",), appendable=("touchpoints",))
# `metrics.lifecycle._decided_history`: every MQL entry (the engine's stage changes) with its decision, read through
# `lifecycle.selectors_report.mql_decision_list` (stage changes, their corrections and the handoff decisions).
MQL_DECISIONS_KEPT = _kept("mql_decisions", ("stage_changes",), mirrored=("handoff_decisions",))
# `metrics.lifecycle._cohort_steps`: the contacts' funnel timeline.
COHORT_STEPS_KEPT = _kept("cohort_steps", ("stage_changes",))
# `metrics.sla._history_events`: the met and breached events of the sales clocks, read through
# `lifecycle.selectors_sla.sales_sla_events`. It joins the clocks (not mirrored) for their side and start, which
# never change once a clock is created; a clock's met or breached event is a row of the mirrored events.
SALES_SLA_EVENTS_KEPT = _kept("sales_sla_events", mirrored=("sla_events",))


def sorted_times_kept(key: str, datasets: tuple[str, ...] | None) -> Kept:
    """`metrics.rows.sorted_times` of a table built on `datasets` (None: not declared, any change drops it)."""
    return Kept(f"sorted_times:{key}", None if datasets is None else lake_tables(*datasets))


def funnel_timeline_kept(level: str, from_stage: str) -> Kept:
    """`queries.funnel._kept_slice`: the whole history's funnel timeline of a level from a stage."""
    return _kept(f"funnel_timeline:{level}:{from_stage}", ("stage_changes", *_subjects(level)))


def journey_events_kept(level: str) -> Kept:
    """`queries.journeys._period_events`: every event (touches and stage changes) of a level, sorted."""
    return _kept(f"journey_events:{level}", ("stage_changes", "touchpoints", *_subjects(level)),
                 appendable=("stage_changes", "touchpoints"))


def journey_existing_kept(level: str) -> Kept:
    """`queries.journeys._existing_subjects`: subjects whose account has an expansion or renewal opportunity."""
    return _kept(f"journey_existing:{level}", ("opportunities", *(("contacts",) if level == "contact" else ())))


def reach_epochs_kept(level: str, stage: str) -> Kept:
    """`queries.attribution_journeys._reach_epochs`: each subject's first arrival at a stage."""
    return _kept(f"reach_epochs:{level}:{stage}", ("stage_changes", *_subjects(level)))


# ------------------------------------------------------------------------------------------------ the decision


@dataclass(frozen=True)
class Appended:
    """A kept value's tables only appended to since it was read: per table appended to, the high-water mark it was
    read up to (its rows with an id above the mark are the new ones)."""

    above: Mapping[str, int]


Fate = Literal["same"] | Appended | None


def kept_fate(was: Mapping[str, str], now: Mapping[str, str], appendable: Collection[str]) -> Fate:
    """What becomes of a value read from tables whose manifests were `was` (table → manifest JSON), for a reader of
    the store whose manifests are `now`: kept as it is ("same"), extended by the rows appended to its `appendable`
    tables (`Appended`), or read afresh (None: any other table changed, or one copied anew)."""
    from smarketing.analytics.store.layout import Manifest, manifest_appended

    above: dict[str, int] = {}
    for table, manifest in was.items():
        new = now.get(table, "")
        if new == manifest:
            continue
        if table not in appendable or manifest_appended(manifest, new) != "appended":
            return None
        above[table] = Manifest.from_json(manifest).high_water
    return Appended(above) if above else "same"


@dataclass(frozen=True)
class _Source:
    """What a kept value was read from: its tables' manifests, and the tables its reader extends by appends."""

    manifests: dict[str, str] | None  # None: the engine reads no store (kept for its own life only)
    appendable: frozenset[str]


def _manifests(engine: Any, tables: frozenset[str] | None) -> dict[str, str] | None:
    """The manifests (JSON) of `tables` (None: all) in the store the engine reads; None when it reads none."""
    store = getattr(engine, "store", None)
    if store is None or getattr(engine, "frames", None) is not None:
        return None
    written = store.manifests_json
    return dict(written) if tables is None else {name: written.get(name, "") for name in tables}


def kept_in(engine: Any, kept: Kept, read: Callable[[], T], *, extend: Callable[[T, Appended], T] | None = None,
            carried_only: bool = False) -> T | None:
    """What `read()` returns (a read that does not depend on the period or model), read once per embedded engine
    and kept in its memo; None on an engine that keeps no memo (a database's own engine), and with `carried_only`
    on one whose memo is not carried to later computations (`MEMO_CARRIED`). A value carried from another store
    is kept, extended (`extend(value, appended)`: the value with the rows above the marks taken in, equal to a
    read afresh) or read again, as `kept_fate` judges it."""
    if not getattr(engine, "embedded", False) or (carried_only and not engine.memo.get(MEMO_CARRIED)):
        return None
    memo = engine.memo
    value_key, source_key = (_VALUE, kept.key), (_SOURCE, kept.key)
    now = _manifests(engine, kept.tables)
    appendable = kept.appendable if extend is not None else frozenset()
    fate: Fate = None
    if value_key in memo:
        was: _Source | None = memo.get(source_key)
        if was is None or was.manifests is None or now is None:
            fate = "same" if (was is None or was.manifests is None) and now is None else None
        else:
            fate = kept_fate(was.manifests, now, appendable)
    if fate == "same":
        found: T = memo[value_key]
        return found
    value = extend(memo[value_key], fate) if isinstance(fate, Appended) and extend is not None else read()
    memo[value_key] = value
    memo[source_key] = _Source(now, appendable)
    return value


def kept_carried(memo: Mapping[Any, Any], was: tuple[str, Any], now: tuple[str, Any]) -> dict[Any, Any]:
    """The kept values of `memo`, read from the store `was` (lake, ((table, manifest JSON), …)), that serve a
    reader of the store `now`: those `kept_fate` keeps or extends (`kept_in` extends them when next asked for),
    with what they were read from; nothing else of the memo."""
    if was[0] != now[0]:
        return {}
    manifests = dict(now[1])
    found: dict[Any, Any] = {}
    held = dict(memo)  # a copy: another computation may be adding to the memo meanwhile
    for key, source in held.items():
        if not (isinstance(key, tuple) and key[0] == _SOURCE and (_VALUE, key[1]) in held):
            continue
        if source.manifests is not None and kept_fate(source.manifests, manifests, source.appendable) is not None:
            found[key], found[_VALUE, key[1]] = source, held[_VALUE, key[1]]
    return found
