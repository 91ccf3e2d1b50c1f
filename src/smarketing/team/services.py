"""Writes for users and API tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import date, datetime, timedelta

from django.contrib.auth.models import Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q

from smarketing.core import clock
from smarketing.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from smarketing.core.services import validate_and_save
from smarketing.team.enums import EmailNotifications, Role
from smarketing.team.models import ApiToken, User

TOKEN_PREFIX = "smk_"


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _password_check(password: str, user: User) -> None:
    """Django's password validators on a new password, refused with the validators' messages on `password`."""
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise ValidationFailed(f"password refused: {' '.join(exc.messages)}", field="password",
                               record=f"user:{user.username}",
                               details=[{"field": "password", "message": m} for m in exc.messages]) from None


@transaction.atomic
def user_create(*, username: str, password: str, role: str, email: str = "", first_name: str = "",
                last_name: str = "", is_staff: bool | None = None, superuser: bool = False,
                enforce_password_policy: bool = True, **profile: object) -> User:
    """Create a user with a role; RevOps admins get the Django admin, and superuser only when asked for.

    The password must pass AUTH_PASSWORD_VALIDATORS; only the local demo's shared password skips them.
    """
    if role not in Role.values:
        raise ValidationFailed(f"role {role!r} is not one of {Role.values}", field="role")
    if not username:
        raise ValidationFailed("username is required", field="username")
    if User.objects.filter(username=username).exists():
        raise Conflict(f"user {username!r} already exists", field="username", record=username)
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, role=role,
                is_staff=(role == Role.REVOPS or superuser) if is_staff is None else is_staff,
                is_superuser=superuser, **profile)
    if enforce_password_policy:
        _password_check(password, user)
    user.set_password(password)
    user.save()
    if role == Role.REVOPS and not superuser:
        # Why: the admin shows a staff user only the models they hold permissions on; RevOps runs them all.
        user.user_permissions.set(Permission.objects.all())
    return user


# Why a bound: a token "for 300 years" is a typo or a token that never expires in disguise.
TOKEN_MAX_LIFETIME = timedelta(days=5 * 366)


def _expiry_checked(expires_at: datetime | None) -> datetime | None:
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise ValidationFailed("expires_at must carry a time zone", field="expires_at")
    now = clock.now()
    if expires_at <= now:
        raise ValidationFailed(f"expires_at {expires_at.isoformat()} is not in the future", field="expires_at")
    if expires_at > now + TOKEN_MAX_LIFETIME:
        raise ValidationFailed(f"expires_at {expires_at.isoformat()} is more than five years away; leave it empty "
                               "for a token that does not expire", field="expires_at")
    return expires_at


@transaction.atomic
def api_token_create(*, user: User, name: str, expires_at: datetime | None = None,
                     by: User | None = None) -> tuple[ApiToken, str]:
    """Issue a token (expiring at `expires_at` when given); returns the row and the secret, which is never stored
    and cannot be shown again. `by`, when it is someone else, must be a RevOps admin (who issue viewers' tokens)."""
    if by is not None and by.pk != user.pk and not (by.is_superuser or by.role == Role.REVOPS):
        raise PermissionDenied(f"user {by.username!r} is not a RevOps admin; only admins issue tokens for others",
                               field="user_id", record=f"user:{by.username}")
    if not user.is_active:
        raise ValidationFailed(f"user {user.username!r} is deactivated; a token would authenticate nobody",
                               field="user_id", record=f"user:{user.username}")
    expires_at = _expiry_checked(expires_at)
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(user=user, name=name or "token", prefix=secret[:12], digest=_digest(secret),
                                    expires_at=expires_at)
    return token, secret


@transaction.atomic
def api_token_revoke(*, token_id: int, user: User | None = None) -> ApiToken:
    """Revoke a token so it authenticates nothing from now on: its owner's, or anyone's for a RevOps admin (or
    the CLI, `user` None)."""
    qs = ApiToken.objects.select_for_update().filter(pk=token_id)
    if user is not None and not (user.is_superuser or user.role == Role.REVOPS):
        qs = qs.filter(user=user)
    token = qs.first()
    if token is None:
        raise NotFound(f"API token {token_id} not found", record=f"api_token:{token_id}")
    if token.revoked_at is None:
        token.revoked_at = clock.now()
        token.save(update_fields=["revoked_at"])
    return token


def api_token_authenticate(secret: str) -> User | None:
    """The active user behind a bearer secret, or None (unknown, revoked or expired token, inactive user);
    records last use."""
    if not secret or not secret.startswith(TOKEN_PREFIX):
        return None
    now = clock.now()
    token = (ApiToken.objects.select_related("user").filter(digest=_digest(secret), revoked_at__isnull=True)
             .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).first())
    if token is None or not token.user.is_active:
        return None
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user


# ------------------------------------------------------------------------------ users provisioned by RevOps

USER_FIELDS = {"first_name", "last_name", "role", "manager", "capacity_per_week", "out_of_office_until", "team_name",
               "region", "segment", "timezone", "is_active", "email_notifications"}


def _user_role_set(user: User, role: str) -> None:
    if role not in Role.values:
        raise ValidationFailed(f"user:{user.username}: role {role!r} is not one of {Role.values}", field="role",
                               record=f"user:{user.username}")
    user.role = role
    if not user.is_superuser:
        # Why: the Django admin is for RevOps; a role change grants or withdraws it.
        user.is_staff = role == Role.REVOPS


def _user_manager_checked(user: User, manager: User | None) -> None:
    # Why: a reporting line that loops (a manages b manages a) has no top, and the team views walk it upwards.
    if manager is None:
        return
    seen: set[int | None] = {user.pk}
    boss: User | None = manager
    while boss is not None:
        if boss.pk in seen:
            raise ValidationFailed(f"user:{user.username}: manager {manager.username!r} would make a reporting loop",
                                   field="manager_id", record=f"user:{user.username}")
        seen.add(boss.pk)
        boss = boss.manager


def _not_self(user: User, by: User | None, what: str) -> None:
    # Why: an admin who demotes or deactivates themselves may leave nobody able to undo it.
    if by is not None and by.pk == user.pk:
        raise ValidationFailed(f"user:{user.username}: you cannot {what} yourself; ask another RevOps admin",
                               field="role" if "role" in what else "is_active", record=f"user:{user.username}")


@transaction.atomic
def user_update(*, user: User, data: dict[str, object], by: User | None = None) -> User:
    """Change a user's role, manager, capacity, out-of-office, profile or active flag (deactivation stops their
    tokens and logins; the user and their history stay). `by`, the admin asking, cannot demote or deactivate
    themselves."""
    unknown = set(data) - USER_FIELDS
    if unknown:
        raise ValidationFailed(f"user:{user.username}: cannot change {sorted(unknown)}", field=sorted(unknown)[0],
                               record=f"user:{user.username}")
    if "role" in data and data["role"] != user.role:
        _not_self(user, by, "change the role of")
    if data.get("is_active") is False:
        _not_self(user, by, "deactivate")
    values = dict(data)
    if "role" in values:
        _user_role_set(user, str(values.pop("role")))
    if "email_notifications" in values and values["email_notifications"] not in EmailNotifications.values:
        raise ValidationFailed(f"user:{user.username}: email_notifications {values['email_notifications']!r} is not "
                               f"one of {EmailNotifications.values}", field="email_notifications",
                               record=f"user:{user.username}")
    if "manager" in values:
        manager = values.pop("manager")
        assert manager is None or isinstance(manager, User)
        if user.pk is not None:
            _user_manager_checked(user, manager)
        user.manager = manager
    for name, value in values.items():
        setattr(user, name, value)
    validate_and_save(user, label=f"user:{user.username}")
    if user.role == Role.REVOPS and not user.is_superuser:
        user.user_permissions.set(Permission.objects.all())
    elif not user.is_superuser:
        user.user_permissions.clear()
    return user


def user_role_set(*, user: User, role: str, by: User | None = None) -> User:
    """Give a user another role (a RevOps admin cannot change their own)."""
    return user_update(user=user, data={"role": role}, by=by)


def user_manager_set(*, user: User, manager: User | None) -> User:
    """Set whom a user reports to (None: nobody); a reporting loop is refused."""
    if manager is not None and manager.pk == user.pk:
        raise ValidationFailed(f"user:{user.username}: a user cannot report to themselves", field="manager_id",
                               record=f"user:{user.username}")
    return user_update(user=user, data={"manager": manager})


def user_out_of_office_set(*, user: User, until: date | None) -> User:
    """Keep new leads away from a seller until `until` (inclusive; None: in office)."""
    return user_update(user=user, data={"out_of_office_until": until})


def user_capacity_set(*, user: User, per_week: int) -> User:
    """How many leads a week routing may give the seller (0: not routed)."""
    return user_routing_set(user=user, capacity_per_week=per_week, out_of_office_until=user.out_of_office_until)


def user_routing_set(*, user: User, capacity_per_week: int, out_of_office_until: date | None,
                     team_name: str | None = None) -> User:
    """What lead routing reads of a seller: their team, leads a week (0: not routed) and out of office until a day
    (inclusive; None: in office)."""
    if capacity_per_week < 0 or capacity_per_week > 10_000:
        raise ValidationFailed(f"user:{user.username}: capacity {capacity_per_week} must be between 0 and 10000 leads "
                               "a week", field="capacity_per_week", record=f"user:{user.username}")
    data: dict[str, object] = {"capacity_per_week": capacity_per_week, "out_of_office_until": out_of_office_until}
    if team_name is not None:
        data["team_name"] = team_name.strip()
    return user_update(user=user, data=data)


def user_active_set(*, user: User, active: bool, by: User | None = None) -> User:
    """Deactivate a user (no logins, no API tokens; their history stays) or bring them back."""
    return user_update(user=user, data={"is_active": active}, by=by)


def user_email_notifications_set(*, user: User, choice: str) -> User:
    """How the user hears of notifications by email: each one, a daily digest, or none."""
    return user_update(user=user, data={"email_notifications": choice})


@transaction.atomic
def user_provision(*, email: str, username: str = "", password: str = "", **fields: object) -> tuple[User, bool]:
    """Create a user by email, or update the one that has it (any case); returns (user, created).

    A new user gets no usable password unless one is given, which must pass AUTH_PASSWORD_VALIDATORS; a new user's
    username is its email unless one is given. An existing user keeps its username and password.
    """
    try:
        validate_email(email)
    except DjangoValidationError:
        raise ValidationFailed(f"email {email!r} is not an email address", field="email", record="user") from None
    existing = list(User.objects.select_for_update().filter(email__iexact=email).order_by("id")[:2])
    if len(existing) > 1:
        raise Conflict(f"the email {email!r} belongs to several users; change them by id", field="email",
                       record=f"user:{email}")
    if existing:
        return user_update(user=existing[0], data=fields), False
    username = username or email.lower()
    if User.objects.filter(username=username).exists():
        raise Conflict(f"user {username!r} already exists with another email", field="username",
                       record=f"user:{username}")
    user = User(username=username, email=email)
    if password:
        _password_check(password, user)
        user.set_password(password)
    else:
        user.set_unusable_password()
    return user_update(user=user, data={"role": Role.VIEWER, **fields}), True


@transaction.atomic
def users_inactive_owners_create(*, owners: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """Create an inactive sales user for each imported owner no user matched, so ownership history is kept.

    Each owner is (full name, email), either may be empty; they cannot log in (no usable password, inactive).
    Returns the new user id by owner.
    """
    import re

    taken = set(User.objects.values_list("username", flat=True))
    out: dict[tuple[str, str], int] = {}
    for name, email in owners:
        base = re.sub(r"[^a-z0-9._-]+", ".", (email.split("@")[0] if email else name).lower()).strip(".")[:120]
        username, n = base or "owner", 1
        while username in taken:
            n += 1
            username = f"{base}.{n}"
        taken.add(username)
        first, _, last = name.strip().partition(" ")
        user = User(username=username, email=email.lower(), first_name=first[:150], last_name=last.strip()[:150],
                    role=Role.SALES, is_active=False)
        user.set_unusable_password()
        user.save()
        out[(name, email)] = user.pk
    return out
