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


def user_choices(*, exclude_id: int | None = None) -> list[tuple[int, str]]:
    """Active users as (id, "Full Name (username)") by username, for pickers such as a manager or a token's owner."""
    rows = User.objects.filter(is_active=True).order_by("username", "id")
    if exclude_id is not None:
        rows = rows.exclude(pk=exclude_id)
    return [(pk, f"{' '.join(f'{first} {last}'.split()) or username} ({username})")
            for pk, username, first, last in rows.values_list("pk", "username", "first_name", "last_name")]


def user_role_counts() -> dict[str, int]:
    """How many active users hold each role."""
    from django.db.models import Count

    return dict(User.objects.filter(is_active=True).values_list("role").annotate(n=Count("id")).order_by())  # type: ignore[arg-type]
