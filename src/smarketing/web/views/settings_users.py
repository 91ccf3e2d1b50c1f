"""Settings → users and roles: the list (filter by name, role, active), creating a user, and one user's page with a
small form per change (role, reporting line, what routing reads, active), each calling its team service."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from smarketing.core.errors import DomainError
from smarketing.core.pagination import offset_from_query, paginate
from smarketing.team.enums import Role
from smarketing.team.models import User
from smarketing.team.selectors import api_token_list, user_choices, user_get, user_list
from smarketing.team.services import (
    user_active_set,
    user_create,
    user_manager_set,
    user_role_set,
    user_routing_set,
)
from smarketing.web.forms_settings import (
    UserActiveForm,
    UserCreateForm,
    UserManagerForm,
    UserRoleForm,
    UserRoutingForm,
    errors_from,
)
from smarketing.web.views.common import domain_errors
from smarketing.web.views.settings import revops_only, settings_page

PAGE_SIZE = 50


def _list_context(request: HttpRequest) -> dict[str, Any]:
    q = (request.GET.get("q") or "").strip()[:100]
    role = request.GET.get("role") or ""
    role = role if role in Role.values else ""
    state = request.GET.get("state") or "active"
    active = {"active": True, "inactive": False}.get(state)
    rows = paginate(user_list(role=role, is_active=active, q=q), limit=PAGE_SIZE,
                    offset=offset_from_query(request.GET.get("offset")))
    query = {k: v for k, v in (("q", q), ("role", role), ("state", state)) if v}
    end = rows.offset + len(rows.items)
    return {"users": rows.items, "total": rows.total, "q": q, "role": role, "state": state, "roles": Role.choices,
            "first_shown": rows.offset + 1 if rows.items else 0, "last_shown": end,
            "prev_url": "?" + urlencode({**query, "offset": max(0, rows.offset - PAGE_SIZE)}) if rows.offset else "",
            "next_url": "?" + urlencode({**query, "offset": end}) if end < rows.total else ""}


@revops_only
@domain_errors
def settings_users(request: HttpRequest) -> HttpResponse:
    """GET: the users, filtered and paged, and the form to add one; POST: create the user."""
    form = UserCreateForm(request.POST or None, managers=user_choices())
    status = 200
    if request.method == "POST":
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            manager = user_get(pk=data["manager"]) if data.get("manager") else None
            try:
                user = user_create(username=data["username"].strip(), password=data["password"], role=data["role"],
                                   email=data["email"], first_name=data["first_name"], last_name=data["last_name"],
                                   manager=manager)
            except DomainError as exc:
                errors_from(form, exc)
            else:
                messages.success(request, f"User {user.username} is created as {user.get_role_display()}.")
                return redirect("settings_user", pk=user.pk)
    return settings_page(request, "web/settings_users.html", {**_list_context(request), "form": form},
                         section="settings_users", status=status)


FORMS = {"role": UserRoleForm, "manager": UserManagerForm, "routing": UserRoutingForm, "active": UserActiveForm}


def _forms(user: User, bound: str = "", data: Any = None) -> dict[str, Form]:
    managers = user_choices(exclude_id=user.pk)
    initial = {"role": {"role": user.role}, "manager": {"manager": user.manager_id},
               "routing": {"team_name": user.team_name, "capacity_per_week": user.capacity_per_week,
                           "out_of_office_until": user.out_of_office_until},
               "active": {"active": "0" if user.is_active else "1"}}
    out: dict[str, Form] = {}
    for name, cls in FORMS.items():
        kwargs: dict[str, Any] = {"managers": managers} if cls is UserManagerForm else {}
        out[name] = (cls(data, prefix=name, **kwargs) if name == bound
                     else cls(initial=initial[name], prefix=name, **kwargs))
    return out


def _apply(request: HttpRequest, user: User, action: str, form: Form) -> User:
    data = form.cleaned_data
    me: Any = request.user
    if action == "role":
        return user_role_set(user=user, role=data["role"], by=me)
    if action == "manager":
        return user_manager_set(user=user, manager=user_get(pk=data["manager"]) if data.get("manager") else None)
    if action == "routing":
        return user_routing_set(user=user, capacity_per_week=data["capacity_per_week"],
                                out_of_office_until=data["out_of_office_until"], team_name=data["team_name"])
    return user_active_set(user=user, active=data["active"], by=me)


DONE = {"role": "role changed", "manager": "reporting line changed", "routing": "routing settings saved",
        "active": "active state changed"}


@revops_only
@domain_errors
def settings_user(request: HttpRequest, pk: int) -> HttpResponse:
    """One user: GET shows their settings; POST with `action` applies one form (role, manager, routing, active)."""
    user = user_get(pk=pk)
    action = request.POST.get("action", "") if request.method == "POST" else ""
    if request.method == "POST" and action not in FORMS:
        action = ""
    forms = _forms(user, action, request.POST if action else None)
    status = 200
    if request.method == "POST":
        status = 422
        form = forms.get(action)
        if form is None:
            messages.error(request, "Choose what to change.")
        elif form.is_valid():
            try:
                _apply(request, user, action, form)
            except DomainError as exc:
                errors_from(form, exc)
                user.refresh_from_db()
            else:
                messages.success(request, f"{user.username}: {DONE[action]}.")
                return redirect("settings_user", pk=user.pk)
    tokens = list(api_token_list(user=user, include_revoked=False)[:20])
    return settings_page(request, "web/settings_user.html", {"subject": user, "forms": forms, "tokens": tokens,
                                                             "reports": list(user.reports.order_by("username"))},
                         section="settings_users", status=status)
