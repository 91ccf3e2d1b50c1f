"""Reads of themes: list with figures, detail with trends, who raises it and the revenue at stake; insights."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, Max, Min, QuerySet, Sum
from django.db.models.functions import TruncMonth

from smarketing.core.errors import NotFound
from smarketing.crm.enums import Outcome
from smarketing.crm.models import Opportunity
from smarketing.feedback.enums import InsightStatus, ThemeStatus
from smarketing.feedback.models import Insight, Theme, ThemeAssignment, ThemeEdit, ThemeRun

ZERO = Decimal("0")


@dataclass(frozen=True)
class Revenue:
    """Revenue behind a theme: its accounts' open pipeline and ARR; at stake is their sum."""

    accounts: int
    open_pipeline: Decimal
    arr: Decimal
    at_stake: Decimal

    @classmethod
    def of(cls, *, accounts: int, open_pipeline: Decimal, arr: Decimal) -> Revenue:
        return cls(accounts=accounts, open_pipeline=open_pipeline, arr=arr, at_stake=open_pipeline + arr)


@dataclass(frozen=True)
class ThemeRow:
    """One theme with the figures the list and the insights inbox need."""

    id: int
    name: str
    name_is_manual: bool
    key_phrases: list[str]
    status: str
    volume: int
    sentiment: float | None
    first_signal_at: datetime | None
    last_signal_at: datetime | None
    revenue: Revenue


@dataclass(frozen=True)
class ThemeDetail:
    row: ThemeRow
    volume_by_month: list[tuple[str, int]]
    sentiment_split: dict[str, int]
    segments: list[tuple[str, int]]
    industries: list[tuple[str, int]]
    buying_roles: list[tuple[str, int]]
    titles: list[tuple[str, int]]
    items: list[dict[str, Any]]
    edits: list[dict[str, Any]] = field(default_factory=list)


def _revenue_by_theme(theme_ids: list[int]) -> dict[int, Revenue]:
    """Open pipeline and won amounts (ARR) of the distinct accounts behind each theme, in two queries."""
    pairs = (ThemeAssignment.objects.filter(theme_id__in=theme_ids, item__account_id__isnull=False)
             .values_list("theme_id", "item__account_id").distinct())
    accounts: dict[int, set[int]] = defaultdict(set)
    for theme_id, account_id in pairs:
        accounts[theme_id].add(account_id)
    all_accounts = set().union(*accounts.values()) if accounts else set()
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: {Outcome.OPEN: ZERO, Outcome.WON: ZERO})
    for row in (Opportunity.objects.filter(account_id__in=all_accounts, outcome__in=[Outcome.OPEN, Outcome.WON])
                .values("account_id", "outcome").annotate(total=Sum("amount"))):
        sums[row["account_id"]][row["outcome"]] = row["total"] or ZERO
    out = {}
    for theme_id in theme_ids:
        accs = accounts.get(theme_id, set())
        out[theme_id] = Revenue.of(accounts=len(accs),
                                   open_pipeline=sum((sums[a][Outcome.OPEN] for a in accs if a in sums), ZERO),
                                   arr=sum((sums[a][Outcome.WON] for a in accs if a in sums), ZERO))
    return out


def theme_rows(*, status: str = ThemeStatus.ACTIVE, ids: list[int] | None = None) -> list[ThemeRow]:
    """Themes with volume, mean sentiment, first/last signal and revenue at stake, largest first."""
    qs = Theme.objects.all()
    if status:
        qs = qs.filter(status=status)
    if ids is not None:
        qs = qs.filter(pk__in=ids)
    themes = list(qs.annotate(volume=Count("assignments"), mood=Avg("assignments__sentiment"),
                              first=Min("assignments__item__occurred_at"),
                              last=Max("assignments__item__occurred_at")))
    revenue = _revenue_by_theme([t.pk for t in themes])
    rows = [ThemeRow(id=t.pk, name=t.name, name_is_manual=t.name_is_manual, key_phrases=list(t.key_phrases),
                     status=t.status, volume=t.volume,  # type: ignore[attr-defined]
                     sentiment=None if t.mood is None else round(t.mood, 3),  # type: ignore[attr-defined]
                     first_signal_at=t.first, last_signal_at=t.last,  # type: ignore[attr-defined]
                     revenue=revenue[t.pk]) for t in themes]
    return sorted(rows, key=lambda r: (-r.volume, r.id))


def theme_get(*, pk: int) -> Theme:
    theme = Theme.objects.select_related("merged_into", "split_from").filter(pk=pk).first()
    if theme is None:
        raise NotFound(f"theme {pk} does not exist", record=f"theme:{pk}")
    return theme


def _counted(values: Any, limit: int = 10) -> list[tuple[str, int]]:
    return [(str(k or "(unknown)"), n) for k, n in Counter(values).most_common(limit)]


def theme_detail(*, pk: int, items: int = 20) -> ThemeDetail:
    """Everything the theme page shows: trend by month, sentiment, segments and personas, revenue, items, edits."""
    theme = theme_get(pk=pk)
    row = theme_rows(status="", ids=[pk])[0]
    assignments = ThemeAssignment.objects.filter(theme=theme)
    by_month = (assignments.annotate(month=TruncMonth("item__occurred_at")).values("month")
                .annotate(n=Count("id")).order_by("month"))
    split = Counter("positive" if s > 0.15 else "negative" if s < -0.15 else "neutral"
                    for s in assignments.values_list("sentiment", flat=True))
    people = list(assignments.values_list("item__account__segment", "item__account__industry",
                                          "item__contact__buying_role", "item__contact__title"))
    latest = (assignments.select_related("item", "item__account").order_by("-item__occurred_at", "-item_id")[:items])
    edits = ThemeEdit.objects.filter(theme=theme).select_related("actor", "other").order_by("recorded_at", "id")
    return ThemeDetail(
        row=row,
        volume_by_month=[(m["month"].strftime("%Y-%m"), m["n"]) for m in by_month if m["month"] is not None],
        sentiment_split={k: split.get(k, 0) for k in ("positive", "neutral", "negative")},
        segments=_counted(p[0] for p in people if p[0] is not None or p[1] is not None),
        industries=_counted(p[1] for p in people if p[1] is not None),
        buying_roles=_counted(p[2] for p in people if p[2] is not None),
        titles=_counted(p[3] for p in people if p[3]),
        items=[{"id": a.item_id, "text": a.item.text, "kind": a.item.kind, "source": a.item.source,
                "occurred_at": a.item.occurred_at, "account": a.item.account.name if a.item.account else None,
                "score": a.score, "sentiment": a.sentiment, "method": a.method, "pinned": a.pinned}
               for a in latest],
        edits=[{"kind": e.kind, "at": e.recorded_at, "by": e.actor.username if e.actor else None,
                "old_name": e.old_name, "new_name": e.new_name, "other": e.other_id, "items": len(e.item_ids),
                "note": e.note} for e in edits],
    )


def unassigned_items(*, limit: int = 100) -> QuerySet[ThemeAssignment]:
    """Items waiting for the next rebuild (no theme close enough, or nothing to group by)."""
    return (ThemeAssignment.objects.filter(theme__isnull=True).select_related("item")
            .order_by("-item__occurred_at")[:limit])


def theme_run_latest() -> ThemeRun | None:
    return ThemeRun.objects.order_by("-started_at", "-id").first()


# --- insights ---------------------------------------------------------------------------------------------------

def insight_list(*, status: str = "", open_only: bool = False) -> QuerySet[Insight]:
    """Insights, largest revenue at stake (open pipeline + ARR) first, then newest, with their theme, assignee and
    response campaign."""
    qs = (Insight.objects.select_related("theme", "assignee", "response_campaign")
          .annotate(at_stake=F("open_pipeline") + F("arr")).order_by("-at_stake", "-created_at", "-id"))
    if status:
        qs = qs.filter(status=status)
    if open_only:
        qs = qs.exclude(status=InsightStatus.CLOSED)
    return qs


def insight_get(*, pk: int) -> Insight:
    obj = (Insight.objects.select_related("theme", "assignee", "response_campaign")
           .prefetch_related("transitions__actor").filter(pk=pk).first())
    if obj is None:
        raise NotFound(f"insight {pk} does not exist", record=f"insight:{pk}")
    return obj


@dataclass(frozen=True)
class ActionTimes:
    acted: int
    median_days: float | None
    mean_days: float | None


def insight_action_times() -> ActionTimes:
    """Time from the first signal to the action, over insights that were acted on."""
    days = sorted(i.time_to_action_days or 0.0 for i in Insight.objects.filter(acted_at__isnull=False).only(
        "acted_at", "first_signal_at"))
    if not days:
        return ActionTimes(0, None, None)
    mid = len(days) // 2
    median = days[mid] if len(days) % 2 else (days[mid - 1] + days[mid]) / 2
    return ActionTimes(len(days), round(median, 2), round(sum(days) / len(days), 2))
