"""Scores are derived state: a cache of the rules' result per contact and account, recomputable at any time.

Predictive models are stored with their model card so every number they produce can be traced to a training run.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from smarketing.scoring.enums import Algorithm


class ContactScore(models.Model):
    """The current score of one contact (recomputed on new touchpoints, playbook changes and full rebuilds)."""

    contact = models.OneToOneField("crm.Contact", on_delete=models.CASCADE, primary_key=True, related_name="score")
    fit = models.FloatField(default=0)
    engagement = models.FloatField(default=0)
    total = models.FloatField(default=0, db_index=True)
    predictive = models.FloatField(null=True, blank=True, help_text="Probability of converting, 0–1")
    qualifies_as_mql = models.BooleanField(default=False, db_index=True)
    explanation = models.JSONField(default=list, blank=True)
    as_of = models.DateTimeField(help_text="Moment the engagement decay was computed for")
    computed_at = models.DateTimeField()
    playbook_version = models.ForeignKey("playbook.PlaybookVersion", on_delete=models.PROTECT, related_name="+")
    predictive_model = models.ForeignKey("scoring.PredictiveModel", null=True, blank=True,
                                         on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"contact {self.contact_id}: {self.total:.1f}"


class AccountScore(models.Model):
    """The current score of one account: buying-committee coverage plus its best contact's share."""

    account = models.OneToOneField("crm.Account", on_delete=models.CASCADE, primary_key=True, related_name="score")
    coverage = models.FloatField(default=0)
    total = models.FloatField(default=0, db_index=True)
    best_contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    engaged_roles = models.JSONField(default=list, blank=True)
    explanation = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField()
    playbook_version = models.ForeignKey("playbook.PlaybookVersion", on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return f"account {self.account_id}: {self.total:.1f}"


class PredictiveModel(models.Model):
    """A trained model: the fitted pipeline (pickled, only ever loaded from our own database) and its card."""

    created_at = models.DateTimeField(db_index=True)
    algorithm = models.CharField(max_length=32, choices=Algorithm.choices)
    include_leaky = models.BooleanField(default=False)
    n_train = models.PositiveIntegerField()
    n_test = models.PositiveIntegerField()
    auc = models.FloatField(help_text="ROC AUC on the held-out split")
    brier = models.FloatField()
    base_rate = models.FloatField()
    card = models.JSONField(help_text="Model card: features, window, metrics, calibration")
    artefact = models.BinaryField()
    active = models.BooleanField(default=False)
    trained_by = models.ForeignKey("team.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["active"], condition=Q(active=True),
                                               name="one_active_predictive_model")]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"model {self.pk} ({self.algorithm}, AUC {self.auc:.3f}{', active' if self.active else ''})"
