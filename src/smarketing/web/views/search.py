"""Header search: contacts, accounts, opportunities, campaigns and feedback themes matching `?q=`, grouped, each
row linking to its record page. The full page works without JavaScript; the header box asks for the `_search_results`
partial as you type (HTMX, debounced). Every role reads it; nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from smarketing.campaigns.selectors import campaign_search
from smarketing.crm.selectors import account_search, contact_search, opportunity_search
from smarketing.feedback.selectors import theme_search
from smarketing.web.context import web
from smarketing.web.views.common import page

MIN_LENGTH = 2
MAX_LENGTH = 100
PER_GROUP = 8  # rows shown per group on the page; the header's live list shows fewer
LIVE_PER_GROUP = 4


@dataclass(frozen=True)
class Hit:
    label: str
    detail: str
    url: str


@dataclass
class Group:
    key: str
    title: str
    total: int
    hits: list[Hit] = field(default_factory=list)


def search_groups(q: str, *, per_group: int = PER_GROUP) -> list[Group]:
    """The five groups for `q`: one count and one bounded select per group (five selectors, no N+1)."""
    groups: list[Group] = []
    total, contacts = contact_search(q=q, limit=per_group)
    groups.append(Group("contacts", "Contacts", total, [
        Hit(c.name, " · ".join(x for x in (c.email, c.account.name if c.account_id and c.account else "",
                                          f"{c.source} {c.source_id}" if c.source_id else "") if x),
            reverse("contact", args=[c.pk])) for c in contacts]))
    total, accounts = account_search(q=q, limit=per_group)
    groups.append(Group("accounts", "Accounts", total, [
        Hit(a.name, " · ".join(x for x in (a.domain, f"{a.source} {a.source_id}" if a.source_id else "") if x),
            reverse("account", args=[a.pk])) for a in accounts]))
    total, opportunities = opportunity_search(q=q, limit=per_group)
    groups.append(Group("opportunities", "Opportunities", total, [
        Hit(o.name, o.account.name if o.account_id and o.account else "", reverse("opportunity", args=[o.pk]))
        for o in opportunities]))
    total, campaigns = campaign_search(q=q, limit=per_group)
    groups.append(Group("campaigns", "Campaigns", total, [
        Hit(c.name, c.get_channel_display(),
            reverse("campaign", args=[c.pk])) for c in campaigns]))
    total, themes = theme_search(q=q, limit=per_group)
    groups.append(Group("themes", "Feedback themes", total, [
        Hit(t.name, ", ".join(str(p) for p in (t.key_phrases or [])[:3]), reverse("feedback") + f"#theme-{t.pk}")
        for t in themes]))
    return groups


def _query(request: HttpRequest) -> tuple[str, str]:
    q = " ".join((request.GET.get("q") or "").split())
    if not q:
        return "", ""
    if len(q) < MIN_LENGTH:
        return q, f"Type at least {MIN_LENGTH} characters to search."
    if len(q) > MAX_LENGTH:
        return q[:MAX_LENGTH], f"Searches are at most {MAX_LENGTH} characters; the first {MAX_LENGTH} were used."
    return q, ""


@login_required
@require_safe
def search_page(request: HttpRequest) -> HttpResponse:
    """Results for ?q= grouped by record kind; the header's live results when asked by HTMX."""
    q, note = _query(request)
    live = bool(getattr(request, "htmx", False)) and request.headers.get("HX-Target") == "search-live"
    searchable = bool(q) and not note.startswith("Type")
    groups = search_groups(q, per_group=LIVE_PER_GROUP if live else PER_GROUP) if searchable else []
    context: dict[str, Any] = {"q": q, "note": note, "groups": groups, "live": live,
                               "found": sum(g.total for g in groups)}
    if live:
        return render(request, "web/_search_results.html", {**web(request), **context})
    return page(request, "web/search.html", context)
