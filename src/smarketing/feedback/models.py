from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarketing.core.models import AppendOnly, TimeStamped
from smarketing.feedback.enums import (
    AssignmentMethod,
    FeedbackKind,
    FeedbackSource,
    InsightStatus,
    ThemeBackend,
    ThemeEditKind,
    ThemeStatus,
)


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


class ThemeRun(models.Model):
    """One clustering run: the backend, the fitted vocabulary for incremental assignment, and its figures."""

    backend = models.CharField(max_length=16, choices=ThemeBackend.choices)
    model_name = models.CharField(max_length=200, blank=True)
    rebuild = models.BooleanField(default=True)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    items = models.PositiveIntegerField(default=0)
    themes_found = models.PositiveIntegerField(default=0)
    themes_kept = models.PositiveIntegerField(default=0, help_text="Clusters matched to an existing theme")
    themes_new = models.PositiveIntegerField(default=0)
    unassigned = models.PositiveIntegerField(default=0)
    # TF-IDF space of the run (term -> column, idf per column), so new items can be placed without refitting.
    vocabulary = models.JSONField(default=dict, blank=True)
    idf = models.JSONField(default=list, blank=True)
    params = models.JSONField(default=dict, blank=True)
    triggered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.backend} run {self.pk} ({self.items} items)"


class Theme(TimeStamped):
    """A group of feedback items about the same thing, named by its key phrases or by a person."""

    name = models.CharField(max_length=200)
    name_is_manual = models.BooleanField(default=False, help_text="A person named it; runs keep the name")
    key_phrases = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=ThemeStatus.choices, default=ThemeStatus.ACTIVE,
                              db_index=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="absorbed")
    split_from = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="splits")
    backend = models.CharField(max_length=16, choices=ThemeBackend.choices, default=ThemeBackend.TFIDF)
    # Centroid in the backend's space: {term: weight} for TF-IDF, a list of floats for embeddings.
    centroid = models.JSONField(default=dict, blank=True)
    last_run = models.ForeignKey(ThemeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="themes")

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name


class ThemeAssignment(TimeStamped):
    """Where one feedback item currently sits; a person's choice (pinned) survives every run."""

    item = models.OneToOneField(FeedbackItem, on_delete=models.CASCADE, related_name="theme_assignment")
    theme = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments")
    score = models.FloatField(default=0.0, help_text="Similarity of the item to its theme (0-1)")
    method = models.CharField(max_length=16, choices=AssignmentMethod.choices)
    pinned = models.BooleanField(default=False, help_text="Placed by a person; runs do not move it")
    sentiment = models.FloatField(default=0.0, help_text="-1 (negative) to 1 (positive)")
    note = models.CharField(max_length=200, blank=True, help_text="Why it is unassigned, when it is")
    run = models.ForeignKey(ThemeRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["theme", "item"])]

    def __str__(self) -> str:
        return f"item {self.item_id} -> theme {self.theme_id}"


class ThemeEdit(AppendOnly):
    """A person's change to themes (rename, merge, split, move); replayed by every rebuild."""

    kind = models.CharField(max_length=16, choices=ThemeEditKind.choices)
    theme = models.ForeignKey(Theme, on_delete=models.CASCADE, related_name="edits")
    other = models.ForeignKey(Theme, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                              help_text="Merged-away theme, or the new theme of a split")
    old_name = models.CharField(max_length=200, blank=True)
    new_name = models.CharField(max_length=200, blank=True)
    item_ids = models.JSONField(default=list, blank=True, help_text="Items the edit moved")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.kind} theme {self.theme_id}"


class Insight(TimeStamped):
    """A theme that crossed the threshold, in marketing's inbox until someone acts on it and closes it."""

    theme = models.ForeignKey(Theme, on_delete=models.PROTECT, related_name="insights")
    title = models.CharField(max_length=300)
    status = models.CharField(max_length=16, choices=InsightStatus.choices, default=InsightStatus.NEW,
                              db_index=True)
    assigned_role = models.CharField(max_length=16, default="marketing")
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="insights")
    reason = models.CharField(max_length=300, help_text="Which threshold the theme crossed")
    volume = models.PositiveIntegerField(default=0)
    open_pipeline = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    arr = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    first_signal_at = models.DateTimeField(help_text="The earliest feedback item behind the insight")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    response_campaign = models.ForeignKey("campaigns.Campaign", null=True, blank=True, on_delete=models.SET_NULL,
                                          related_name="insights")
    response_note = models.TextField(blank=True, help_text="The campaign or message change made in response")

    class Meta:
        ordering = ["-created_at", "-id"]

    @property
    def revenue_at_stake(self) -> Decimal:
        """Open pipeline plus ARR of the theme's accounts when the insight was raised (the inbox's order)."""
        return self.open_pipeline + self.arr

    @property
    def time_to_action_days(self) -> float | None:
        if self.acted_at is None:
            return None
        return round((self.acted_at - self.first_signal_at).total_seconds() / 86400, 2)

    def __str__(self) -> str:
        return self.title


class InsightTransition(AppendOnly):
    """One status change of an insight: who, when, from, to, why."""

    insight = models.ForeignKey(Insight, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=16, choices=InsightStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=InsightStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    occurred_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"
