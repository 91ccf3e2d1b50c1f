"""Your profile: who you are signed in as, and your own API tokens: every role lists and revokes its own; the roles
that write issue them (as in the API, where a viewer's tokens come from a RevOps admin)."""

from __future__ import annotations

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from smarketing.core import clock
from smarketing.core.errors import DomainError
from smarketing.team.enums import EmailNotifications
from smarketing.team.selectors import api_token_list
from smarketing.team.services import api_token_create, api_token_revoke
from smarketing.web.access import WRITE_ROLES, can, forbidden
from smarketing.web.views.common import page

EXPIRY_CHOICES = [(0, "Never"), (7, "In 7 days"), (30, "In 30 days"), (90, "In 90 days"), (365, "In a year")]


def _render(request: HttpRequest, *, secret: str = "", error: str = "", status: int = 200) -> HttpResponse:
    now = clock.now()
    tokens = [{"token": t, "state": "revoked" if t.revoked_at else
               "expired" if t.expires_at is not None and t.expires_at <= now else "active"}
              for t in api_token_list(user=request.user)]  # type: ignore[arg-type]
    return page(request, "web/me.html", {"tokens": tokens, "secret": secret, "error": error,
                                         "expiry_choices": EXPIRY_CHOICES,
                                         "email_choices": EmailNotifications.choices}, status=status)


@login_required
def me_page(request: HttpRequest) -> HttpResponse:
    """Your profile and your API tokens."""
    if request.method == "POST":
        if not can(request.user, WRITE_ROLES):
            return forbidden(request, "Viewers do not issue API tokens; ask a RevOps admin for one. You can revoke "
                                      "your own tokens here.")
        name = (request.POST.get("name") or "").strip()
        try:
            days = int(request.POST.get("days") or 0)
        except ValueError:
            days = -1
        if not name or len(name) > 100:
            return _render(request, error="Name the token (1 to 100 characters), e.g. 'spreadsheet sync'.", status=422)
        if days not in {d for d, _ in EXPIRY_CHOICES}:
            return _render(request, error="Choose when the token expires from the list.", status=422)
        try:
            _, secret = api_token_create(user=request.user, name=name,  # type: ignore[arg-type]
                                         expires_at=clock.now() + timedelta(days=days) if days else None)
        except DomainError as exc:
            return _render(request, error=exc.message, status=exc.status)
        return _render(request, secret=secret, status=201)
    return _render(request)


@require_POST
@login_required
def me_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke one of your own tokens (another user's is not found, whatever your role)."""
    if not api_token_list(user=request.user).filter(pk=token_id).exists():  # type: ignore[arg-type]
        return _render(request, error=f"You have no API token {token_id}.", status=404)
    token = api_token_revoke(token_id=token_id, user=request.user)  # type: ignore[arg-type]
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) is revoked: it authenticates nothing now.")
    return redirect("me")
