"""API shapes of campaigns, touchpoints, briefs, outreach and message consistency."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import AwareDatetime, ValidationInfo, field_validator

from smarketing.campaigns.brief_selectors import RepConsistency
from smarketing.campaigns.enums import CampaignType, Channel, MemberStatus, TouchKind
from smarketing.core.apitools import InSchema, OwnedRecordOut, Paged, PageIn
from smarketing.core.validation import ActivityDate, ActivityDatetime

# ---------------------------------------------------------------- campaigns

class CampaignIn(InSchema):
    name: str = Field(..., min_length=1, max_length=200)
    channel: Channel
    type: CampaignType = CampaignType.DEMAND_GEN
    start_date: ActivityDate
    end_date: ActivityDate | None = None
    budget: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)
    actual_cost: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)
    owner_id: int | None = None
    audience: str = Field("", description="Who the campaign is for")
    core_message: str = ""
    source: str = Field("", max_length=32)
    source_id: str = Field("", max_length=128)

    @field_validator("end_date")
    @classmethod
    def _ends_after_start(cls, v: date | None, info: ValidationInfo) -> date | None:
        start = info.data.get("start_date")
        if v is not None and start is not None and v < start:
            raise ValueError(f"must be on or after start_date ({start})")
        return v


class CampaignPatch(InSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    channel: Channel | None = None
    type: CampaignType | None = None
    start_date: ActivityDate | None = None
    end_date: ActivityDate | None = None
    budget: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    actual_cost: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    owner_id: int | None = None
    audience: str | None = None
    core_message: str | None = None
    source: str | None = Field(None, max_length=32)
    source_id: str | None = Field(None, max_length=128)


class CampaignOut(OwnedRecordOut):
    id: int
    name: str
    channel: str
    type: str
    start_date: date
    end_date: date | None
    budget: float
    actual_cost: float
    audience: str
    core_message: str


class CampaignFilters(PageIn):
    q: str = Field("", description="Name contains")
    channel: Channel | None = None
    type: CampaignType | None = None


class CampaignPage(Paged[CampaignOut]):
    pass


# ---------------------------------------------------------------- touchpoints

class TouchpointIn(InSchema):
    contact_id: int
    campaign_id: int | None = None
    channel: Channel
    kind: TouchKind
    occurred_at: ActivityDatetime
    source: str = Field("", max_length=32, description="Sending system; with source_id makes the append idempotent")
    source_id: str = Field("", max_length=128, description="The event's id there; a repeat returns the first row")
    value: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    actor_id: int | None = Field(None, description="The user (rep) who made a sales touch. The SLA's first-touch "
                                                   "clock stops only for the lead's owner; a touch without an "
                                                   "actor counts for whoever owns the lead")


class TouchpointOut(Schema):
    id: int
    contact_id: int
    account_id: int | None
    campaign_id: int | None
    channel: str
    kind: str
    occurred_at: datetime
    source: str
    source_id: str
    value: float | None
    actor_id: int | None
    actor_username: str | None = None
    recorded_at: datetime

    @staticmethod
    def resolve_actor_username(obj: Any) -> str | None:
        return obj.actor.username if obj.actor_id else None


class TouchpointFilters(PageIn):
    contact_id: int | None = None
    account_id: int | None = None
    campaign_id: int | None = None
    kind: TouchKind | None = None
    actor_id: int | None = None
    occurred_after: AwareDatetime | None = Field(None, description="On or after (inclusive)")
    occurred_before: AwareDatetime | None = Field(None, description="Before (exclusive)")


class TouchpointPage(Paged[TouchpointOut]):
    pass


# ---------------------------------------------------------------- briefs

class ObjectionIn(Schema):
    objection: str
    response: str


class AssetIn(Schema):
    title: str = ""
    url: str


class BriefIn(Schema):
    campaign_id: int
    audience: str = ""
    core_message: str = ""
    proof_points: list[str] = []
    talk_track: str = ""
    objection_handling: list[ObjectionIn] = []
    assets: list[AssetIn] = []


class BriefPatch(Schema):
    audience: str | None = None
    core_message: str | None = None
    proof_points: list[str] | None = None
    talk_track: str | None = None
    objection_handling: list[ObjectionIn] | None = None
    assets: list[AssetIn] | None = None


class BriefCommentIn(Schema):
    text: str
    topic: str = "messaging"


class BriefCommentOut(Schema):
    id: int
    author: str | None
    topic: str
    text: str
    recorded_at: datetime


class BriefSignoffIn(Schema):
    comment: str = ""


class BriefOverrideIn(InSchema):
    reason: str = Field(..., min_length=1, description="Why the brief may launch without a side's sign-off")


class BriefSignoffOut(Schema):
    id: int
    user: str
    side: str = Field("sales", description="marketing or sales (a signature), or override (RevOps, with a reason; "
                                           "never a signature)")
    content_sha: str
    comment: str
    reason: str = Field("", description="Why RevOps overrode the missing sign-off (overrides only)")
    recorded_at: datetime
    current: bool


class BriefOverrideOut(Schema):
    user: str = Field(..., description="The RevOps user who overrode")
    reason: str
    recorded_at: datetime


class BriefOut(Schema):
    id: int
    campaign_id: int
    campaign: str
    version: int = Field(1, description="1 for the first brief; each revision of a launched brief adds one")
    previous_id: int | None = Field(None, description="The launched version this one revises")
    audience: str
    core_message: str
    proof_points: list[str]
    talk_track: str
    objection_handling: list[dict[str, str]]
    assets: list[dict[str, str]]
    content_sha: str
    signed_off: bool = Field(..., description="A sales user other than the author signed the current content (a "
                                              "RevOps override is not a sales signature)")
    marketing_signed: bool = Field(False, description="A marketing user signed the current content")
    sales_signed: bool = Field(False, description="The same as signed_off")
    override: BriefOverrideOut | None = Field(None, description="The RevOps override of the current content, if any")
    ready_to_launch: bool = Field(False, description="Both sides signed the current content, or RevOps overrode")
    launched_at: datetime | None
    created_at: datetime
    updated_at: datetime
    comments: list[BriefCommentOut] = []
    signoffs: list[BriefSignoffOut] = []


# ---------------------------------------------------------------- outreach and consistency

class OutreachIn(Schema):
    text: str
    kind: str = "email"
    subject: str = ""
    sent_at: datetime | None = None
    campaign_id: int | None = None
    contact_id: int | None = None
    account_id: int | None = None
    source: str = ""
    source_id: str = ""


class OutreachOut(Schema):
    id: int
    rep: str
    kind: str
    subject: str
    text: str
    sent_at: datetime
    campaign_id: int | None
    contact_id: int | None
    account_id: int | None
    created: bool = True


class SentenceOut(Schema):
    text: str
    similarity: float
    status: str
    closest: str


class OutreachConsistencyOut(Schema):
    outreach_id: int
    rep: str
    kind: str
    sent_at: datetime
    score: float
    semantic: float
    coverage: float
    covered: list[str]
    missing: list[str]
    matching: list[SentenceOut]
    drifting: list[SentenceOut]


class CampaignConsistencyOut(Schema):
    campaign_id: int
    campaign: str
    has_brief: bool
    outreach: int
    score: float | None
    coverage: float | None
    reps: list[RepConsistency]
    items: list[OutreachConsistencyOut] = []


# ---------------------------------------------------------------- campaign members

class CampaignMemberIn(InSchema):
    contact_id: int
    status: MemberStatus = Field(MemberStatus.SENT, description="sent → opened → responded → registered → attended "
                                                                "→ converted; a member only moves forward")
    created_at: AwareDatetime | None = Field(None, description="When the contact joined (default: now); kept from "
                                                               "the first post")
    first_responded_at: AwareDatetime | None = Field(None, description="Set once; default: now, when the status "
                                                                       "reaches responded or later")
    source: str = Field("", max_length=32)
    source_id: str = Field("", max_length=128)


class CampaignMemberOut(Schema):
    id: int
    campaign_id: int
    contact_id: int
    contact_email: str
    status: str
    first_responded_at: datetime | None
    created_at: datetime
    updated_at: datetime
    source: str
    source_id: str

    @staticmethod
    def resolve_contact_email(obj: Any) -> str:
        return str(obj.contact.email)


class CampaignMemberFilters(PageIn):
    status: MemberStatus | None = None


class CampaignMemberPage(Paged[CampaignMemberOut]):
    pass


class MemberStageOut(Schema):
    status: str
    members: int = Field(..., description="Members whose furthest status is this one")
    reached: int = Field(..., description="Members at this status or a later one")
    pipeline: float = Field(..., description="Amount of the opportunities of the members who reached it (as "
                                             "primary contact, opened after joining)")
    revenue: float = Field(..., description="The won part of that pipeline")
    cost_per_reached: float | None = Field(..., description="The campaign's actual cost per member who reached it")


class CampaignMemberSummaryOut(Schema):
    campaign_id: int
    members: int
    actual_cost: float
    stages: list[MemberStageOut]
