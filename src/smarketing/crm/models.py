from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarketing.core.models import AppendOnly, TimeStamped
from smarketing.crm.enums import BuyingRole, OpportunityStage, OpportunityType, Outcome, RevenueBand
from smarketing.lifecycle.enums import Stage


class SourceKeyed(models.Model):
    """Rows imported from another system keep its id, so re-imports update instead of duplicating."""

    source = models.CharField(max_length=32, blank=True, default="")
    source_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        abstract = True


class Account(TimeStamped, SourceKeyed):
    name = models.CharField(max_length=200)
    domain = models.CharField(max_length=200, blank=True, db_index=True)
    industry = models.CharField(max_length=100, blank=True, db_index=True)
    employees = models.PositiveIntegerField(null=True, blank=True)
    revenue_band = models.CharField(max_length=16, choices=RevenueBand.choices, blank=True)
    region = models.CharField(max_length=32, blank=True, db_index=True)
    segment = models.CharField(max_length=32, blank=True, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_accounts")
    lifecycle_stage = models.CharField(max_length=32, choices=Stage.choices, default=Stage.LEAD, db_index=True)
    is_customer = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                               name="account_source_key")]

    def __str__(self) -> str:
        return self.name


class Contact(TimeStamped, SourceKeyed):
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.SET_NULL, related_name="contacts")
    email = models.EmailField(max_length=254, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    title = models.CharField(max_length=200, blank=True)
    buying_role = models.CharField(max_length=32, choices=BuyingRole.choices, default=BuyingRole.UNKNOWN)
    lifecycle_stage = models.CharField(max_length=32, choices=Stage.choices, default=Stage.LEAD, db_index=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_contacts")
    lead_source = models.CharField(max_length=64, blank=True, db_index=True)
    country = models.CharField(max_length=64, blank=True)
    first_seen_at = models.DateTimeField(null=True, blank=True, db_index=True)
    attributes = models.JSONField(default=dict, blank=True, help_text="Extra fields from imports, used by scoring")

    class Meta:
        constraints = [
            # Email is the contact's identity inside this company's CRM; imported leads may have none.
            models.UniqueConstraint(fields=["email"], condition=~Q(email=""), name="contact_email_unique"),
            models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                    name="contact_source_key"),
        ]
        indexes = [models.Index(fields=["account", "lifecycle_stage"])]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip() or self.email or f"contact {self.pk}"


class Opportunity(TimeStamped, SourceKeyed):
    account = models.ForeignKey(Account, null=True, blank=True, on_delete=models.PROTECT, related_name="opportunities")
    primary_contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL,
                                        related_name="opportunities")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=16, choices=OpportunityType.choices, default=OpportunityType.NEW_BUSINESS)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    currency = models.CharField(max_length=3, default="USD")
    stage = models.CharField(max_length=16, choices=OpportunityStage.choices, default=OpportunityStage.DISCOVERY)
    opened_at = models.DateTimeField(db_index=True)
    closed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, default=Outcome.OPEN, db_index=True)
    loss_reason = models.CharField(max_length=200, blank=True)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_opportunities")
    product = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                    name="opportunity_source_key"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="opportunity_amount_not_negative"),
        ]
        verbose_name_plural = "opportunities"

    def __str__(self) -> str:
        return self.name


class OpportunityStageChange(AppendOnly):
    """One move of an opportunity between its stages (a deal's stage history); never updated. The opportunity's
    `stage` is its current stage; these rows are how it got there."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=16, choices=OpportunityStage.choices, blank=True)
    to_stage = models.CharField(max_length=16, choices=OpportunityStage.choices)
    occurred_at = models.DateTimeField(db_index=True)
    reason = models.CharField(max_length=500, blank=True)
    details = models.JSONField(default=dict, blank=True)
    source_key = models.CharField(max_length=128, blank=True, default="",
                                  help_text="The sender's id for this move; a replay with the same key is not "
                                            "recorded twice")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source_key"], condition=~Q(source_key=""),
                                    name="opportunitystagechange_source_key"),
        ]
        indexes = [models.Index(fields=["opportunity", "occurred_at"])]
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage} @ {self.occurred_at:%Y-%m-%d}"
