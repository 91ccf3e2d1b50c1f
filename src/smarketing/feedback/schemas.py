"""API shapes of feedback items (what customers told sales), themes and insights."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import AwareDatetime, field_validator

from smarketing.core import clock
from smarketing.core.apitools import InSchema, Paged, PageIn
from smarketing.core.validation import ActivityDatetime
from smarketing.feedback.enums import FeedbackKind, FeedbackSource
from smarketing.feedback.services import MAX_TEXT
from smarketing.feedback.theme_selectors import ThemeRow


class FeedbackIn(InSchema):
    """One item; quick capture sends only the text (the kind is guessed from the wording)."""

    kind: FeedbackKind | None = Field(None, description="Empty: guessed from the wording")
    text: str = Field(..., min_length=1, max_length=MAX_TEXT)
    occurred_at: ActivityDatetime = Field(default_factory=clock.now, description="Defaults to now")
    account_id: int | None = Field(None, description="Defaults to the contact's account")
    contact_id: int | None = None
    opportunity_id: int | None = None
    source: FeedbackSource = FeedbackSource.API
    source_id: str = Field("", max_length=128, description="With source, makes the append idempotent")

    @field_validator("kind", mode="before")
    @classmethod
    def _empty_kind_is_guessed(cls, value: Any) -> Any:
        return None if value == "" else value


class FeedbackOut(Schema):
    id: int
    kind: str
    text: str
    occurred_at: datetime
    account_id: int | None
    account_name: str | None = None
    contact_id: int | None
    opportunity_id: int | None
    author_id: int | None
    author_username: str | None = None
    source: str
    source_id: str
    recorded_at: datetime

    @staticmethod
    def resolve_account_name(obj: Any) -> str | None:
        return obj.account.name if obj.account_id else None

    @staticmethod
    def resolve_author_username(obj: Any) -> str | None:
        return obj.author.username if obj.author_id else None


class FeedbackRecordOut(FeedbackOut):
    created: bool = Field(..., description="false when source + source_id were seen before and nothing was appended")


class FeedbackFilters(PageIn):
    account_id: int | None = None
    contact_id: int | None = None
    opportunity_id: int | None = None
    kind: FeedbackKind | None = None
    source: FeedbackSource | None = None
    q: str = Field("", description="Text contains")
    occurred_after: AwareDatetime | None = Field(None, description="On or after (inclusive)")
    occurred_before: AwareDatetime | None = Field(None, description="Before (exclusive)")


class FeedbackPage(Paged[FeedbackOut]):
    pass


class CaptureOut(Schema):
    created: int
    existing: int


# ---------------------------------------------------------------- themes

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


# ---------------------------------------------------------------- insights

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
    revenue_at_stake: Decimal
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
