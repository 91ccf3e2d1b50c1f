"""The history an import rebuilds, in the import's transaction: stage changes from the stage dates (keyed, so a
re-import adds none), the customer stage a won deal gives its account and primary contact, and the campaign
memberships a contacts export names. The past does not fire: no SLA clock, webhook or notification."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime
from typing import Any

from smarketing.campaigns.services import campaign_members_upsert_many, campaigns_bulk_create
from smarketing.core import clock
from smarketing.crm.selectors import opportunity_links_by_id
from smarketing.crm.selectors_opportunity_history import opportunity_stage_change_times_by_source_key
from smarketing.crm.services_opportunity_history import (
    PastOpportunityStageChange,
    opportunity_stage_changes_bulk_record,
)
from smarketing.ingest import plan
from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.selectors import stage_change_times_by_source_key
from smarketing.lifecycle.services_bulk import PastStageChange, stage_changes_bulk_record

HISTORY_CHUNK = 20_000  # stage changes recorded between two progress reports


def history_rebuild(source: str, records: dict[str, list[plan.Record]], subjects: dict[str, dict[str, int]],
                    won: list[tuple[plan.Record, int]], summary: dict[str, Any],
                    progress: Callable[[int, int], None] | None = None) -> None:
    """Rebuild stage history from the stage dates (keyed, so a re-import adds none), plus the customer stage a won
    deal gives its account and primary contact at its close time (the key the live outcome act uses)."""
    keys = [plan.stage_key(source, entity, rec.external_id, stage) for entity in ("contact", "account")
            for rec in records[entity] if rec.external_id in subjects[entity] for stage in rec.stages]
    won_keys = [f"won:opportunity:{pk}:{side}" for _, pk in won for side in ("account", "contact")]
    recorded = stage_change_times_by_source_key(keys=keys + won_keys)
    changes: list[PastStageChange] = []
    stages: Counter[str] = Counter()
    customer_at: dict[tuple[str, int], datetime] = {}
    for entity in ("contact", "account"):
        for rec in records[entity]:
            pk = subjects[entity].get(rec.external_id)
            if pk is None:
                continue
            appends, moved = plan.stage_appends(rec.stages, source=source, entity=entity,
                                                external_id=rec.external_id, recorded=recorded)
            summary["moved"] += moved
            if Stage.CUSTOMER in rec.stages:
                customer_at[(entity, pk)] = rec.stages[Stage.CUSTOMER]
            for a in appends:
                stages[a.stage] += 1
                changes.append(PastStageChange(
                    to_stage=a.stage, occurred_at=a.at, source_key=a.key, reason=f"{source} import: stage date",
                    details={"source": source, "file": rec.file, "line": rec.line},
                    **({"contact_id": pk} if entity == "contact" else {"account_id": pk})))
    opportunity_links = _won_subjects(won)
    for rec, pk in won:
        at = rec.fields.get("closed_at")
        if at is None:
            continue
        for side, subject in opportunity_links.get(pk, {}).items():
            key = f"won:opportunity:{pk}:{side}"
            if subject is None or key in recorded or (side, subject) in customer_at:
                continue
            customer_at[(side, subject)] = at
            stages[Stage.CUSTOMER] += 1
            changes.append(PastStageChange(
                to_stage=Stage.CUSTOMER, occurred_at=at, source_key=key,
                reason=f"won opportunity {rec.fields.get('name', rec.external_id)!r}"[:500],
                details={"source": source, "opportunity_external_id": rec.external_id},
                **({"contact_id": subject} if side == "contact" else {"account_id": subject})))
    # A chunk at a time, so the run's progress moves while it writes; a subject's changes may fall in two chunks
    # (its own dates, then a won deal's customer stage): the second chains from the first, already recorded.
    for start in range(0, len(changes), HISTORY_CHUNK):
        stage_changes_bulk_record(changes=changes[start:start + HISTORY_CHUNK])
        if progress is not None:
            progress(min(start + HISTORY_CHUNK, len(changes)), len(changes))
    if progress is not None and not changes:
        progress(0, 0)
    summary["stages"] = dict(sorted(stages.items()))


def opportunity_history_rebuild(source: str, deals: list[plan.Record], moves: list[plan.Record],
                                opportunity_ids: dict[str, int], summary: dict[str, Any]) -> None:
    """Rebuild each opportunity's stage history from a deals export's stage date columns and a stage-history
    report's rows: the earliest entry into each deal stage, keyed (so a re-import adds none and a later export
    appends only new moves); a recorded move whose date changed is reported, not rewritten. Nothing fires."""
    entered: dict[str, dict[str, datetime]] = {}
    origin: dict[tuple[str, str], tuple[plan.Record, datetime | None]] = {}

    def enter(rec: plan.Record, stage: str, at: datetime, left: datetime | None) -> None:
        stages = entered.setdefault(rec.external_id, {})
        if stage not in stages or at < stages[stage]:
            stages[stage] = at
            origin[(rec.external_id, stage)] = (rec, left)

    for rec in deals:
        for stage, at in rec.stages.items():
            enter(rec, stage, at, rec.stage_exits.get(stage))
    for rec in moves:
        to_stage, when = rec.fields.get("stage"), rec.fields.get("at")
        if to_stage and when is not None:
            enter(rec, str(to_stage), when, None)
    missing = [sid for sid in entered if sid not in opportunity_ids]
    summary["unresolved_refs"] += len(missing)
    keys = [plan.stage_key(source, "opportunity", sid, stage) for sid, stages in entered.items()
            if sid in opportunity_ids for stage in stages]
    recorded = opportunity_stage_change_times_by_source_key(keys=keys)
    changes: list[PastOpportunityStageChange] = []
    for sid, stages in entered.items():
        pk = opportunity_ids.get(sid)
        if pk is None:
            continue
        appends, moved = plan.stage_appends(stages, source=source, entity="opportunity", external_id=sid,
                                            recorded=recorded)
        summary["moved"] += moved
        for a in appends:
            rec, left = origin[(sid, a.stage)]
            details: dict[str, Any] = {"source": source, "file": rec.file, "line": rec.line}
            if left is not None:
                details["exited_at"] = left.isoformat()
            changes.append(PastOpportunityStageChange(opportunity_id=pk, to_stage=a.stage, occurred_at=a.at,
                                                      source_key=a.key, reason=f"{source} import: stage date",
                                                      details=details))
    stages_count = Counter(c.to_stage for c in changes)
    summary["opportunity_stages"] = dict(sorted(stages_count.items()))
    summary["opportunity_stage_changes"] = opportunity_stage_changes_bulk_record(changes=changes) if changes else 0


def campaign_members_from_contacts(source: str, contacts: list[plan.Record], contact_ids: dict[str, int],
                      summary: dict[str, Any]) -> None:
    """Campaigns a contacts export names become campaign members (campaigns new to the import are created, keyed
    by the system's campaign id); memberships only move forward, so a re-import changes nothing."""
    rows = [(rec, contact_ids[rec.external_id]) for rec in contacts
            if rec.campaigns and rec.external_id in contact_ids]
    if not rows:
        return
    now = clock.now()
    names: dict[str, str] = {}
    first: dict[str, datetime] = {}
    for rec, _ in rows:
        at = rec.campaigns_at or now
        for cid, name in rec.campaigns:
            names[cid] = names.get(cid) or name
            first[cid] = min(first.get(cid, at), at)
    campaign_rows = [{"source_id": cid[:128], "name": (names[cid] or f"{source} campaign {cid}")[:200],
                      "channel": "other", "start_date": first[cid].date()} for cid in sorted(names)]
    ids, created = campaigns_bulk_create(source=source, rows=campaign_rows)
    members = [{"campaign_id": ids[cid[:128]], "contact_id": contact_id, "status": rec.campaign_status,
                "created_at": rec.campaigns_at or now, "source": source, "source_id": f"{cid}:{rec.external_id}"[:128]}
               for rec, contact_id in rows for cid, _ in dict.fromkeys(rec.campaigns)]
    members_created, members_updated = campaign_members_upsert_many(members=members)
    summary["campaigns"] = {"created": created, "members_created": members_created,
                            "members_updated": members_updated}


def _won_subjects(won: list[tuple[plan.Record, int]]) -> dict[int, dict[str, int | None]]:
    return opportunity_links_by_id(ids=[pk for _, pk in won])
