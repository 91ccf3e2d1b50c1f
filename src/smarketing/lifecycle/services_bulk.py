"""Bulk writes of lifecycle history for imports: many past stage changes at once, each judged by its own time.

Imported history is the past: recording it starts no SLA clock, sends no webhook and notifies nobody. Each row
is stamped with the playbook version in force at its `occurred_at`, chains its `from_stage` from the subject's
history at that time, and moves the subject's cached stage only when it is the subject's latest change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from smarketing.core import bulk, clock
from smarketing.core.errors import ValidationFailed
from smarketing.crm.services import accounts_stage_bulk_set, contacts_stage_bulk_set
from smarketing.lifecycle.enums import ActorKind, Stage
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.selectors import playbook_terms, playbook_versions_in_force

CHUNK = 2000
STAGES = frozenset(Stage.values)  # Why a constant: TextChoices.values builds a new list on every access


@dataclass(frozen=True)
class PastStageChange:
    """One stage change that already happened, as an import knows it (exactly one of contact or account)."""

    to_stage: str
    occurred_at: datetime
    contact_id: int | None = None
    account_id: int | None = None
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    source_key: str = ""  # the import's key for this change: a re-import with the same key adds nothing


def _check(row: PastStageChange) -> None:
    record = f"stage_change:{row.source_key or (row.contact_id or row.account_id)}"
    if (row.contact_id is None) == (row.account_id is None):
        raise ValidationFailed(f"{record}: a stage change needs exactly one of contact or account", field="contact",
                               record=record)
    if row.to_stage not in STAGES:
        raise ValidationFailed(f"{record}: unknown stage {row.to_stage!r}; stages are {Stage.values}",
                               field="to_stage", record=record)
    if not isinstance(row.occurred_at, datetime) or row.occurred_at.tzinfo is None:
        raise ValidationFailed(f"{record}: occurred_at must carry a time zone", field="occurred_at", record=record)
    if len(row.source_key) > 128:
        raise ValidationFailed(f"{record}: source_key is longer than 128 characters", field="source_key",
                               record=record)
    if len(row.reason) > 500:
        raise ValidationFailed(f"{record}: reason is longer than 500 characters", field="reason", record=record)


def _history(column: str, ids: list[int]) -> dict[int, list[tuple[datetime, int, str]]]:
    """The recorded changes of these subjects: subject → [(occurred_at, id, to_stage)]."""
    out: dict[int, list[tuple[datetime, int, str]]] = {}
    for start in range(0, len(ids), CHUNK):
        rows = (StageChange.objects.filter(**{f"{column}__in": ids[start:start + CHUNK]})
                .values_list(column, "occurred_at", "id", "to_stage"))
        for subject, at, pk, stage in rows:
            out.setdefault(subject, []).append((at, pk, stage))
    return out


@transaction.atomic
def stage_changes_bulk_record(*, changes: list[PastStageChange], actor_kind: str = ActorKind.IMPORT) -> int:
    """Record past stage changes in the caller's transaction, each stamped with the version in force at its time.

    Rows whose source key is already recorded are skipped; a key given twice in one call is refused. Returns how
    many changes were recorded.
    """
    if actor_kind not in ActorKind.values:
        raise ValidationFailed(f"unknown actor kind {actor_kind!r}", field="actor_kind")
    keys: set[str] = set()
    for row in changes:
        _check(row)
        if row.source_key:
            if row.source_key in keys:
                raise ValidationFailed(f"source_key {row.source_key!r} appears twice in one import",
                                       field="source_key", record=f"stage_change:{row.source_key}")
            keys.add(row.source_key)
    recorded: set[str] = set()
    key_list = sorted(keys)
    for start in range(0, len(key_list), CHUNK):
        recorded.update(StageChange.objects.filter(source_key__in=key_list[start:start + CHUNK])
                        .values_list("source_key", flat=True))
    todo = [row for row in changes if not row.source_key or row.source_key not in recorded]
    if not todo:
        return 0

    in_force = playbook_versions_in_force()
    stages_of = {v.pk: playbook_terms(v) for v in in_force.versions}
    built: list[tuple[PastStageChange, PlaybookVersion]] = []
    for row in todo:
        version = in_force.at(row.occurred_at)
        if stages_of[version.pk].stage(row.to_stage) is None:
            raise ValidationFailed(f"stage {row.to_stage!r} is not defined in playbook v{version.number}, in force "
                                   f"at {row.occurred_at:%Y-%m-%d %H:%M}", field="to_stage",
                                   record=f"stage_change:{row.source_key}")
        built.append((row, version))

    now = connection.ops.adapt_datetimefield_value(clock.now())
    stamp = connection.ops.adapt_datetimefield_value
    as_json = StageChange._meta.get_field("details").get_db_prep_save
    out: list[tuple[Any, ...]] = []
    for column, subject_of, stage_set in (("contact_id", lambda r: r.contact_id, contacts_stage_bulk_set),
                                          ("account_id", lambda r: r.account_id, accounts_stage_bulk_set)):
        mine = [(n, row, version) for n, (row, version) in enumerate(built) if subject_of(row) is not None]
        if not mine:
            continue
        history = _history(column, sorted({subject_of(row) for _, row, _ in mine}))
        # One timeline per subject: recorded changes first at equal times (they were there before), then the
        # new ones in the order given; each new row's from_stage is the stage before it on that timeline.
        timeline: dict[int, list[tuple[datetime, int, int, str, Any]]] = {}
        for subject, rows in history.items():
            timeline[subject] = [(at, 0, pk, stage, None) for at, pk, stage in rows]
        for n, row, version in mine:
            timeline.setdefault(subject_of(row), []).append((row.occurred_at, 1, n, row.to_stage, (row, version)))
        latest: dict[int, str] = {}
        for subject, events in timeline.items():
            events.sort(key=lambda e: (e[0], e[1], e[2]))
            previous = ""
            # A move to the same stage at the same time is the same change (e.g. recorded by an earlier import
            # that gave no source key): it is not recorded twice.
            known = {(e[0], e[3]) for e in events if e[4] is None}
            for at, _, _, stage, new in events:
                if new is not None and (at, stage) not in known:
                    known.add((at, stage))
                    row, version = new
                    out.append((row.contact_id, row.account_id, previous, stage, stamp(at), None, actor_kind,
                                row.reason, as_json(row.details, connection), version.pk, row.source_key, now))
                previous = stage
            if events[-1][4] is not None:
                latest[subject] = events[-1][3]
        stage_set(stages=latest)
    bulk.rows_insert(StageChange, COLUMNS, out)
    return len(out)


COLUMNS = ("contact_id", "account_id", "from_stage", "to_stage", "occurred_at", "actor_id", "actor_kind", "reason",
           "details", "playbook_version_id", "source_key", "recorded_at")

