"""API schemas of the feedback loop (themes, insights, briefs, outreach, consistency)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Schema
from pydantic import Field

from smarketing.campaigns.brief_selectors import RepConsistency
from smarketing.feedback.theme_selectors import ThemeRow


class FeedbackCaptureIn(Schema):
    text: str
    kind: str = Field("", description="Empty: guessed from the wording")
    occurred_at: datetime | None = None
    source_id: str = ""
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None


class FeedbackCapturedOut(Schema):
    id: int
    created: bool
    kind: str
    text: str
    occurred_at: datetime
    source: str
    source_id: str
    account_id: int | None


class CaptureOut(Schema):
    created: int
    existing: int


class Count(Schema):
    label: str
    count: int


class ThemeDetailOut(Schema):
    theme: ThemeRow
    volume_by_month: list[Count]
    sentiment_split: dict[str, int]
    segments: list[Count]
    industries: list[Count]
    buying_roles: list[Count]
    titles: list[Count]
    items: list[dict[str, Any]]
    edits: list[dict[str, Any]]


class ThemeRenameIn(Schema):
    name: str


class ThemeMergeIn(Schema):
    source_ids: list[int]
    note: str = ""


class ThemeSplitIn(Schema):
    item_ids: list[int]
    name: str = ""
    note: str = ""


class ThemeItemsIn(Schema):
    item_ids: list[int]
    note: str = ""


class ThemeRebuildIn(Schema):
    backend: str = ""
    k: int | None = Field(None, ge=1, le=200)


class TaskOut(Schema):
    task_id: str
    queue: str
    status: str


class AssignOut(Schema):
    assigned: int
    unassigned: int
    rebuilt: bool


class UnassignedOut(Schema):
    item_id: int
    text: str
    occurred_at: datetime
    note: str


class InsightTransitionOut(Schema):
    from_status: str
    to_status: str
    actor: str | None
    occurred_at: datetime
    note: str


class InsightOut(Schema):
    id: int
    title: str
    status: str
    theme_id: int
    theme_name: str
    assigned_role: str
    assignee: str | None
    reason: str
    volume: int
    open_pipeline: Decimal
    arr: Decimal
    first_signal_at: datetime
    acknowledged_at: datetime | None
    acted_at: datetime | None
    closed_at: datetime | None
    time_to_action_days: float | None
    response_campaign_id: int | None
    response_note: str
    transitions: list[InsightTransitionOut] = []


class InsightTransitionIn(Schema):
    to: str = Field(..., description="acknowledged | acted_on | closed")
    note: str = ""
    campaign_id: int | None = None
    response_note: str = Field("", description="The message change made in response")


class InsightRefreshIn(Schema):
    min_volume: int | None = Field(None, ge=0)
    min_revenue: Decimal | None = Field(None, ge=0)
    require_both: bool = False


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


class BriefSignoffOut(Schema):
    id: int
    user: str
    content_sha: str
    comment: str
    recorded_at: datetime
    current: bool


class BriefOut(Schema):
    id: int
    campaign_id: int
    campaign: str
    audience: str
    core_message: str
    proof_points: list[str]
    talk_track: str
    objection_handling: list[dict[str, str]]
    assets: list[dict[str, str]]
    content_sha: str
    signed_off: bool
    launched_at: datetime | None
    created_at: datetime
    updated_at: datetime
    comments: list[BriefCommentOut] = []
    signoffs: list[BriefSignoffOut] = []


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
