"""Settings → API tokens: every user's tokens (never the secret), issuing one for a user (the secret shown once,
as on /me/), and revoking any."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from smarketing.core import clock
from smarketing.core.errors import DomainError
from smarketing.team.selectors import api_token_list, user_choices, user_get
from smarketing.team.services import api_token_create, api_token_revoke
from smarketing.web.forms_settings import TokenCreateForm, errors_from
from smarketing.web.views.common import domain_errors
from smarketing.web.views.settings import revops_only, settings_page

TOKENS_SHOWN = 200


def _state(token: Any, now: Any) -> str:
    if token.revoked_at:
        return "revoked"
    return "expired" if token.expires_at is not None and token.expires_at <= now else "active"


def _render(request: HttpRequest, form: TokenCreateForm, *, secret: str = "", owner: str = "",
            status: int = 200) -> HttpResponse:
    now = clock.now()
    show = "all" if request.GET.get("show") == "all" else "active"
    rows = api_token_list(include_revoked=show == "all")[:TOKENS_SHOWN]
    tokens = [{"token": t, "state": _state(t, now)} for t in rows]
    return settings_page(request, "web/settings_tokens.html", {
        "tokens": tokens, "form": form, "secret": secret, "owner": owner, "show": show, "limit": TOKENS_SHOWN},
        section="settings_tokens", status=status)


@revops_only
@domain_errors
def settings_tokens(request: HttpRequest) -> HttpResponse:
    """GET: every user's tokens; POST: issue a token for a user and show its secret once."""
    form = TokenCreateForm(request.POST or None, users=user_choices(),
                           initial={"user": request.GET.get("user") or None})
    if request.method != "POST":
        return _render(request, form)
    if not form.is_valid():
        return _render(request, form, status=422)
    data = form.cleaned_data
    owner = user_get(pk=data["user"])
    try:
        _, secret = api_token_create(user=owner, name=data["name"].strip(), by=request.user,  # type: ignore[arg-type]
                                     expires_at=clock.now() + timedelta(days=data["days"]) if data["days"] else None)
    except DomainError as exc:
        errors_from(form, exc)
        return _render(request, form, status=422)
    return _render(request, TokenCreateForm(users=user_choices()), secret=secret, owner=owner.username, status=201)


@revops_only
@require_POST
@domain_errors
def settings_token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    """Revoke any user's token (permanent; a revoked one stays listed)."""
    token = api_token_revoke(token_id=token_id, user=request.user)  # type: ignore[arg-type]
    messages.success(request, f"Token “{token.name}” ({token.prefix}…) of {token.user.username} is revoked: it "
                              "authenticates nothing now.")
    return redirect("settings_tokens")
