"""Writes for users and API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import Conflict, NotFound, ValidationFailed
from smarketing.team.enums import Role
from smarketing.team.models import ApiToken, User

TOKEN_PREFIX = "smk_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = "", first_name: str = "",
                last_name: str = "", is_staff: bool | None = None, **profile: object) -> User:
    """Create a user with a role; revops admins get the Django admin."""
    if role not in Role.values:
        raise ValidationFailed(f"role {role!r} is not one of {Role.values}", field="role")
    if not username:
        raise ValidationFailed("username is required", field="username")
    if User.objects.filter(username=username).exists():
        raise Conflict(f"user {username!r} already exists", field="username", record=username)
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, role=role,
                is_staff=(role == Role.REVOPS) if is_staff is None else is_staff,
                is_superuser=(role == Role.REVOPS), **profile)
    user.set_password(password)
    user.save()
    return user


@transaction.atomic
def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Issue a token; returns the row and the secret, which is never stored and cannot be shown again."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name or "token", prefix=secret[:12], digest=_digest(secret))
    return token, secret


@transaction.atomic
def api_token_revoke(*, token_id: int, user: User | None = None) -> ApiToken:
    """Revoke a token so it authenticates nothing from now on."""
    qs = ApiToken.objects.select_for_update().filter(pk=token_id)
    if user is not None and not user.is_superuser:
        qs = qs.filter(user=user)
    token = qs.first()
    if token is None:
        raise NotFound(f"API token {token_id} not found", record=f"api_token:{token_id}")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(secret: str) -> User | None:
    """The active user behind a bearer secret, or None; records last use."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    token = ApiToken.objects.select_related("user").filter(digest=_digest(secret), revoked_at__isnull=True).first()
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=clock.now())
    return token.user
