"""Reads of users and API tokens."""

from __future__ import annotations

from django.db.models import QuerySet

from smarketing.core.errors import NotFound
from smarketing.team.models import ApiToken, User


def user_get(*, pk: int) -> User:
    """One user by id."""
    user = User.objects.filter(pk=pk).first()
    if user is None:
        raise NotFound(f"user {pk} does not exist", record=f"user:{pk}")
    return user


def user_get_by_username(*, username: str) -> User:
    """One user by username."""
    user = User.objects.filter(username=username).first()
    if user is None:
        raise NotFound(f"user {username!r} does not exist", record=f"user:{username}")
    return user


def api_token_list(*, user: User | None = None, include_revoked: bool = True) -> QuerySet[ApiToken]:
    """API tokens, newest first (all users' when `user` is None)."""
    qs = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if user is not None:
        qs = qs.filter(user=user)
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    return qs
