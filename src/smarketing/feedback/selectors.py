"""Reads of feedback items."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Max, Q, QuerySet

from smarketing.feedback.enums import ThemeStatus
from smarketing.feedback.models import FeedbackItem, Theme


def feedback_list(*, account_id: int | None = None, contact_id: int | None = None,
                  opportunity_id: int | None = None, kind: str = "", source: str = "", q: str = "",
                  occurred_after: datetime | None = None, occurred_before: datetime | None = None,
                  ) -> QuerySet[FeedbackItem]:
    """Feedback items, newest first, with their account, contact and author."""
    qs = FeedbackItem.objects.select_related("account", "contact", "author").order_by("-occurred_at", "-id")
    if account_id:
        qs = qs.filter(account_id=account_id)
    if contact_id:
        qs = qs.filter(contact_id=contact_id)
    if opportunity_id:
        qs = qs.filter(opportunity_id=opportunity_id)
    if kind:
        qs = qs.filter(kind=kind)
    if source:
        qs = qs.filter(source=source)
    if q:
        qs = qs.filter(text__icontains=q)
    if occurred_after:
        qs = qs.filter(occurred_at__gte=occurred_after)
    if occurred_before:
        qs = qs.filter(occurred_at__lt=occurred_before)
    return qs


def feedback_list_for_records(*, contact_ids: Any, account_id: int | None = None,
                              opportunity_id: int | None = None) -> QuerySet[FeedbackItem]:
    """Feedback items about these contacts (a list or a subquery of ids), that account or that opportunity, with
    their author and contact."""
    where = Q(contact_id__in=contact_ids)
    if account_id:
        where |= Q(account_id=account_id) | Q(opportunity__account_id=account_id)
    if opportunity_id:
        where |= Q(opportunity_id=opportunity_id)
    return FeedbackItem.objects.filter(where).select_related("author", "contact", "account")


# Reads for the web pages.

def feedback_data_version() -> str:
    """A fingerprint of the feedback table: the last item recorded."""
    return str(FeedbackItem.objects.aggregate(v=Max("id"))["v"])


def themes_data_version() -> str:
    """A fingerprint of the themes: the last run, the latest edit of a theme and the last person's edit (a run or a
    rename changes what the themes show without a new feedback item, so it is not in feedback_data_version, which
    would make every other page figure stale)."""
    from smarketing.feedback.models import ThemeEdit, ThemeRun

    run = ThemeRun.objects.aggregate(v=Max("id"))["v"]
    edited = Theme.objects.aggregate(v=Max("updated_at"))["v"]
    edit = ThemeEdit.objects.aggregate(v=Max("id"))["v"]
    return f"{run}|{edited}|{edit}"


def feedback_kind_summary(*, occurred_after: datetime, occurred_before: datetime) -> list[dict[str, Any]]:
    """Feedback per kind in a window: items, accounts that said it and their open pipeline at stake (largest first)."""
    from smarketing.crm.selectors import open_pipeline_by_account

    items = FeedbackItem.objects.filter(occurred_at__gte=occurred_after, occurred_at__lt=occurred_before)
    counts = {r["kind"]: r["n"] for r in items.values("kind").annotate(n=Count("id")).order_by()}
    accounts: dict[str, set[int]] = {kind: set() for kind in counts}
    for kind, account_id in items.exclude(account__isnull=True).values_list("kind", "account_id").distinct():
        accounts[kind].add(account_id)
    at_stake = open_pipeline_by_account(account_ids=sorted({a for ids in accounts.values() for a in ids}))
    out = [{"theme": kind, "items": n, "accounts": len(accounts[kind]),
            "revenue_at_stake": sum(at_stake.get(a, 0.0) for a in accounts[kind])} for kind, n in counts.items()]
    return sorted(out, key=lambda r: (-r["revenue_at_stake"], r["theme"]))


def theme_weekly_counts(*, theme_ids: list[int], weeks: int, before: datetime) -> dict[int, list[int]]:
    """Items assigned to each theme per week, for the `weeks` weeks before `before` (oldest week first)."""
    from datetime import timedelta

    from smarketing.feedback.models import ThemeAssignment

    start = before - timedelta(days=7 * weeks)
    out = {tid: [0] * weeks for tid in theme_ids}
    for tid, at in (ThemeAssignment.objects.filter(theme_id__in=theme_ids, item__occurred_at__gte=start,
                                                   item__occurred_at__lt=before)
                    .values_list("theme_id", "item__occurred_at")):
        out[tid][min(int((at - start).days // 7), weeks - 1)] += 1
    return out


def theme_account_list(*, theme_ids: list[int], per_theme: int = 5) -> dict[int, list[tuple[int, str, int]]]:
    """The accounts behind each theme as (account id, name, items), those saying it most first, at most `per_theme`
    per theme (one query)."""
    from smarketing.feedback.models import ThemeAssignment

    rows = (ThemeAssignment.objects.filter(theme_id__in=theme_ids, item__account__isnull=False)
            .values_list("theme_id", "item__account_id", "item__account__name").annotate(n=Count("id"))
            .order_by("theme_id", "-n", "item__account__name", "item__account_id"))
    out: dict[int, list[tuple[int, str, int]]] = {tid: [] for tid in theme_ids}
    for theme_id, account_id, name, n in rows:
        if len(out[theme_id]) < per_theme:
            out[theme_id].append((account_id, name, n))
    return out


def theme_search(*, q: str, limit: int = 8) -> tuple[int, list[Theme]]:
    """Active feedback themes whose label contains `q` (icontains, fine at demo size): (count, the first `limit`)."""
    qs = Theme.objects.filter(status=ThemeStatus.ACTIVE, name__icontains=q)
    return qs.count(), list(qs.order_by("name", "id")[:limit])
