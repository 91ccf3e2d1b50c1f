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

from smarketing.core import clock
from smarketing.core.errors import DomainError, ValidationFailed
from smarketing.crm.selectors import contact_get
from smarketing.lifecycle.enums import ActorKind, Stage
from smarketing.web import integrations
from smarketing.web.access import HANDOFF_ROLES, roles_required
from smarketing.web.context import web
from smarketing.web.data.common import forget_version
from smarketing.web.data.pages import QueueItem, handoff_queue, sla_clocks_for
from smarketing.web.views.common import active_terms, domain_errors, page

HANDOFF = "smarketing.lifecycle.services_handoff"
PAGE_SIZE = 20


def _countdowns(items: list[QueueItem], terms: Any) -> list[QueueItem]:
    """Attach SLA countdowns: the lifecycle's running clocks when routing started them, else deadlines computed
    from the MQL time by the lifecycle's business calendar. Most urgent first."""
    deadlines = integrations.optional("smarketing.lifecycle.sla", "sales_deadlines")
    countdown = integrations.optional("smarketing.lifecycle.sla", "countdown")
    if countdown is None:
        return items
    running, _err = integrations.safe(sla_clocks_for, [i.mql_change_id for i in items])
    now = clock.now()
    cal = terms.sla.calendar
    for item in items:
        clocks: dict[str, Any] = {}
        for kind, c in (running or {}).get(item.mql_change_id, {}).items():
            clocks[kind] = countdown(cal, c.deadline, now, resolved_state="" if c.state == "open" else c.state).as_dict()
        if not clocks and deadlines is not None:
            d = deadlines(terms.sla, item.mql_at)
            clocks = {"first_touch": countdown(cal, d.first_touch, now).as_dict(),
                      "decision": countdown(cal, d.decision, now).as_dict()}
        item.clocks = [{"kind": k.replace("_", " "), "state": v["state"],  # type: ignore[attr-defined]
                        "hours_left": v["business_hours_left"],
                        "deadline": datetime.fromisoformat(v["deadline"]).astimezone(UTC).strftime("%b %d, %H:%M")}
                       for k, v in sorted(clocks.items())]
        open_left = [v["business_seconds_left"] for v in clocks.values() if v["state"] in ("open", "due")]
        item.urgency = min(open_left) if open_left else float("inf")  # type: ignore[attr-defined]
    return sorted(items, key=lambda i: (getattr(i, "urgency", float("inf")), i.mql_at))


@login_required
@domain_errors
def handoff_page(request: HttpRequest) -> HttpResponse:
    version, terms = active_terms()
    if terms is None:
        return page(request, "web/handoff.html", {"items": [], "no_playbook": True})
    scope = request.GET.get("scope") or ("mine" if request.user.role == "sales" else "all")  # type: ignore[union-attr]
    owner_id = request.user.pk if scope == "mine" else None
    try:
        offset = max(0, int(request.GET.get("offset", "0")))
    except ValueError:
        offset = 0
    window = handoff_queue(terms=terms, owner_id=owner_id, limit=offset + PAGE_SIZE + 1)
    items = _countdowns(window, terms)[offset:offset + PAGE_SIZE + 1]
    return page(request, "web/handoff.html", {
        "items": items[:PAGE_SIZE], "has_more": len(items) > PAGE_SIZE, "offset": offset, "page_size": PAGE_SIZE,
        "next_offset": offset + PAGE_SIZE, "prev_offset": max(0, offset - PAGE_SIZE),
        "handoff_base": reverse("handoff"), "scope": scope, "reasons": terms.handoff.rejection_reasons,
        "recycle_days": terms.handoff.recycle_default_days, "sla_terms": terms.sla,
        "wired": integrations.optional(HANDOFF, "handoff_accept") is not None})


def _decide(request: HttpRequest, contact_id: int, action: str) -> str:
    """Call the lifecycle handoff service for one decision; returns what happened, in words."""
    contact = contact_get(pk=contact_id)
    user = request.user
    note = request.POST.get("note", "").strip()
    reason = request.POST.get("reason_key", "").strip()
    services = {a: integrations.optional(HANDOFF, f"handoff_{a}") for a in ("accept", "reject", "recycle")}
    if action == "reject" and not reason:
        raise ValidationFailed("choose a rejection reason", field="reason_key", record=f"contact:{contact_id}")
    if services[action] is not None:
        if action == "accept":
            services["accept"](contact=contact, user=user, note=note)
        elif action == "reject":
            services["reject"](contact=contact, user=user, reason_key=reason, note=note)
        else:
            until_raw = request.POST.get("until", "")
            try:
                until = date.fromisoformat(until_raw) if until_raw else None
            except ValueError:
                raise ValidationFailed(f"recycle date {until_raw!r} is not a date (YYYY-MM-DD)", field="until") from None
            services["recycle"](contact=contact, user=user, until=until, note=note, reason_key=reason)
    else:  # lifecycle's handoff services not installed: record the stage change itself
        from smarketing.lifecycle.services import stage_change_record

        if contact.lifecycle_stage != Stage.MQL:
            from smarketing.core.errors import Conflict

            raise Conflict(f"contact {contact.pk} is {contact.lifecycle_stage}, not awaiting a decision",
                           field="lifecycle_stage", record=f"contact:{contact.pk}")
        to = {"accept": Stage.SAL, "reject": Stage.DISQUALIFIED, "recycle": Stage.RECYCLED}[action]
        stage_change_record(contact=contact, to_stage=to, actor=user, actor_kind=ActorKind.USER,  # type: ignore[arg-type]
                            reason=f"{action}ed by {user.get_username()}" + (f": {reason}" if reason else ""))
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
    except DomainError as exc:
        done, ok = exc.message, False
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "web/_handoff_result.html",
                      {**web(request), "message": done, "ok": ok, "contact_id": contact_id},
                      status=200)  # htmx swaps only 2xx; the partial itself shows the error
    (messages.success if ok else messages.error)(request, done)
    return redirect("handoff")
