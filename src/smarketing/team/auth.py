"""Bearer-token authentication of the JSON API (the tokens are the team app's; `smarketing.api` mounts it)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja.security import HttpBearer

from smarketing.core.errors import PermissionDenied
from smarketing.core.throttling import bad_token_record, bad_tokens_check
from smarketing.team.roles import WRITE_ROLES, has_role
from smarketing.team.services import api_token_authenticate

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class TokenAuth(HttpBearer):
    """Bearer API token; viewers may read but not write, except on their own tokens (`self_service`)."""

    def __init__(self, *, self_service: bool = False) -> None:
        super().__init__()
        self.self_service = self_service

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        bad_tokens_check(request)
        user = api_token_authenticate(token)
        if user is None:
            bad_token_record(request)
            return None
        # Why self_service: every user, a viewer too, issues and revokes their own tokens (nothing else is written).
        if request.method not in SAFE_METHODS and not self.self_service and not has_role(user, WRITE_ROLES):
            raise PermissionDenied(f"user {user.username!r} has role {user.role!r}, which is read-only",
                                   field="role", record=f"user:{user.username}")
        request.user = user
        return user
