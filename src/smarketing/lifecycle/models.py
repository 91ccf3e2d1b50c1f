from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarketing.core.models import AppendOnly
from smarketing.lifecycle.enums import ActorKind, Stage


class StageChange(AppendOnly):
    """One move of a contact or an account between lifecycle stages; never updated."""

    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="stage_changes")
    account = models.ForeignKey("crm.Account", null=True, blank=True, on_delete=models.CASCADE,
                                related_name="stage_changes")
    from_stage = models.CharField(max_length=32, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=32, choices=Stage.choices)
    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices, default=ActorKind.SYSTEM)
    reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    playbook_version = models.ForeignKey("playbook.PlaybookVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(contact__isnull=False) | Q(account__isnull=False),
                                              name="stagechange_has_subject")]
        indexes = [models.Index(fields=["contact", "occurred_at"]), models.Index(fields=["to_stage", "occurred_at"])]
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage} @ {self.occurred_at:%Y-%m-%d}"
