"""Who may do what in the web app, enforced on the server (buttons are only hidden as a courtesy)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.team.enums import Role
from smarketing.team.roles import HANDOFF_ROLES, SIGNOFF_ROLES, WRITE_ROLES

__all__ = ["HANDOFF_ROLES", "SIGNOFF_ROLES", "WRITE_ROLES", "can", "permissions", "roles_required"]


def role_of(user: Any) -> str:
    return getattr(user, "role", Role.VIEWER) or Role.VIEWER


def can(user: Any, roles: frozenset[str]) -> bool:
    return bool(user.is_authenticated and role_of(user) in roles)


def forbidden(request: HttpRequest, message: str) -> HttpResponse:
    """The 403 page in the site's layout (navigation and the user's menu stay), saying why."""
    # Imported here because the layout's context (web.context) reads this module's permissions.
    from smarketing.web.views.errors import forbidden_page

    return forbidden_page(request, message)


def roles_required(roles: frozenset[str], what: str) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Log in first; then answer 403 with a readable page unless the user's role is one of `roles`."""

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not can(request.user, roles):
                labels = ", ".join(sorted(Role(r).label for r in roles))
                return forbidden(request, f"Only {labels} users can {what}; you are signed in as "
                                          f"{Role(role_of(request.user)).label}.")
            return view(request, *args, **kwargs)

        return login_required(wrapped)

    return decorate


def permissions(user: Any) -> dict[str, bool]:
    """What the templates may offer to this user (the views check again)."""
    return {"write": can(user, WRITE_ROLES), "handoff": can(user, HANDOFF_ROLES),
            "signoff": can(user, SIGNOFF_ROLES), "edit_playbook": can(user, WRITE_ROLES)}
