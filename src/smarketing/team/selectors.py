"""Reads of users and API tokens."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

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


def user_report_ids(*, user_id: int) -> frozenset[int]:
    """The ids of everyone who reports to the user, directly or through their managers (one query per level)."""
    found: set[int] = set()
    level = {user_id}
    while level:
        below = set(User.objects.filter(manager_id__in=level).values_list("id", flat=True)) - found - {user_id}
        found |= below
        level = below
    return frozenset(found)


def api_token_list(*, user: User | None = None, include_revoked: bool = True) -> QuerySet[ApiToken]:
    """API tokens, newest first (all users' when `user` is None)."""
    qs = ApiToken.objects.select_related("user").order_by("-created_at", "-id")
    if user is not None:
        qs = qs.filter(user=user)
    if not include_revoked:
        qs = qs.filter(revoked_at__isnull=True)
    return qs


def user_ids_by_login(*, logins: set[str]) -> dict[str, int | list[int]]:
    """Login (a username, or an email in any case) → user id; a list of ids when an email is shared by several
    users. A username wins over another user's email."""
    if not logins:
        return {}
    lowered = {x.lower() for x in logins}
    found: dict[str, int | list[int]] = {}
    by_email: dict[str, list[int]] = {}
    rows = (User.objects.annotate(email_l=Lower("email")).filter(Q(username__in=logins) | Q(email_l__in=lowered))
            .values_list("id", "username", "email_l"))
    for pk, username, email in rows:
        if username in logins:
            found[username] = pk
        if email:
            by_email.setdefault(email, []).append(pk)
    for login in logins:
        if login in found:
            continue
        ids = by_email.get(login.lower(), [])
        if ids:
            found[login] = ids[0] if len(ids) == 1 else ids
    return found


def user_list(*, role: str = "", is_active: bool | None = None, q: str = "") -> QuerySet[User]:
    """Users by username, with their managers; `q` matches the username, email or name."""
    qs = User.objects.select_related("manager").order_by("username", "id")
    if role:
        qs = qs.filter(role=role)
    if is_active is not None:
        qs = qs.filter(is_active=is_active)
    if q:
        qs = qs.filter(Q(username__icontains=q) | Q(email__icontains=q) | Q(first_name__icontains=q)
                       | Q(last_name__icontains=q))
    return qs


def user_ids_by_email_and_name() -> tuple[dict[str, int], dict[str, int]]:
    """Every user's id by lower-cased email and by lower-cased full name (first + last), for matching imported
    owners; a name two users share is left out (it matches nobody rather than the wrong one)."""
    by_email: dict[str, int] = {}
    by_name: dict[str, int] = {}
    shared: set[str] = set()
    for pk, email, first, last in User.objects.order_by("pk").values_list("pk", "email", "first_name", "last_name"):
        if email:
            by_email.setdefault(email.lower(), pk)
        name = " ".join(f"{first} {last}".split()).lower()
        if name:
            if name in by_name:
                shared.add(name)
            by_name.setdefault(name, pk)
    return by_email, {k: v for k, v in by_name.items() if k not in shared}
