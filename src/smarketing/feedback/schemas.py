"""API shapes of feedback items (what customers told sales)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import AwareDatetime

from smarketing.core import clock
from smarketing.core.apitools import InSchema, Paged, PageIn
from smarketing.feedback.enums import FeedbackKind, FeedbackSource
from smarketing.feedback.services import MAX_TEXT


class FeedbackIn(InSchema):
    kind: FeedbackKind
    text: str = Field(..., min_length=1, max_length=MAX_TEXT)
    occurred_at: AwareDatetime = Field(default_factory=clock.now, description="Defaults to now")
    account_id: int | None = Field(None, description="Defaults to the contact's account")
    contact_id: int | None = None
    opportunity_id: int | None = None
    source: FeedbackSource = FeedbackSource.API
    source_id: str = Field("", max_length=128, description="With source, makes the append idempotent")


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
