"""Writes of lifecycle history: every stage change is a new row stamped with the active playbook version."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Account, Contact
from smarketing.crm.services import account_stage_set, contact_stage_set
from smarketing.lifecycle.enums import ActorKind, Stage
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.team.models import User


@transaction.atomic
def stage_change_record(*, to_stage: str, contact: Contact | None = None, account: Account | None = None,
                        occurred_at: datetime | None = None, actor: User | None = None,
                        actor_kind: str = ActorKind.SYSTEM, reason: str = "",
                        details: dict[str, Any] | None = None) -> StageChange:
    """Move a contact or account to a stage, recording who/what moved it, why, and under which playbook version."""
    if (contact is None) == (account is None):
        raise ValidationFailed("a stage change needs exactly one of contact or account", field="contact")
    version, terms = playbook_active_terms()
    if to_stage not in Stage.values:
        raise ValidationFailed(f"unknown stage {to_stage!r}; stages are {Stage.values}", field="to_stage")
    if terms.stage(to_stage) is None:
        raise ValidationFailed(f"stage {to_stage!r} is not defined in playbook v{version.number}", field="to_stage")
    if actor_kind not in ActorKind.values:
        raise ValidationFailed(f"unknown actor kind {actor_kind!r}", field="actor_kind")
    when = occurred_at or clock.now()
    if when.tzinfo is None:
        raise ValidationFailed("occurred_at must carry a time zone", field="occurred_at")
    subject = contact if contact is not None else account
    assert subject is not None
    from_stage = subject.lifecycle_stage if subject.pk else ""
    change = StageChange.objects.create(
        contact=contact, account=account, from_stage=from_stage or "", to_stage=to_stage, occurred_at=when,
        actor=actor if actor_kind == ActorKind.USER or actor else None, actor_kind=actor_kind, reason=reason,
        details=details or {}, playbook_version=version)
    if contact is not None:
        contact_stage_set(contact=contact, stage=to_stage)
    else:
        assert account is not None
        account_stage_set(account=account, stage=to_stage)
    return change
