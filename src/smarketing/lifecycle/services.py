"""Writes of lifecycle history: every stage change is a new row stamped with the playbook version in force at its time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from smarketing.core import clock
from smarketing.core.errors import Conflict, ValidationFailed
from smarketing.crm.models import Account, Contact
from smarketing.crm.services import account_stage_set, contact_stage_set
from smarketing.lifecycle.enums import ActorKind, Stage
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.selectors import playbook_terms_in_force
from smarketing.team.models import User


class SourceKeyConflict(Conflict):
    """A source key already names a stage change that says something else (another subject, stage or time)."""

    code = "source_key_conflict"


@transaction.atomic
def stage_change_record(*, to_stage: str, contact: Contact | None = None, account: Account | None = None,
                        occurred_at: datetime | None = None, actor: User | None = None,
                        actor_kind: str = ActorKind.SYSTEM, reason: str = "",
                        details: dict[str, Any] | None = None, source_key: str = "") -> StageChange:
    """Move a contact or account to a stage, recording who/what moved it, why, and the playbook version in force
    at `occurred_at` (a backfill of last January carries January's version, not today's). A backfill older than
    the subject's latest change is added to its history and leaves its current stage as it is."""
    change, _ = stage_change_record_once(to_stage=to_stage, contact=contact, account=account, occurred_at=occurred_at,
                                         actor=actor, actor_kind=actor_kind, reason=reason, details=details,
                                         source_key=source_key)
    return change


@transaction.atomic
def stage_change_record_once(*, to_stage: str, contact: Contact | None = None, account: Account | None = None,
                             occurred_at: datetime | None = None, actor: User | None = None,
                             actor_kind: str = ActorKind.SYSTEM, reason: str = "",
                             details: dict[str, Any] | None = None,
                             source_key: str = "") -> tuple[StageChange, bool]:
    """Record a stage change once per source key: a replay returns the first row with created=False.

    The same key with another subject, stage or time is a SourceKeyConflict naming the field that differs.
    Without a key every call appends (created=True).
    """
    if (contact is None) == (account is None):
        raise ValidationFailed("a stage change needs exactly one of contact or account", field="contact")
    if len(source_key) > 128:
        raise ValidationFailed("source_key is longer than 128 characters", field="source_key")
    if occurred_at is not None and occurred_at.tzinfo is None:
        raise ValidationFailed("occurred_at must carry a time zone", field="occurred_at")
    if source_key:
        existing = _by_source_key(source_key)
        if existing is not None:
            return _replayed(existing, to_stage=to_stage, contact=contact, account=account, occurred_at=occurred_at)
    when = occurred_at or clock.now()
    # Why the version in force at `when`: a change is judged by the agreement of its own time, so a backfill
    # is checked against and stamped with the version that was active then, not the one active at write time.
    version, terms = playbook_terms_in_force(when)
    if to_stage not in Stage.values:
        raise ValidationFailed(f"unknown stage {to_stage!r}; stages are {Stage.values}", field="to_stage")
    if terms.stage(to_stage) is None:
        raise ValidationFailed(f"stage {to_stage!r} is not defined in playbook v{version.number}, in force at "
                               f"{when:%Y-%m-%d %H:%M}", field="to_stage")
    if actor_kind not in ActorKind.values:
        raise ValidationFailed(f"unknown actor kind {actor_kind!r}", field="actor_kind")
    subject = contact if contact is not None else account
    assert subject is not None
    from_stage, latest = _place_on_timeline(contact=contact, account=account, when=when)
    if from_stage == to_stage and _recorded_by(contact=contact, account=account, when=when):
        # Why: a change to the stage the history already has the subject in moves nothing, yet would count twice in
        # the funnel. (A subject without history may record the stage it was created in: its entry.)
        racing = _by_source_key(source_key) if source_key else None  # a keyed repeat committed meanwhile
        if racing is not None:
            return _replayed(racing, to_stage=to_stage, contact=contact, account=account, occurred_at=occurred_at)
        label = f"contact:{contact.pk}" if contact is not None else f"account:{subject.pk}"
        raise ValidationFailed(f"{label} is already in stage '{to_stage}' at {when:%Y-%m-%d %H:%M} UTC; a stage "
                               "change moves to another stage", field="to_stage", record=label)
    row = StageChange(
        contact=contact, account=account, from_stage=from_stage, to_stage=to_stage, occurred_at=when,
        actor=actor if actor_kind == ActorKind.USER or actor else None, actor_kind=actor_kind, reason=reason,
        details=details or {}, playbook_version=version, source_key=source_key)
    try:
        # Why a savepoint: a concurrent request with the same key may commit between the look-up and this insert;
        # the unique constraint refuses the second row and only the insert is rolled back, not the caller's work.
        with transaction.atomic():
            row.save()
    except IntegrityError:
        existing = _by_source_key(source_key) if source_key else None
        if existing is None:
            raise
        return _replayed(existing, to_stage=to_stage, contact=contact, account=account, occurred_at=occurred_at)
    if not latest:  # a backfill older than the subject's latest change is history: the current stage stays
        return row, True
    if contact is not None:
        contact_stage_set(contact=contact, stage=to_stage)
    else:
        assert account is not None
        account_stage_set(account=account, stage=to_stage)
    return row, True


def _place_on_timeline(*, contact: Contact | None, account: Account | None, when: datetime) -> tuple[str, bool]:
    """Where a change at `when` falls on its subject's history: the stage it leaves, and whether it is the latest.

    The latest change leaves the subject's current stage; a backfill before later changes leaves the stage the
    history had reached at its time ("" before any), as the import's bulk service chains it.
    """
    subject = contact if contact is not None else account
    assert subject is not None
    if not subject.pk:
        return "", True
    history = (StageChange.objects.filter(contact=contact) if contact is not None else StageChange.objects.filter(
        account=account)).filter(correction__isnull=True)  # corrected changes are not history any more
    if not history.filter(occurred_at__gt=when).exists():
        return subject.lifecycle_stage or "", True
    before = history.filter(occurred_at__lte=when).order_by("-occurred_at", "-id").values_list(
        "to_stage", flat=True).first()
    return before or "", False


def _recorded_by(*, contact: Contact | None, account: Account | None, when: datetime) -> bool:
    """Whether the subject's history has a standing (uncorrected) change at or before `when`."""
    history = StageChange.objects.filter(contact=contact) if contact is not None else StageChange.objects.filter(
        account=account)
    return history.filter(occurred_at__lte=when, correction__isnull=True).exists()


def _by_source_key(source_key: str) -> StageChange | None:
    return StageChange.objects.filter(source_key=source_key).first()


def _replayed(existing: StageChange, *, to_stage: str, contact: Contact | None, account: Account | None,
              occurred_at: datetime | None) -> tuple[StageChange, bool]:
    """The stored row for a repeated key, or a conflict naming each field the repeat changes."""
    sent: dict[str, Any] = {"contact_id": contact.pk if contact is not None else None,
                            "account_id": account.pk if account is not None else None, "to_stage": to_stage}
    if occurred_at is not None:  # a replay that leaves the time out means "when it was first recorded"
        sent["occurred_at"] = occurred_at
    differs = [name for name, value in sent.items() if getattr(existing, name) != value]
    if not differs:
        return existing, False
    record = f"stage_change:{existing.pk}"
    details = [{"field": name, "message": f"recorded as {getattr(existing, name)!s}, sent {sent[name]!s}"}
               for name in differs]
    raise SourceKeyConflict(
        f"source_key {existing.source_key!r} was already used for {record} with another "
        f"{', '.join(differs)}; send a new key for a new change", field=differs[0], record=record, details=details)
