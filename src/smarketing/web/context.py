"""Template context shared by every page: navigation, the user's role and permissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from smarketing.web.access import permissions, role_of

NAV = [("home", "Scoreboard"), ("funnel", "Funnel"), ("handoff", "Handoff queue"), ("campaigns", "Campaigns"),
       ("journeys", "Journeys"), ("feedback", "Feedback"), ("playbook", "Playbook"), ("goals", "Goals")]


def web(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    section = {"campaign": "campaigns"}.get(current or "", current)
    return {"nav": NAV, "nav_current": section, "perm": permissions(user), "user_role": role_of(user),
            "user_role_label": user.get_role_display() if hasattr(user, "get_role_display") else role_of(user)}
