"""The notifications inbox: a user's own notifications, newest first, filtered, marked read one by one or all at once.

Every role reads and marks its own (marking read is personal state, so viewers too); another user's notification is a
404. The mark-read forms post and redirect back to the inbox with its filters; under HTMX the inbox and the header's
bell are swapped from that page (`hx-select` / `hx-select-oob`), so the badge follows without a reload.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST, require_safe

from smarketing.core.errors import NotFound
from smarketing.core.pagination import offset_from_query, paginate
from smarketing.lifecycle.enums import NotificationKind
from smarketing.lifecycle.selectors_notifications import notification_list_for_user
from smarketing.lifecycle.services_notifications import notification_mark_all_read, notification_mark_read
from smarketing.web.views.common import domain_errors, page

PAGE_SIZE = 25
KIND_LABELS = dict(NotificationKind.choices)


def _link(n: Any) -> str:
    """The record a notification is about (every kind the product records today names a contact)."""
    return reverse("contact", args=[n.contact_id]) if n.contact_id else ""


@login_required
@require_safe
@domain_errors
def notifications_page(request: HttpRequest) -> HttpResponse:
    """Your notifications, newest first: unread or all, by kind, paged."""
    show = "all" if request.GET.get("show") == "all" else "unread"
    kind = request.GET.get("kind") or ""
    if kind not in KIND_LABELS:
        kind = ""
    offset = offset_from_query(request.GET.get("offset"))
    rows = paginate(notification_list_for_user(user_id=request.user.pk or 0, unread_only=show == "unread", kind=kind),
                    limit=PAGE_SIZE, offset=offset)
    items = [{"n": n, "kind_label": KIND_LABELS.get(n.kind, n.kind), "url": _link(n)} for n in rows.items]
    query = {k: v for k, v in (("show", show), ("kind", kind)) if v}
    end = rows.offset + len(rows.items)

    def at(off: int) -> str:
        return "?" + urlencode({**query, "offset": off})

    return page(request, "web/notifications.html", {
        "items": items, "total": rows.total, "show": show, "kind": kind, "kinds": NotificationKind.choices,
        "first_shown": rows.offset + 1 if rows.items else 0, "last_shown": end,
        "newer_url": at(max(0, rows.offset - PAGE_SIZE)) if rows.offset else "",
        "older_url": at(end) if end < rows.total else "",
        "here": request.get_full_path()})


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or ""
    if not target.startswith("/notifications/") or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        target = reverse("notifications")
    return redirect(target)


@login_required
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of your notifications read; another user's is a 404."""
    try:
        notification_mark_read(user=request.user, notification_id=pk)  # type: ignore[arg-type]
    except NotFound as exc:
        raise Http404(exc.message) from None
    return _back(request)


@login_required
@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    """Mark every one of your unread notifications read."""
    notification_mark_all_read(user=request.user)  # type: ignore[arg-type]
    return _back(request)
