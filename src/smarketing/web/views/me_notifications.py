"""Your notification emails (on /me/): each notification as it happens, a daily digest, or none; every role, a
viewer too, chooses their own (as `PATCH /api/team/me` does)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from smarketing.team.services import user_email_notifications_set
from smarketing.web.forms_settings import EmailNotificationsForm


@require_POST
@login_required
def me_notifications(request: HttpRequest) -> HttpResponse:
    """Save how you hear of your notifications by email."""
    form = EmailNotificationsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the notification email options.")
        return redirect("me")
    user = user_email_notifications_set(user=request.user,  # type: ignore[arg-type]
                                        choice=form.cleaned_data["email_notifications"])
    messages.success(request, f"Notification emails: {user.get_email_notifications_display()}.")
    return redirect("me")
