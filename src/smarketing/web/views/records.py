"""Record pages: one contact, account or opportunity with its key fields, score, related records and timeline.

Every logged-in role reads them (viewers too); nothing is written here. The timeline is paged with ?offset=; an
htmx request aimed at the timeline gets the timeline partial alone.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from smarketing.core.errors import DomainError, NotFound
from smarketing.core.pagination import offset_from_query
from smarketing.crm import timeline
from smarketing.crm.selectors import (
    account_get,
    contact_get,
    contact_list,
    opportunity_get,
    opportunity_list,
    opportunity_list_for_contact,
)
from smarketing.scoring.selectors import account_score_get, contact_score_explain
from smarketing.web.context import web
from smarketing.web.views.common import domain_errors, page

TIMELINE_SIZE = 20
CONTACTS_SHOWN = 50


def _offset(request: HttpRequest) -> int:
    return offset_from_query(request.GET.get("offset"))  # a 400 page naming ?offset= when out of bounds


def _timeline_context(entries: timeline.TimelinePage, url: str, own: timeline.RecordRef) -> dict[str, Any]:
    end = entries.offset + len(entries.items)
    return {"timeline": entries, "timeline_url": url, "own_record": (own.kind, own.id),
            "kind_labels": timeline.KIND_LABELS, "first_shown": entries.offset + 1 if entries.items else 0,
            "last_shown": end, "newer_offset": max(0, entries.offset - entries.limit) if entries.offset else None,
            "older_offset": end if end < entries.total else None}


def _render(request: HttpRequest, template: str, context: dict[str, Any]) -> HttpResponse:
    htmx = request.htmx  # type: ignore[attr-defined]
    if htmx and htmx.target == "timeline" and not htmx.history_restore_request:
        return render(request, "web/_timeline.html", {**web(request), **context})
    return page(request, template, context)


def _account_score(account_id: int) -> Any:
    """The account's cached score, or None when it has not been scored yet."""
    try:
        return account_score_get(account_id=account_id)
    except NotFound:
        return None


def _contact_score(contact_id: int) -> dict[str, Any] | None:
    """The contact's latest score with its lines: the cached one, else computed now from its history (nothing is
    written); None without an active playbook to score by."""
    try:
        score = contact_score_explain(contact_id=contact_id, fresh=False)
    except NotFound:
        try:
            score = contact_score_explain(contact_id=contact_id, fresh=True)
        except DomainError:
            return None
    return {**score, "as_of_at": datetime.fromisoformat(score["as_of"])}


@require_safe
@login_required
@domain_errors
def contact_page(request: HttpRequest, contact_id: int) -> HttpResponse:
    contact = contact_get(pk=contact_id)
    entries = timeline.contact_timeline(contact_id=contact.pk, offset=_offset(request), limit=TIMELINE_SIZE)
    return _render(request, "web/contact.html", {
        "contact": contact, "score": _contact_score(contact.pk),
        "opportunities": list(opportunity_list_for_contact(contact_id=contact.pk)),
        **_timeline_context(entries, reverse("contact", args=[contact.pk]),
                            timeline.RecordRef("contact", contact.pk, contact.name))})


@require_safe
@login_required
@domain_errors
def account_page(request: HttpRequest, account_id: int) -> HttpResponse:
    account = account_get(pk=account_id)
    entries = timeline.account_timeline(account_id=account.pk, offset=_offset(request), limit=TIMELINE_SIZE)
    contacts = contact_list(account_id=account.pk)
    return _render(request, "web/account.html", {
        "account": account, "score": _account_score(account.pk),
        "contacts": list(contacts[:CONTACTS_SHOWN]), "contact_count": contacts.count(),
        "opportunities": list(opportunity_list(account_id=account.pk)),
        **_timeline_context(entries, reverse("account", args=[account.pk]),
                            timeline.RecordRef("account", account.pk, account.name))})


@require_safe
@login_required
@domain_errors
def opportunity_page(request: HttpRequest, opportunity_id: int) -> HttpResponse:
    opportunity = opportunity_get(pk=opportunity_id)
    entries = timeline.opportunity_timeline(opportunity_id=opportunity.pk, offset=_offset(request),
                                            limit=TIMELINE_SIZE)
    return _render(request, "web/opportunity.html", {
        "opportunity": opportunity,
        **_timeline_context(entries, reverse("opportunity", args=[opportunity.pk]),
                            timeline.RecordRef("opportunity", opportunity.pk, opportunity.name))})
