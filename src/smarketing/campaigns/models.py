from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from smarketing.campaigns.enums import (
    BriefCommentTopic,
    BriefSide,
    CampaignType,
    Channel,
    MemberStatus,
    OutreachKind,
    TouchKind,
)
from smarketing.core.models import AppendOnly, TimeStamped


class Campaign(TimeStamped):
    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=32, choices=Channel.choices, db_index=True)
    type = models.CharField(max_length=32, choices=CampaignType.choices, default=CampaignType.DEMAND_GEN)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    actual_cost = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="owned_campaigns")
    audience = models.TextField(blank=True, help_text="Who the campaign is for")
    core_message = models.TextField(blank=True)
    source = models.CharField(max_length=32, blank=True, default="")
    source_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""), name="campaign_source_key"),
            models.CheckConstraint(condition=Q(budget__gte=0) & Q(actual_cost__gte=0), name="campaign_costs_not_negative"),
            models.CheckConstraint(condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                                   name="campaign_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name


class Touchpoint(AppendOnly):
    """One interaction of a contact with marketing or sales; never updated."""

    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="touchpoints")
    # Denormalised from the contact at record time, so account-level journeys need no join.
    account = models.ForeignKey("crm.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="touchpoints")
    channel = models.CharField(max_length=32, choices=Channel.choices)
    kind = models.CharField(max_length=32, choices=TouchKind.choices)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=32, blank=True, default="")
    source_id = models.CharField(max_length=128, blank=True, default="")
    value = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    # Who made a sales touch (the rep who called, emailed, met). Empty for marketing touches, legacy rows and
    # imports that do not know the rep; the SLA's first-touch rule treats an empty actor as "any seller".
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                               name="touchpoint_source_key")]
        indexes = [models.Index(fields=["contact", "occurred_at"]), models.Index(fields=["campaign", "occurred_at"]),
                   models.Index(fields=["account", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.kind} @ {self.occurred_at:%Y-%m-%d}"


class CampaignBrief(TimeStamped):
    """What sales needs to carry a campaign: audience, core message, proof points, talk track, objections, assets.

    A launched brief is frozen: a change makes the next version (a new row pointing at its predecessor), which
    needs its own sign-off; the campaign's current brief is its highest version.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="briefs")
    version = models.PositiveIntegerField(default=1)
    previous = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="revision",
                                    help_text="The launched version this one revises")
    audience = models.TextField(blank=True)
    core_message = models.TextField()
    proof_points = models.JSONField(default=list, blank=True, help_text="List of short claims with evidence")
    talk_track = models.TextField(blank=True)
    objection_handling = models.JSONField(default=list, blank=True,
                                          help_text='List of {"objection": ..., "response": ...}')
    assets = models.JSONField(default=list, blank=True, help_text='List of {"title": ..., "url": ...}')
    content_sha = models.CharField(max_length=64, blank=True, help_text="Hash of the content sales signs off")
    launched_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "version"], name="one_brief_per_campaign_version")]

    def __str__(self) -> str:
        return f"brief v{self.version} for {self.campaign_id}"


class BriefComment(AppendOnly):
    """Sales' comment on a brief's targeting or messaging before launch."""

    brief = models.ForeignKey(CampaignBrief, on_delete=models.CASCADE, related_name="comments")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    topic = models.CharField(max_length=16, choices=BriefCommentTopic.choices, default=BriefCommentTopic.MESSAGING)
    text = models.TextField()

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"{self.topic}: {self.text[:60]}"


class BriefSignoff(AppendOnly):
    """One side's sign-off of one version (content hash) of a brief: marketing's, sales', or a RevOps override with
    its reason (recorded as an override, never as either side's signature)."""

    brief = models.ForeignKey(CampaignBrief, on_delete=models.CASCADE, related_name="signoffs")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=16, choices=BriefSide.choices, default=BriefSide.SALES)
    content_sha = models.CharField(max_length=64)
    comment = models.TextField(blank=True)
    reason = models.TextField(blank=True, help_text="Why RevOps overrode the missing sign-off (overrides only)")

    class Meta:
        ordering = ["recorded_at", "id"]

    def __str__(self) -> str:
        return f"signed by {self.user_id}"


class Outreach(AppendOnly):
    """A rep's email, call note or sequence step, optionally linked to the campaign it carries."""

    rep = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outreach")
    campaign = models.ForeignKey(Campaign, null=True, blank=True, on_delete=models.SET_NULL, related_name="outreach")
    contact = models.ForeignKey("crm.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    account = models.ForeignKey("crm.Account", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=OutreachKind.choices, default=OutreachKind.EMAIL)
    subject = models.CharField(max_length=300, blank=True)
    text = models.TextField()
    sent_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=32, blank=True, default="")
    source_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                               name="outreach_source_key")]
        indexes = [models.Index(fields=["campaign", "rep"])]
        verbose_name_plural = "outreach"

    def __str__(self) -> str:
        return f"{self.kind} by {self.rep_id}"


class CampaignMember(models.Model):
    """A contact's membership of a campaign (Salesforce's Campaign Member): its furthest status and when it first
    responded. A record, not history: its status moves forward in place (campaign_member_upsert)."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="members")
    contact = models.ForeignKey("crm.Contact", on_delete=models.CASCADE, related_name="campaign_memberships")
    status = models.CharField(max_length=16, choices=MemberStatus.choices, default=MemberStatus.SENT, db_index=True)
    first_responded_at = models.DateTimeField(null=True, blank=True)
    # Why given, not auto: the membership time in the sending system (an import's Created Date), which the ROI
    # per member stage compares with the opportunities' opening.
    created_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    source = models.CharField(max_length=32, blank=True, default="")
    source_id = models.CharField(max_length=128, blank=True, default="")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact"], name="one_membership_per_campaign_contact"),
            models.UniqueConstraint(fields=["source", "source_id"], condition=~Q(source_id=""),
                                    name="campaign_member_source_key"),
        ]
        indexes = [models.Index(fields=["campaign", "status"])]

    def __str__(self) -> str:
        return f"{self.contact_id} in {self.campaign_id}: {self.status}"


class TouchpointCorrection(AppendOnly):
    """RevOps' recorded reversal of a touchpoint that should not have been recorded: the touchpoint stays in the
    history, marked corrected, and drops out of every figure. Never updated or deleted."""

    touchpoint = models.OneToOneField(Touchpoint, on_delete=models.CASCADE, related_name="correction")
    corrected_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=500)

    def __str__(self) -> str:
        return f"correction of touchpoint {self.touchpoint_id}: {self.reason}"
