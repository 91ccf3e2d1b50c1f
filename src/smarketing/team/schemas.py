"""API shapes of the current user and API tokens."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from smarketing.core.apitools import InSchema
from smarketing.team.roles import SIGNOFF_ROLES


class MeOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    can_write: bool
    is_admin: bool = Field(..., description="RevOps admins manage every user's tokens")
    playbook_side: str | None = Field(None, description="The side this user signs the playbook for, if any")
    team_name: str
    region: str
    segment: str
    timezone: str

    @staticmethod
    def resolve_is_admin(obj: Any) -> bool:
        return bool(obj.is_superuser)

    @staticmethod
    def resolve_playbook_side(obj: Any) -> str | None:
        return obj.role if obj.role in SIGNOFF_ROLES else None


class ApiTokenIn(InSchema):
    name: str = Field(..., min_length=1, max_length=100, description="What the token is for (e.g. 'hubspot sync')")


class ApiTokenOut(Schema):
    """A token as listed: the secret is never shown again, only its first characters."""

    id: int
    name: str
    prefix: str
    user_id: int
    username: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    active: bool

    @staticmethod
    def resolve_username(obj: Any) -> str:
        return str(obj.user.username)

    @staticmethod
    def resolve_active(obj: Any) -> bool:
        return obj.revoked_at is None


class ApiTokenCreatedOut(ApiTokenOut):
    secret: str = Field(..., description="Shown once: store it now, it cannot be retrieved later")


class ApiTokenFilters(Schema):
    all_users: bool = Field(False, description="RevOps admins only: every user's tokens")
    include_revoked: bool = True
