"""Bulk writes of lifecycle history: past stage changes for imports, and live qualification of many contacts.

Imported history is the past: recording it starts no SLA clock, sends no webhook and notifies nobody. Each row
is stamped with the playbook version in force at its `occurred_at`, chains its `from_stage` from the subject's
history at that time, and moves the subject's cached stage only when it is the subject's latest change.

Live qualification (`mqls_qualify_bulk`, behind `smarketing handoff qualify --all`) is the present: it writes what
`services_handoff.mql_qualify` writes for each contact (the MQL stage change, the assignment, the owner, the
notification, both SLA clocks and their start events), decided by the same pure functions, a batch of contacts
per transaction instead of one.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from smarketing.core import bulk, clock
from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Contact
from smarketing.crm.services import accounts_stage_bulk_set, contacts_owner_bulk_set, contacts_stage_bulk_set
from smarketing.lifecycle import routing
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import (
    ActorKind,
    ClockKind,
    ClockState,
    NotificationKind,
    SlaEventKind,
    SlaSide,
    Stage,
)
from smarketing.lifecycle.models import Assignment, Notification, SlaClock, SlaEvent, StageChange
from smarketing.lifecycle.selectors_handoff import (
    contact_facts,
    contact_ids_in_stages,
    contacts_for_qualification,
    recycle_until_by_contact,
    seller_snapshots,
    stages_reached_before_later_history,
)
from smarketing.lifecycle.services_handoff import QUALIFIABLE
from smarketing.lifecycle.sla import period_at
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.schema import Playbook
from smarketing.playbook.selectors import playbook_terms, playbook_terms_in_force, playbook_versions_in_force
from smarketing.scoring import rules as scoring_rules
from smarketing.scoring.selectors import touch_columns
from smarketing.team.enums import Role
from smarketing.team.selectors import user_list

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
    bulk.past_row_check(row, record=record)


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
    for row in changes:
        _check(row)
    keys = bulk.source_keys_once(changes, record="stage_change")
    recorded: set[str] = set()
    key_list = sorted(keys)
    for start in range(0, len(key_list), CHUNK):
        # Why exclude "": the partial unique index on source_key is used only when the query states its condition
        recorded.update(StageChange.objects.filter(source_key__in=key_list[start:start + CHUNK])
                        .exclude(source_key="").values_list("source_key", flat=True))
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



# ------------------------------------------------------------------------------------ live qualification


QUALIFY_BATCH = 2000


def mqls_qualify_bulk(*, at: datetime | None = None, limit: int | None = None,
                      batch_size: int = QUALIFY_BATCH) -> dict[str, int]:
    """Qualify every lead and recycled contact whose criteria hold at `at` (default now), route it and start its
    SLA clocks: the writes of `mql_qualify` for each, a batch per transaction, in contact id order.

    Routing sees each assignment of the run as it is made (the loads grow lead by lead), so sellers get the
    leads the contact-by-contact path would give them. Returns how many contacts were checked and qualified.
    """
    when = at or clock.now()
    if when.tzinfo is None:
        raise ValidationFailed("times must carry a time zone", field="at")
    ids = contact_ids_in_stages(stages=QUALIFIABLE, limit=limit)
    qualified = 0
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            qualified += _qualify_batch(ids[start:start + batch_size], when)
    return {"checked": len(ids), "qualified": qualified}


def _qualify_batch(contact_ids: list[int], when: datetime) -> int:
    """Decide and write one batch; returns how many became MQLs."""
    version, terms = playbook_terms_in_force(when)
    if terms.stage(Stage.MQL) is None:
        raise ValidationFailed(f"stage 'mql' is not defined in playbook v{version.number}, in force at "
                               f"{when:%Y-%m-%d %H:%M}", field="to_stage")
    contacts = contacts_for_qualification(contact_ids=contact_ids)
    if not contacts:
        return 0
    ids = [c.pk for c in contacts]
    facts = [contact_facts(c) for c in contacts]
    batch = scoring_rules.score_many(terms.scoring, facts, touch_columns(contact_ids=ids, until=when), when)
    recycled = [c.pk for c in contacts if c.lifecycle_stage == Stage.RECYCLED]
    until = recycle_until_by_contact(contact_ids=recycled) if recycled else {}
    chosen: list[tuple[Contact, dict[str, Any]]] = []
    for i, contact in enumerate(contacts):
        result = batch.result(i)
        # Only whether criteria hold matters here: the reasons are for a single contact's answer.
        if contact.lifecycle_stage not in QUALIFIABLE or scoring_rules.mql_unmet(terms, result, facts[i]):
            continue
        nurture_until = until.get(contact.pk)
        if contact.lifecycle_stage == Stage.RECYCLED and nurture_until is not None and when.date() < nurture_until:
            continue
        chosen.append((contact, result.as_dict()))
    if not chosen:
        return 0
    changes = _mql_changes_record(chosen, when=when, version=version, threshold=terms.scoring.mql_threshold)
    _mqls_route(chosen, changes, when=when, version=version, terms=terms)
    return len(chosen)


def _mql_changes_record(chosen: list[tuple[Contact, dict[str, Any]]], *, when: datetime, version: PlaybookVersion,
                        threshold: float) -> list[StageChange]:
    """The MQL stage changes of a batch, placed on each contact's timeline as `stage_change_record` places one."""
    reached = stages_reached_before_later_history(contact_ids=[c.pk for c, _ in chosen], at=when)
    rows = [StageChange(
        contact=contact, from_stage=reached.get(contact.pk, contact.lifecycle_stage or ""),
        to_stage=Stage.MQL, occurred_at=when, actor=None, actor_kind=ActorKind.RULE,
        reason=f"score {score['total']:.1f} ≥ MQL threshold {threshold:g} and entry criteria hold",
        details={"score": score, "threshold": threshold, "playbook_version": version.number},
        playbook_version=version) for contact, score in chosen]
    changes = StageChange.objects.bulk_create(rows, batch_size=CHUNK // 4)
    # A contact whose history already goes past now keeps its stage: this change is history, not its present.
    latest: dict[int, str] = {contact.pk: Stage.MQL for contact, _ in chosen if contact.pk not in reached}
    contacts_stage_bulk_set(stages=latest)
    for contact, _ in chosen:
        if contact.pk in latest:
            contact.lifecycle_stage = Stage.MQL
    return changes


def _mqls_route(chosen: list[tuple[Contact, dict[str, Any]]], changes: list[StageChange], *, when: datetime,
                version: PlaybookVersion, terms: Playbook) -> None:
    """Route a batch of new MQLs in order, then write the assignments, owners, notifications and clocks."""
    period = period_at(terms.routing.capacity_period, when, terms.sla.calendar.timezone)
    lo, hi = period.bounds_utc(terms.sla.calendar.timezone)
    sellers = {s.id: s for s in seller_snapshots(period_start=lo, period_end=hi)}
    local_day = when.astimezone(ZoneInfo(terms.sla.calendar.timezone)).date()
    assignments: list[Assignment] = []
    reasons: list[str] = []
    for (contact, score), change in zip(chosen, changes, strict=True):
        facts = contact_facts(contact)
        facts.update({f"score.{k}": score[k] for k in ("fit", "engagement", "total") if k in score})
        account = contact.account
        decision = routing.route(terms.routing, facts=facts, sellers=list(sellers.values()), on=local_day,
                                 account_owner_id=account.owner_id if account is not None else None)
        if decision.owner_id is not None:  # the next lead sees this one in the seller's load
            seller = sellers[decision.owner_id]
            sellers[seller.id] = replace(seller, load=seller.load + 1)
        reasons.append(decision.reason)
        assignments.append(Assignment(
            contact=contact, mql_change=change, owner_id=decision.owner_id, team=decision.team,
            reason_code=decision.reason_code, reason=decision.reason[:500], details=decision.details,
            assigned_at=when, actor=None, previous=None, playbook_version=version))
    assignments = Assignment.objects.bulk_create(assignments, batch_size=CHUNK // 4)
    contacts_owner_bulk_set(owners={a.contact_id: a.owner_id for (contact, _), a in zip(chosen, assignments,
                                                                                            strict=True)
                                    if a.owner_id is not None and a.owner_id != contact.owner_id})
    revops = list(user_list(role=Role.REVOPS, is_active=True).order_by("id").values_list("id", flat=True))
    notifications: list[Notification] = []
    # The notification carries the routing reason whole; the assignment keeps its first 500 characters.
    for (contact, _), a, reason in zip(chosen, assignments, reasons, strict=True):
        if a.owner_id is not None:
            notifications.append(Notification(user_id=a.owner_id, kind=NotificationKind.ASSIGNED,
                                              title=f"New MQL: {contact.name}"[:200], body=reason,
                                              contact=contact, dedupe_key=f"assigned:{a.pk}", created_at=when))
        else:  # nobody could take it: revops must route it by hand before the clocks run out
            notifications += [Notification(user_id=uid, kind=NotificationKind.ASSIGNED,
                                           title=f"Unrouted MQL: {contact.name}"[:200], body=reason,
                                           contact=contact, dedupe_key=f"unrouted:{a.pk}", created_at=when)
                              for uid in revops]
    Notification.objects.bulk_create(notifications, batch_size=CHUNK // 4)
    _sla_clocks_start(assignments, terms=terms, started_at=when)


def _sla_clocks_start(assignments: list[Assignment], *, terms: Playbook, started_at: datetime) -> None:
    """`sla_clocks_start` for many first assignments at once: both clocks each, and their start events."""
    deadlines = sla_rules.sales_deadlines(terms.sla, started_at)  # one moment, so one pair of deadlines
    starts = [(a, kind, deadline) for a in assignments
              for kind, deadline in ((ClockKind.FIRST_TOUCH, deadlines.first_touch),
                                     (ClockKind.DECISION, deadlines.decision))]
    clocks = SlaClock.objects.bulk_create([
        SlaClock(contact_id=a.contact_id, mql_change=a.mql_change, assignment=a, owner_id=a.owner_id,
                 team=a.team, kind=kind, side=SlaSide.SALES, generation=0, started_at=started_at, deadline=deadline,
                 state=ClockState.OPEN, playbook_version_id=a.playbook_version_id)
        for a, kind, deadline in starts
    ], batch_size=CHUNK // 4)
    SlaEvent.objects.bulk_create([
        SlaEvent(clock=c, kind=SlaEventKind.STARTED, side=c.side, clock_kind=c.kind, contact_id=c.contact_id,
                 owner_id=c.owner_id, team=c.team, deadline=c.deadline, occurred_at=started_at,
                 details={"assignment_id": a.pk, "reason_code": a.reason_code},
                 playbook_version_id=c.playbook_version_id)
        for c, (a, _, _) in zip(clocks, starts, strict=True)
    ], batch_size=CHUNK // 4)
