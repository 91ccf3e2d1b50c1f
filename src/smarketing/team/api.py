"""API router for the current user and their API tokens."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import (
    READ_ERRORS,
    WRITE_ERRORS,
    RecordId,
    filters_of,
    page,
    request_user,
    resolve_refs,
)
from smarketing.core.errors import PermissionDenied
from smarketing.team import selectors, services
from smarketing.team.auth import TokenAuth
from smarketing.team.enums import Role
from smarketing.team.models import ApiToken, User
from smarketing.team.roles import REVOPS_ROLES, has_role
from smarketing.team.schemas import (
    ApiTokenCreatedOut,
    ApiTokenFilters,
    ApiTokenIn,
    ApiTokenOut,
    MeOut,
    MePatch,
    UserFilters,
    UserIn,
    UserOut,
    UserPage,
    UserPatch,
)

router = Router()


@router.get("/me", response={200: MeOut, **READ_ERRORS}, summary="The user behind the token")
def me(request: HttpRequest) -> User:
    return request_user(request)


# Why self_service: every user, a viewer too, chooses how they hear of their own notifications.
OWN_PROFILE = TokenAuth(self_service=True)


@router.patch("/me", response={200: MeOut, **WRITE_ERRORS}, auth=OWN_PROFILE,
              summary="Change your own preferences: notification emails (each one, a daily digest, or none)",
              description="Email goes out only when the server has SMTP settings (SMARKETING_SMTP_HOST).")
def me_update(request: HttpRequest, payload: MePatch) -> User:
    user = request_user(request)
    if payload.email_notifications is not None:
        user = services.user_email_notifications_set(user=user, choice=payload.email_notifications)
    return user


@router.get("/tokens", response={200: list[ApiTokenOut], **READ_ERRORS}, summary="List API tokens (never the secret)")
def token_list(request: HttpRequest, filters: Query[ApiTokenFilters]) -> list[ApiToken]:
    user = request_user(request)
    if filters.all_users and not (user.is_superuser or user.role == Role.REVOPS):
        raise PermissionDenied(f"user {user.username!r} is not a RevOps admin; only admins list every user's tokens",
                               field="all_users", record=f"user:{user.username}")
    owner = None if filters.all_users else user
    return list(selectors.api_token_list(user=owner, include_revoked=filters.include_revoked))


# Why self_service: a viewer, who otherwise only reads, revokes their own tokens like anyone else.
OWN_TOKENS = TokenAuth(self_service=True)


@router.post("/tokens", response={201: ApiTokenCreatedOut, **WRITE_ERRORS},
             summary="Issue an API token for yourself, or for another user (RevOps admins, with `user_id`)",
             description="The secret is in this response only. With `expires_at` the token stops working then. "
                         "Viewers' tokens are issued by a RevOps admin with `user_id`.")
def token_create(request: HttpRequest, payload: ApiTokenIn) -> Status:
    me = request_user(request)
    owner = resolve_refs({"user_id": payload.user_id}, {"user_id": selectors.user_get})["user"] or me
    token, secret = services.api_token_create(user=owner, name=payload.name, expires_at=payload.expires_at, by=me)
    token.secret = secret  # type: ignore[attr-defined]  # rendered once by ApiTokenCreatedOut, never stored
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={200: ApiTokenOut, **WRITE_ERRORS}, auth=OWN_TOKENS,
               summary="Revoke a token (yours, any role; admins may revoke anyone's)",
               description="Revoking is permanent; revoking a revoked token changes nothing.")
def token_revoke(request: HttpRequest, token_id: RecordId) -> ApiToken:
    return services.api_token_revoke(token_id=token_id, user=request_user(request))


# ------------------------------------------------------------------------------ users provisioned by RevOps

USER_REFS = {"manager_id": selectors.user_get}
# Fields that cannot be null: a null sent for one of them means "leave it".
NOT_NULL = {"role", "first_name", "last_name", "capacity_per_week", "team_name", "region", "segment", "timezone",
            "is_active"}


def _user_changes(payload: dict[str, Any]) -> dict[str, Any]:
    return resolve_refs({k: v for k, v in payload.items() if not (k in NOT_NULL and v is None)}, USER_REFS)


def _revops_only(request: HttpRequest, action: str) -> None:
    user = request_user(request)
    if not has_role(user, REVOPS_ROLES):
        raise PermissionDenied(f"user {user.username!r} is not a RevOps admin; only admins {action}",
                               record=f"user:{user.username}")


@router.get("/users", response={200: UserPage, **READ_ERRORS}, summary="List users, by username")
def user_list(request: HttpRequest, filters: Query[UserFilters]) -> dict[str, Any]:
    return page(selectors.user_list(**filters_of(filters)), filters)


@router.post("/users", response={200: UserOut, 201: UserOut, **WRITE_ERRORS},
             summary="Create a user, or update the one with this email (RevOps admins)",
             description="Idempotent by email (any case): 201 when created, 200 with the user updated by the fields "
                         "sent. A new user has no usable password unless one is given.")
def user_provision(request: HttpRequest, payload: UserIn) -> Status:
    _revops_only(request, "create users")
    data = payload.dict(exclude_unset=True)
    email, username, password = data.pop("email"), data.pop("username", ""), data.pop("password", "")
    user, created = services.user_provision(email=email, username=username, password=password,
                                            **_user_changes(data))
    return Status(201 if created else 200, user)


@router.patch("/users/{user_id}", response={200: UserOut, **WRITE_ERRORS},
              summary="Change a user's role, manager, capacity, out-of-office or active flag (RevOps admins)")
def user_update(request: HttpRequest, user_id: RecordId, payload: UserPatch) -> User:
    _revops_only(request, "change users")
    user = selectors.user_get(pk=user_id)
    return services.user_update(user=user, data=_user_changes(payload.dict(exclude_unset=True)),
                                by=request_user(request))
