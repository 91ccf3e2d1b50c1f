"""Template context shared by every page: navigation, the user's role and permissions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from smarketing.lifecycle.selectors_notifications import notification_unread_count
from smarketing.team.roles import REVOPS_ROLES, has_role
from smarketing.web.access import permissions, role_of
from smarketing.web.periods import SCOPED_PAGES, scope_query

NAV = [("home", "Scoreboard"), ("funnel", "Funnel"), ("handoff", "Handoff queue"), ("campaigns", "Campaigns"),
       ("journeys", "Journeys"), ("feedback", "Feedback"), ("playbook", "Playbook"), ("goals", "Goals")]
REVOPS_NAV = [("imports", "Import"), ("settings", "Settings")]  # shown to RevOps only (the page answers 403 to others)


def web(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav": []}
    match = getattr(request, "resolver_match", None)
    current = match.url_name if match else ""
    section = {"campaign": "campaigns", "import_run": "imports"}.get(current or "", current)
    if (current or "").startswith("settings_"):
        section = "settings"
    nav = NAV + REVOPS_NAV if has_role(user, REVOPS_ROLES) else NAV
    return {"nav": nav, "nav_current": section, "perm": permissions(user), "user_role": role_of(user),
            "user_role_label": user.get_role_display() if hasattr(user, "get_role_display") else role_of(user),
            # the header's bell: one COUNT on the notification (user, read_at, created_at) index
            "unread_notifications": notification_unread_count(user_id=user.pk),
            "search_q": request.GET.get("q", "") if current == "search" else "",
            # the chosen period, comparison and filters, carried by the links to the pages that show a period
            "nav_query": scope_query(request), "nav_scoped": SCOPED_PAGES}
