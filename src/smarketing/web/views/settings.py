"""Settings for RevOps without the Django admin: the overview page and what every settings page shares.

The sections live beside it by subject (settings_users, settings_tokens, settings_webhooks); imports are the
existing /import/ page, linked from here. Every page answers 403 with the layout to anyone but RevOps.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings as django_settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe

from smarketing.ingest.selectors import import_run_list
from smarketing.ingest.uploads import mapping_label
from smarketing.lifecycle.selectors_webhooks import webhook_endpoint_list
from smarketing.lifecycle.services_notification_email import smtp_configured
from smarketing.team.enums import Role
from smarketing.team.roles import REVOPS_ROLES
from smarketing.team.selectors import api_token_list, user_role_counts
from smarketing.web.access import roles_required
from smarketing.web.views.common import domain_errors, page

revops_only = roles_required(REVOPS_ROLES, "manage settings")

SECTIONS = [("settings", "Overview"), ("settings_users", "Users and roles"), ("settings_tokens", "API tokens"),
            ("settings_webhooks", "Webhooks"), ("imports", "Imports")]
RECENT_RUNS = 5


def settings_page(request: HttpRequest, template: str, context: dict[str, Any], *, section: str,
                  status: int = 200) -> HttpResponse:
    """Render a settings page with its section navigation."""
    return page(request, template, {**context, "sections": SECTIONS, "section": section}, status=status)


def _smtp() -> dict[str, Any]:
    smtp: Any = getattr(django_settings, "SMARKETING_SMTP", None)
    if smtp is None:
        return {"on": False}
    return {"on": True, "host": smtp.host, "port": smtp.port, "tls": smtp.tls, "sender": smtp.sender}


@revops_only
@require_safe
@domain_errors
def settings_home(request: HttpRequest) -> HttpResponse:
    """The overview: users by role, tokens, webhooks, email delivery and the latest imports, each linking on."""
    counts = user_role_counts()
    roles = [(label, counts.get(value, 0)) for value, label in Role.choices]
    endpoints = list(webhook_endpoint_list())
    runs = [{"run": r, "mapping": mapping_label(r)} for r in import_run_list()[:RECENT_RUNS]]
    return settings_page(request, "web/settings.html", {
        "roles": roles, "active_users": sum(counts.values()),
        "active_tokens": api_token_list(include_revoked=False).count(),
        "endpoints": endpoints, "active_endpoints": sum(e.active for e in endpoints),
        "smtp": _smtp() if smtp_configured() else {"on": False}, "runs": runs}, section="settings")
