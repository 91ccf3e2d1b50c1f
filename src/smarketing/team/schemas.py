"""API shapes of the current user and API tokens."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ninja import Field, Schema
from pydantic import AwareDatetime

from smarketing.core import clock
from smarketing.core.apitools import BodyId, InSchema, Paged, PageIn
from smarketing.team.enums import EmailNotifications, Role
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
    email_notifications: str = Field(..., description="immediate: each notification by email; digest: one email a "
                                                      "day; off: none (only when the server has SMTP settings)")

    @staticmethod
    def resolve_is_admin(obj: Any) -> bool:
        return bool(obj.is_superuser or obj.role == Role.REVOPS)

    @staticmethod
    def resolve_playbook_side(obj: Any) -> str | None:
        return obj.role if obj.role in SIGNOFF_ROLES else None


class MePatch(InSchema):
    email_notifications: EmailNotifications | None = None


class ApiTokenIn(InSchema):
    name: str = Field(..., min_length=1, max_length=100, description="What the token is for (e.g. 'hubspot sync')")
    user_id: BodyId | None = Field(None, description="RevOps admins: issue the token for this user (default: yourself)")
    expires_at: AwareDatetime | None = Field(None, description="When the token stops working (at most five years "
                                                                 "ahead); empty: it never expires")


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
    expires_at: datetime | None
    active: bool = Field(..., description="Neither revoked nor expired")

    @staticmethod
    def resolve_username(obj: Any) -> str:
        return str(obj.user.username)

    @staticmethod
    def resolve_active(obj: Any) -> bool:
        return obj.revoked_at is None and (obj.expires_at is None or obj.expires_at > clock.now())


class ApiTokenCreatedOut(ApiTokenOut):
    secret: str = Field(..., description="Shown once: store it now, it cannot be retrieved later")


class ApiTokenFilters(Schema):
    all_users: bool = Field(False, description="RevOps admins only: every user's tokens")
    include_revoked: bool = True


# ------------------------------------------------------------------------------ users provisioned by RevOps

class UserIn(InSchema):
    """A user to create, or to update when the email (any case) is already a user's."""

    email: str = Field(..., min_length=3, max_length=254, description="The user's key: a repeat updates that user")
    username: str = Field("", max_length=150, description="Default: the email; ignored for an existing user")
    password: str = Field("", description="Default: none (the user cannot log in with a password); when given it "
                                          "must pass the password policy. Ignored for an existing user")
    role: Role | None = Field(None, description="Default for a new user: viewer")
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    manager_id: int | None = Field(None, description="The user this one reports to")
    capacity_per_week: int | None = Field(None, ge=0, description="Leads a seller can take per week (0 = not routed)")
    out_of_office_until: date | None = None
    team_name: str | None = Field(None, max_length=64)
    region: str | None = Field(None, max_length=32)
    segment: str | None = Field(None, max_length=32)
    timezone: str | None = Field(None, max_length=64)
    is_active: bool | None = Field(None, description="false deactivates: no logins, no API tokens")
    email_notifications: EmailNotifications | None = None


class UserPatch(InSchema):
    role: Role | None = None
    first_name: str | None = Field(None, max_length=150)
    last_name: str | None = Field(None, max_length=150)
    manager_id: int | None = Field(None, description="The user this one reports to (null: nobody)")
    capacity_per_week: int | None = Field(None, ge=0)
    out_of_office_until: date | None = Field(None, description="Not routed leads until this day (null: in office)")
    team_name: str | None = Field(None, max_length=64)
    region: str | None = Field(None, max_length=32)
    segment: str | None = Field(None, max_length=32)
    timezone: str | None = Field(None, max_length=64)
    is_active: bool | None = Field(None, description="false deactivates: no logins, no API tokens")
    email_notifications: EmailNotifications | None = None


class UserOut(Schema):
    id: int
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    is_active: bool
    manager_id: int | None
    manager_username: str | None = None
    capacity_per_week: int
    out_of_office_until: date | None
    team_name: str
    region: str
    segment: str
    timezone: str
    email_notifications: str
    has_password: bool = Field(False, description="Whether the user can log in with a password")

    @staticmethod
    def resolve_manager_username(obj: Any) -> str | None:
        return obj.manager.username if obj.manager_id else None

    @staticmethod
    def resolve_has_password(obj: Any) -> bool:
        return bool(obj.has_usable_password())


class UserFilters(PageIn):
    role: Role | None = None
    is_active: bool | None = None
    q: str = Field("", description="Username, email or name contains")


class UserPage(Paged[UserOut]):
    pass
