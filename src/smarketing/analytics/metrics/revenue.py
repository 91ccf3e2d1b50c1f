"""Opportunity measures: opened, pipeline, won, lost and the win rate, by the date that puts each in the period.

`owner` is the opportunity's own owner (the rep who carries the deal: "win rate by sales agent" holds for
companies whose deals have no contacts, like an imported opportunity pipeline); the other filters apply to the
opportunity's primary contact (the funnel's contact keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from smarketing.analytics.metrics.rows import Context, Rows, by_contact, count_in_period, shape, sorted_times
from smarketing.analytics.queries.funnel import NONE_LABEL


def _rows(ctx: Context, opp: Any, at: str) -> Any:
    """`opp` as measure rows dated by its column `at`, kept by the filters: owner on the opportunity itself, the
    rest on its primary contact."""
    if owners := ctx.filters.get("owner"):
        owner = opp.owner_id.cast("string")
        opp = opp.filter(owner.isnull().ifelse(NONE_LABEL, owner).isin(owners))
    rows = shape(opp, row_id=opp.id, id=opp.id, contact_id=opp.primary_contact_id, occurred_at=opp[at],
                 amount=opp.amount)
    return by_contact(replace(ctx, filters={k: v for k, v in ctx.filters.items() if k != "owner"}), rows)


def _counted(ctx: Context, at: str, groups: tuple[str, ...] | None) -> int | None:
    """How many opportunities (of outcomes `groups`; None: any) have `at` in the period, from the engine's sorted
    times when it keeps them and no filter applies (the amounts are always summed by the engine)."""
    if ctx.filters:
        return None
    times = sorted_times(ctx, f"opportunities:{at}", lambda: ctx.engine.table("opportunities"), "outcome", at)
    if times is None:
        return None
    return sum(count_in_period(ctx, t) for g, t in times.items() if groups is None or g in groups)


def opened(ctx: Context) -> Rows:
    """Opportunities opened in the period (amount = the opportunity's amount)."""

    def build() -> Any:
        opp = ctx.engine.table("opportunities")
        return _rows(ctx, opp.filter(opp.opened_at >= ctx.lo, opp.opened_at < ctx.hi), "opened_at")

    return Rows("opportunity", build=build, counted=_counted(ctx, "opened_at", None))


def closed(ctx: Context, outcomes: tuple[str, ...]) -> Rows:
    """Opportunities closed in the period with one of `outcomes`."""

    def build() -> Any:
        opp = ctx.engine.table("opportunities")
        opp = opp.filter(opp.outcome.isin(list(outcomes)), opp.closed_at >= ctx.lo, opp.closed_at < ctx.hi)
        return _rows(ctx, opp, "closed_at")

    return Rows("opportunity", build=build, counted=_counted(ctx, "closed_at", outcomes))


def won(ctx: Context) -> Rows:
    return closed(ctx, ("won",))


IMPLEMENTATIONS: dict[str, Callable[[Context], Rows]] = {
    "opportunities_opened": opened, "pipeline_opened": opened, "deals_won": won, "revenue_won": won,
    "deals_lost": lambda ctx: closed(ctx, ("lost",)),
}
RATIOS: dict[str, tuple[Callable[[Context], Rows], Callable[[Context], Rows]]] = {
    "win_rate": (won, lambda ctx: closed(ctx, ("won", "lost"))),
}
