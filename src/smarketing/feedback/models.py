from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarketing.core.models import AppendOnly
from smarketing.feedback.enums import FeedbackKind, FeedbackSource


class FeedbackItem(AppendOnly):
    """What a customer told sales, in sales' words; append-only."""

    account = models.ForeignKey("crm.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback")
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="feedback")
    opportunity = models.ForeignKey("crm.Opportunity", null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="feedback")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="feedback_written")
    kind = models.CharField(max_length=32, choices=FeedbackKind.choices)
    text = models.TextField()
    occurred_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=32, choices=FeedbackSource.choices, default=FeedbackSource.WEB)
    source_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                               name="feedback_source_key")]
        ordering = ["-occurred_at", "-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.text[:60]}"
