from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarketing.core.models import AppendOnly, TimeStamped
from smarketing.crm.models import Contact
from smarketing.lifecycle.enums import (
    ActorKind,
    ClockKind,
    ClockState,
    Decision,
    DeliveryStatus,
    NotificationKind,
    SlaEventKind,
    SlaSide,
    Stage,
    WebhookFormat,
)


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
    source_key = models.CharField(max_length=128, blank=True, default="",
                                  help_text="The sender's id for this change; a replay with the same key is not "
                                            "recorded twice")

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(contact__isnull=False) | Q(account__isnull=False),
                                   name="stagechange_has_subject"),
            # Why: a client retrying a POST (or two workers delivering the same event) must not append the move
            # twice; the database, not a look-up before the insert, keeps each key single.
            models.UniqueConstraint(fields=["source_key"], condition=~Q(source_key=""), name="stagechange_source_key"),
        ]
        indexes = [models.Index(fields=["contact", "occurred_at"]), models.Index(fields=["to_stage", "occurred_at"])]
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_stage or '∅'} → {self.to_stage} @ {self.occurred_at:%Y-%m-%d}"


class Assignment(AppendOnly):
    """One routing of an MQL to a seller, with the reason; a reassignment is a new row."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="assignments")
    mql_change = models.ForeignKey(StageChange, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="assignments")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="lead_assignments")
    team = models.CharField(max_length=64, blank=True)
    reason_code = models.CharField(max_length=32)
    reason = models.CharField(max_length=500)
    details = models.JSONField(default=dict, blank=True)
    assigned_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    previous = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    playbook_version = models.ForeignKey("playbook.PlaybookVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [models.Index(fields=["owner", "assigned_at"]), models.Index(fields=["contact", "assigned_at"])]
        ordering = ["assigned_at", "id"]

    def __str__(self) -> str:
        return f"contact {self.contact_id} → {self.owner or 'nobody'} ({self.reason_code})"


class HandoffDecision(AppendOnly):
    """Sales' verdict on one MQL: accept, reject with a playbook reason, or recycle to nurture with a date."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="handoff_decisions")
    mql_change = models.ForeignKey(StageChange, on_delete=models.CASCADE, related_name="decisions")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    decision = models.CharField(max_length=16, choices=Decision.choices)
    reason_key = models.CharField(max_length=64, blank=True)
    reason_label = models.CharField(max_length=200, blank=True)
    note = models.TextField(blank=True)
    recycle_until = models.DateField(null=True, blank=True)
    to_stage = models.CharField(max_length=32, choices=Stage.choices)
    stage_change = models.ForeignKey(StageChange, on_delete=models.CASCADE, related_name="+")
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="handoff_decisions")
    decided_at = models.DateTimeField(db_index=True)
    playbook_version = models.ForeignKey("playbook.PlaybookVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [
            # Why: two sellers clicking at once must not both decide the same MQL.
            models.UniqueConstraint(fields=["mql_change"], name="handoff_one_decision_per_mql"),
            models.CheckConstraint(condition=~Q(decision="reject") | ~Q(reason_key=""),
                                   name="handoff_reject_has_reason"),
            models.CheckConstraint(condition=~Q(decision="recycle") | Q(recycle_until__isnull=False),
                                   name="handoff_recycle_has_date"),
        ]
        ordering = ["decided_at", "id"]

    def __str__(self) -> str:
        return f"{self.decision} contact {self.contact_id}" + (f" ({self.reason_key})" if self.reason_key else "")


class SlaClock(models.Model):
    """A running SLA obligation (first touch or decision on one MQL); its state caches the latest SlaEvent."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="sla_clocks")
    mql_change = models.ForeignKey(StageChange, on_delete=models.CASCADE, related_name="sla_clocks")
    assignment = models.ForeignKey(Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="sla_clocks")
    team = models.CharField(max_length=64, blank=True)
    kind = models.CharField(max_length=16, choices=ClockKind.choices)
    side = models.CharField(max_length=16, choices=SlaSide.choices, default=SlaSide.SALES)
    generation = models.PositiveSmallIntegerField(default=0, help_text="0 for the first owner, +1 per reassignment")
    started_at = models.DateTimeField()
    deadline = models.DateTimeField()
    state = models.CharField(max_length=16, choices=ClockState.choices, default=ClockState.OPEN)
    resolved_at = models.DateTimeField(null=True, blank=True)
    playbook_version = models.ForeignKey("playbook.PlaybookVersion", on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["mql_change", "kind", "generation"], name="slaclock_unique")]
        # side + started_at: SLA compliance reads one side's clocks started in a period (sales_sla_events).
        indexes = [models.Index(fields=["state", "deadline"]), models.Index(fields=["owner", "started_at"]),
                   models.Index(fields=["side", "started_at"])]
        ordering = ["deadline", "id"]

    def __str__(self) -> str:
        return f"{self.kind} for contact {self.contact_id} due {self.deadline:%Y-%m-%d %H:%M} ({self.state})"


class SlaEvent(AppendOnly):
    """One SLA fact: a clock started, was met, breached, escalated or reassigned; or a marketing period verdict."""

    clock = models.ForeignKey(SlaClock, null=True, blank=True, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=16, choices=SlaEventKind.choices)
    side = models.CharField(max_length=16, choices=SlaSide.choices)
    clock_kind = models.CharField(max_length=16, choices=ClockKind.choices)
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    team = models.CharField(max_length=64, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    occurred_at = models.DateTimeField(db_index=True)
    period = models.CharField(max_length=16, blank=True, help_text="Marketing verdicts: the period judged")
    details = models.JSONField(default=dict, blank=True)
    touchpoint = models.ForeignKey("campaigns.Touchpoint", null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+", help_text="The sales touch that met the clock or touched the "
                                                               "lead without counting")
    playbook_version = models.ForeignKey("playbook.PlaybookVersion", null=True, blank=True, on_delete=models.PROTECT,
                                         related_name="+")

    class Meta:
        constraints = [
            # Why: the worker may crash and re-run; the database, not the code path, keeps each fact single.
            models.UniqueConstraint(fields=["clock", "kind"], condition=Q(clock__isnull=False) & ~Q(kind="other_touch"),
                                    name="slaevent_once_per_clock"),
            # Touches by someone other than the owner may be many per clock, but each touch is one fact.
            models.UniqueConstraint(fields=["clock", "touchpoint"], condition=Q(kind="other_touch"),
                                    name="slaevent_other_touch_once"),
            models.UniqueConstraint(fields=["side", "clock_kind", "period"], condition=Q(clock__isnull=True),
                                    name="slaevent_once_per_period"),
        ]
        indexes = [models.Index(fields=["kind", "occurred_at"]), models.Index(fields=["owner", "occurred_at"])]
        ordering = ["occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.side} {self.clock_kind} {self.kind} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class Notification(models.Model):
    """An in-app message to one user; only its read and emailed states ever change."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    dedupe_key = models.CharField(max_length=128, blank=True, default="")
    created_at = models.DateTimeField(db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True,
                                      help_text="When it went out by email, alone or in a digest (empty: not yet)")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "dedupe_key"], condition=~Q(dedupe_key=""),
                                               name="notification_once")]
        indexes = [models.Index(fields=["user", "read_at", "created_at"])]
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.title}"


class WebhookEndpoint(TimeStamped):
    """An outgoing webhook target; each delivery is signed with HMAC-SHA256 of the body under `secret`."""

    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200)
    active = models.BooleanField(default=True)
    description = models.CharField(max_length=200, blank=True)
    event_types = models.JSONField(default=list, blank=True, help_text="Event types to send; empty = all")
    format = models.CharField(max_length=16, choices=WebhookFormat.choices, default=WebhookFormat.SMARKETING,
                              help_text="smarketing: the signed JSON event; slack: a Slack incoming-webhook message")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event to one endpoint, with its attempts; the idempotency key lets receivers drop repeats."""

    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries")
    event_type = models.CharField(max_length=64)
    idempotency_key = models.CharField(max_length=128)
    payload = models.JSONField()
    body = models.TextField(help_text="The exact bytes sent and signed")
    status = models.CharField(max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=8)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    signature = models.CharField(max_length=200, blank=True, help_text="X-Smarketing-Signature of the last attempt")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["endpoint", "idempotency_key"], name="webhook_delivery_once")]
        indexes = [models.Index(fields=["status", "next_attempt_at"])]
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "webhook deliveries"

    def __str__(self) -> str:
        return f"{self.event_type} → {self.endpoint_id} ({self.status}, {self.attempts} attempts)"


class MqlAwaitingDecision(Contact):
    """Contacts in the MQL stage, as the admin's handoff queue (a proxy: no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "MQL awaiting decision"
        verbose_name_plural = "MQLs awaiting decision"


class StageChangeCorrection(AppendOnly):
    """RevOps' recorded reversal of a stage change that should not have happened (a typo, a wrong contact): the
    change stays in the history, marked corrected, and drops out of every figure. Never updated or deleted."""

    stage_change = models.OneToOneField(StageChange, on_delete=models.CASCADE, related_name="correction")
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)

    def __str__(self) -> str:
        return f"correction of stage change {self.stage_change_id}: {self.reason}"
