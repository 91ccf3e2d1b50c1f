"""The period picker's "reset" link: forget the remembered period, comparison and filters."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from smarketing.web.periods import scope_forget


@login_required
def period_reset(request: HttpRequest) -> HttpResponse:
    """Forget the session's scope and go back to the page (its path only, so it opens on this quarter)."""
    scope_forget(request)
    target = request.GET.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False) \
            or not target.startswith("/"):
        target = reverse("home")
    return HttpResponseRedirect(target.split("?", 1)[0])
