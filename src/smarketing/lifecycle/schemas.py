"""API shapes of the append-only lifecycle history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema
from pydantic import AwareDatetime

from smarketing.core.apitools import InSchema, Paged, PageIn
from smarketing.lifecycle.enums import ActorKind, Stage


class StageChangeIn(InSchema):
    """Move one contact *or* one account to a stage; the active playbook version is stamped on the row."""

    contact_id: int | None = None
    account_id: int | None = None
    to_stage: Stage
    occurred_at: AwareDatetime | None = Field(None, description="Defaults to now")
    reason: str = Field("", max_length=500)
    details: dict[str, Any] = Field(default_factory=dict)
    actor_kind: ActorKind = Field(ActorKind.USER, description="Who moved it; the token's user is recorded as actor")
    source_key: str = Field("", max_length=128,
                            description="Your id for this change; sending it again returns the first row (200, "
                                        "`created: false`) instead of appending a second")


class StageChangeOut(Schema):
    id: int
    contact_id: int | None
    account_id: int | None
    from_stage: str
    to_stage: str
    occurred_at: datetime
    actor_id: int | None
    actor_username: str | None = None
    actor_kind: str
    reason: str
    details: dict[str, Any]
    playbook_version: int = Field(..., description="Number of the playbook version active when it was recorded")
    source_key: str
    recorded_at: datetime

    @staticmethod
    def resolve_actor_username(obj: Any) -> str | None:
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_playbook_version(obj: Any) -> int:
        return int(obj.playbook_version.number)


class StageChangeRecordOut(StageChangeOut):
    created: bool = Field(..., description="false when the source_key was seen before and nothing was appended")


class StageChangeFilters(PageIn):
    contact_id: int | None = None
    account_id: int | None = None
    to_stage: Stage | None = None
    source_key: str | None = None
    occurred_after: AwareDatetime | None = Field(None, description="On or after (inclusive)")
    occurred_before: AwareDatetime | None = Field(None, description="Before (exclusive)")


class StageChangePage(Paged[StageChangeOut]):
    pass
