"""The handoff queue: sales sees new MQLs with why they scored, what they did and how long is left to decide."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from smarketing.core.errors import DomainError, PermissionDenied, ValidationFailed
from smarketing.core.pagination import offset_from_query
from smarketing.crm.selectors import contact_get
from smarketing.lifecycle.selectors_queue import QueueRow, handoff_queue_rows
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_recycle, handoff_reject
from smarketing.web.access import HANDOFF_ROLES, forbidden, roles_required
from smarketing.web.context import web
from smarketing.web.data.common import forget_version
from smarketing.web.data.measures import metrics
from smarketing.web.periods import current_quarter_key, parse_period
from smarketing.web.views.common import active_terms, domain_errors, page

PAGE_SIZE = 20
CLOCK_LABELS = {"first_touch": "First touch", "decision": "Decision"}


def _clocks(row: QueueRow) -> list[dict[str, Any]]:
    """The row's countdowns as the card shows them (planned deadlines when routing started no clock)."""
    return [{"kind": CLOCK_LABELS.get(kind, kind.replace("_", " ").capitalize()), "state": v["state"],
             "hours_left": v["business_hours_left"], "planned": not row.sla,
             "deadline": datetime.fromisoformat(v["deadline"]).astimezone(UTC).strftime("%b %d, %H:%M")}
            for kind, v in sorted(row.countdowns.items())]


# The quarter's measures the queue page shows above the queue.
HANDOFF_MEASURES = ("mqls_entered", "mqls_accepted", "mqls_awaiting_decision", "mql_acceptance_rate",
                    "first_touch_within_sla", "decision_within_sla")


@login_required
@domain_errors
def handoff_page(request: HttpRequest) -> HttpResponse:
    _version, terms = active_terms()
    if terms is None:
        return page(request, "web/handoff.html", {"items": [], "no_playbook": True})
    scope = request.GET.get("scope") or ("mine" if request.user.role == "sales" else "all")  # type: ignore[union-attr]
    owner_id = request.user.pk if scope == "mine" else None
    offset = offset_from_query(request.GET.get("offset"))  # a 400 page naming ?offset= when out of bounds
    rows = handoff_queue_rows(owner_id=owner_id, limit=offset + PAGE_SIZE + 1, viewer=request.user)[offset:]
    items = [{"row": r, "clocks": _clocks(r)} for r in rows[:PAGE_SIZE]]
    quarter = parse_period(current_quarter_key())
    return page(request, "web/handoff.html", {
        "quarter": quarter, "measures": metrics(quarter, names=HANDOFF_MEASURES),
        "items": items, "has_more": len(rows) > PAGE_SIZE, "offset": offset, "page_size": PAGE_SIZE,
        "next_offset": offset + PAGE_SIZE, "prev_offset": max(0, offset - PAGE_SIZE),
        "handoff_base": reverse("handoff"), "scope": scope, "reasons": terms.handoff.rejection_reasons,
        "recycle_days": terms.handoff.recycle_default_days, "sla_terms": terms.sla})


def _decide(request: HttpRequest, contact_id: int, action: str) -> str:
    """Call the lifecycle handoff service for one decision; returns what happened, in words."""
    contact = contact_get(pk=contact_id)
    user: Any = request.user
    note = request.POST.get("note", "").strip()
    reason = request.POST.get("reason_key", "").strip()
    if action == "accept":
        handoff_accept(contact=contact, user=user, note=note)
    elif action == "reject":
        if not reason:
            raise ValidationFailed("choose a rejection reason", field="reason_key", record=f"contact:{contact_id}")
        handoff_reject(contact=contact, user=user, reason_key=reason, note=note)
    else:
        until_raw = request.POST.get("until", "")
        try:
            until = date.fromisoformat(until_raw) if until_raw else None
        except ValueError:
            raise ValidationFailed(f"recycle date {until_raw!r} is not a date (YYYY-MM-DD)", field="until") from None
        handoff_recycle(contact=contact, user=user, until=until, note=note, reason_key=reason)
    verb = {"accept": "accepted", "reject": "rejected", "recycle": "recycled to nurture"}[action]
    return f"{contact.name} {verb}."


@require_POST
@roles_required(HANDOFF_ROLES, "decide on MQLs in the handoff queue")
def handoff_decide(request: HttpRequest, contact_id: int, action: str) -> HttpResponse:
    if action not in ("accept", "reject", "recycle"):
        return HttpResponse(status=404)
    try:
        done = _decide(request, contact_id, action)
        forget_version()  # so this user's next page view sees the decision in the analytics too
        ok = True
    except PermissionDenied as exc:
        # Why 403 and not the message in a 200: another rep's MQL is refused like any forbidden write; the partial
        # carries the reason and app.js swaps it in (htmx leaves error responses out by default).
        if request.htmx:  # type: ignore[attr-defined]
            response = render(request, "web/_handoff_result.html",
                              {**web(request), "message": exc.message, "ok": False, "contact_id": contact_id},
                              status=403)
            response["X-Swap-Refusal"] = "true"
            return response
        return forbidden(request, exc.message)
    except DomainError as exc:
        done, ok = exc.message, False
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/_handoff_result.html",
                      {**web(request), "message": done, "ok": ok, "contact_id": contact_id},
                      status=200)  # htmx swaps only 2xx; the partial itself shows the error
    (messages.success if ok else messages.error)(request, done)
    return redirect("handoff")
