"""An opportunity's stage history: past moves between deal stages, as an import rebuilds them.

Imported history is the past: recording it fires nothing (no outcome act, no webhook, no notification) and
leaves the opportunity's current `stage` as its own row says. Each move chains its `from_stage` from the
opportunity's history at its time, and a move whose source key is already recorded is not recorded again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import connection, transaction

from smarketing.core import bulk, clock
from smarketing.core.errors import ValidationFailed
from smarketing.crm.enums import OpportunityStage
from smarketing.crm.models import OpportunityStageChange
from smarketing.crm.selectors_opportunity_history import opportunity_stage_change_times_by_source_key

CHUNK = 2000
STAGES = frozenset(OpportunityStage.values)
COLUMNS = ("opportunity_id", "from_stage", "to_stage", "occurred_at", "reason", "details", "source_key",
           "recorded_at")


@dataclass(frozen=True)
class PastOpportunityStageChange:
    """One move of an opportunity that already happened, as an import knows it."""

    opportunity_id: int
    to_stage: str
    occurred_at: datetime
    reason: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    source_key: str = ""  # the import's key for this move: a re-import with the same key adds nothing


def _check(row: PastOpportunityStageChange) -> None:
    record = f"opportunity_stage_change:{row.source_key or row.opportunity_id}"
    if row.to_stage not in STAGES:
        raise ValidationFailed(f"{record}: unknown opportunity stage {row.to_stage!r}; stages are "
                               f"{OpportunityStage.values}", field="to_stage", record=record)
    bulk.past_row_check(row, record=record)


@transaction.atomic
def opportunity_stage_changes_bulk_record(*, changes: list[PastOpportunityStageChange]) -> int:
    """Record past opportunity stage moves in the caller's transaction; rows whose source key is recorded are
    skipped, a key given twice is refused. Returns how many moves were recorded."""
    for row in changes:
        _check(row)
    keys = bulk.source_keys_once(changes, record="opportunity_stage_change")
    recorded = set(opportunity_stage_change_times_by_source_key(keys=sorted(keys)))
    todo = [row for row in changes if not row.source_key or row.source_key not in recorded]
    if not todo:
        return 0
    ids = sorted({row.opportunity_id for row in todo})
    # One timeline per opportunity: recorded moves first at equal times, then the new ones in the order given.
    timeline: dict[int, list[tuple[datetime, int, int, str, PastOpportunityStageChange | None]]] = {}
    for start in range(0, len(ids), CHUNK):
        for opp, at, pk, stage in (OpportunityStageChange.objects.filter(opportunity_id__in=ids[start:start + CHUNK])
                                   .values_list("opportunity_id", "occurred_at", "id", "to_stage")):
            timeline.setdefault(opp, []).append((at, 0, pk, stage, None))
    for n, row in enumerate(todo):
        timeline.setdefault(row.opportunity_id, []).append((row.occurred_at, 1, n, row.to_stage, row))
    now = connection.ops.adapt_datetimefield_value(clock.now())
    stamp = connection.ops.adapt_datetimefield_value
    as_json = OpportunityStageChange._meta.get_field("details").get_db_prep_save
    out: list[tuple[Any, ...]] = []
    for events in timeline.values():
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        previous = ""
        for at, _, _, stage, new in events:
            if new is not None and stage != previous:  # a move to the stage it is in is no move
                out.append((new.opportunity_id, previous, stage, stamp(at), new.reason,
                            as_json(new.details, connection), new.source_key, now))
            previous = stage
    bulk.rows_insert(OpportunityStageChange, COLUMNS, out)
    return len(out)
