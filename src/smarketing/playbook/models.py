from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarketing.core.models import TimeStamped
from smarketing.playbook.enums import Side, VersionStatus


class PlaybookVersion(TimeStamped):
    """One version of the agreement. Its content never changes once signed; edits make a new draft."""

    number = models.PositiveIntegerField(unique=True)
    status = models.CharField(max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT, db_index=True)
    content = models.JSONField()
    content_sha = models.CharField(max_length=64)
    notes = models.TextField(blank=True, help_text="What changed and why")
    based_on = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    activated_at = models.DateTimeField(null=True, blank=True)
    superseded_at = models.DateTimeField(null=True, blank=True)
    bootstrap = models.BooleanField(default=False, help_text="Adopted from the shipped default before any sign-off")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["status"], condition=Q(status="active"),
                                               name="one_active_playbook")]
        ordering = ["-number"]

    def __str__(self) -> str:
        return f"v{self.number} ({self.status})"


class PlaybookSignoff(models.Model):
    """A team's signature on exact content (its sha); editing the draft makes older signatures stale."""

    version = models.ForeignKey(PlaybookVersion, on_delete=models.CASCADE, related_name="signoffs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=16, choices=Side.choices)
    content_sha = models.CharField(max_length=64)
    comment = models.TextField(blank=True)
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["version", "user", "content_sha"], name="one_signoff_per_user")]
        ordering = ["signed_at"]

    def __str__(self) -> str:
        return f"{self.side} sign-off by {self.user} on v{self.version.number}"
