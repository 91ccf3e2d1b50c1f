"""RevOps corrections of bad history: a recorded, append-only reversal (who and why) of a stage change, never an
in-place edit. The corrected change stays in the history, marked, and drops out of every figure (the analytics
datasets leave corrected rows out); when it was the subject's latest change, the subject goes back to the stage
its remaining history has it in."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from smarketing.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from smarketing.crm.services import account_stage_set, contact_stage_set
from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.models import StageChange, StageChangeCorrection
from smarketing.team.models import User
from smarketing.team.roles import REVOPS_ROLES, has_role

REASON_MIN = 5


def correction_checked(*, user: User, reason: str, record: str) -> str:
    """The reason, stripped; refused unless a RevOps admin gives one of at least REASON_MIN characters."""
    if not has_role(user, REVOPS_ROLES):
        raise PermissionDenied(f"user {user.username!r} is not a RevOps admin; only RevOps correct history",
                               field="role", record=record)
    reason = (reason or "").strip()
    if len(reason) < REASON_MIN:
        raise ValidationFailed(f"{record}: say why it is corrected (at least {REASON_MIN} characters)",
                               field="reason", record=record)
    return reason


@transaction.atomic
def stage_change_correct(*, stage_change_id: int, reason: str, corrected_by: User) -> StageChangeCorrection:
    """Reverse one stage change (RevOps, with a reason); a second correction of the same change is a conflict."""
    record = f"stage_change:{stage_change_id}"
    reason = correction_checked(user=corrected_by, reason=reason, record=record)
    change = StageChange.objects.select_for_update(of=("self",)).select_related("contact", "account").filter(
        pk=stage_change_id).first()
    if change is None:
        raise NotFound(f"stage change {stage_change_id} does not exist", record=record)
    correction = correction_recorded(StageChangeCorrection, subject="stage_change", target=change,
                                     corrected_by=corrected_by, reason=reason, record=record)
    _current_stage_restored(change)
    return correction


def correction_recorded(model: Any, *, subject: str, target: Any, corrected_by: User, reason: str,
                        record: str) -> Any:
    """The correction of `target` (the `subject` field of the correction `model`), recorded once: a second one is a
    conflict naming who corrected it first, also when two race for it."""
    existing = model.objects.filter(**{subject: target}).select_related("corrected_by").first()
    if existing is not None:
        raise Conflict(f"{record} was already corrected by {existing.corrected_by.username} at "
                       f"{existing.recorded_at:%Y-%m-%d %H:%M} UTC", field=f"{subject}_id", record=record)
    try:
        with transaction.atomic():
            return model.objects.create(**{subject: target}, corrected_by=corrected_by, reason=reason)
    except IntegrityError:
        raise Conflict(f"{record} was corrected by someone else just now", field=f"{subject}_id",
                       record=record) from None


def _current_stage_restored(change: StageChange) -> None:
    """When the corrected change was the subject's latest standing one, its cached stage follows what remains."""
    history = (StageChange.objects.filter(contact=change.contact) if change.contact_id is not None
               else StageChange.objects.filter(account=change.account)).filter(correction__isnull=True)
    if history.filter(occurred_at__gt=change.occurred_at).exists():
        return  # a later change stands: the current stage is that one's
    latest = history.order_by("-occurred_at", "-id").first()
    stage = latest.to_stage if latest is not None else (change.from_stage or Stage.LEAD)
    if change.contact is not None:
        contact_stage_set(contact=change.contact, stage=stage)
    elif change.account is not None:
        account_stage_set(account=change.account, stage=stage)
