"""Who may do what: the one definition of each role set, used by the API, the web app and the services."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smarketing.team.enums import Role


@dataclass(frozen=True)
class Actor:
    """The user asking, as the pure permission rules need them (no ORM in the rules)."""

    id: int
    username: str
    role: str
    is_superuser: bool = False

    @classmethod
    def of(cls, user: Any) -> Actor:
        return cls(id=user.pk, username=user.username, role=getattr(user, "role", "") or Role.VIEWER,
                   is_superuser=bool(getattr(user, "is_superuser", False)))

# Write through the API and the web app (viewers only read).
WRITE_ROLES = frozenset({Role.MARKETING, Role.SALES, Role.REVOPS})
# Accept, reject or recycle an MQL.
HANDOFF_ROLES = frozenset({Role.SALES, Role.REVOPS})
# Sign off a playbook version, one signature per side.
SIGNOFF_ROLES = frozenset({Role.MARKETING, Role.SALES})
# Move marketing's insights along.
INSIGHT_ROLES = frozenset({Role.MARKETING, Role.REVOPS})
# Manage webhooks and run the SLA check by hand.
REVOPS_ROLES = frozenset({Role.REVOPS})


def has_role(user: Any, roles: frozenset[str]) -> bool:
    """Whether the user holds one of the roles; a superuser holds them all."""
    return bool(getattr(user, "is_superuser", False) or getattr(user, "role", "") in roles)
