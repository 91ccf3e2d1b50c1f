"""API router for the current user and their API tokens."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import READ_ERRORS, WRITE_ERRORS, request_user
from smarketing.core.errors import PermissionDenied
from smarketing.team import selectors, services
from smarketing.team.models import ApiToken, User
from smarketing.team.schemas import ApiTokenCreatedOut, ApiTokenFilters, ApiTokenIn, ApiTokenOut, MeOut

router = Router()


@router.get("/me", response={200: MeOut, **READ_ERRORS}, summary="The user behind the token")
def me(request: HttpRequest) -> User:
    return request_user(request)


@router.get("/tokens", response={200: list[ApiTokenOut], **READ_ERRORS}, summary="List API tokens (never the secret)")
def token_list(request: HttpRequest, filters: Query[ApiTokenFilters]) -> list[ApiToken]:
    user = request_user(request)
    if filters.all_users and not user.is_superuser:
        raise PermissionDenied(f"user {user.username!r} is not a RevOps admin; only admins list every user's tokens",
                               field="all_users", record=f"user:{user.username}")
    owner = None if filters.all_users else user
    return list(selectors.api_token_list(user=owner, include_revoked=filters.include_revoked))


@router.post("/tokens", response={201: ApiTokenCreatedOut, **WRITE_ERRORS},
             summary="Issue an API token for yourself", description="The secret is in this response only.")
def token_create(request: HttpRequest, payload: ApiTokenIn) -> Status:
    token, secret = services.api_token_create(user=request_user(request), name=payload.name)
    token.secret = secret  # type: ignore[attr-defined]  # rendered once by ApiTokenCreatedOut, never stored
    return Status(201, token)


@router.delete("/tokens/{token_id}", response={200: ApiTokenOut, **WRITE_ERRORS},
               summary="Revoke a token (yours; admins may revoke anyone's)",
               description="Revoking is permanent; revoking a revoked token changes nothing.")
def token_revoke(request: HttpRequest, token_id: int) -> ApiToken:
    return services.api_token_revoke(token_id=token_id, user=request_user(request))
