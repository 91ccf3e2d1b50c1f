"""Opportunity measures: opened, pipeline, won, lost and the win rate, by the date that puts each in the period.

Filters apply to the opportunity's primary contact (the funnel's contact keys).
"""

from __future__ import annotations

from collections.abc import Callable

from smarketing.analytics.metrics.rows import Context, Rows, by_contact, shape


def opened(ctx: Context) -> Rows:
    """Opportunities opened in the period (amount = the opportunity's amount)."""
    opp = ctx.engine.table("opportunities")
    opp = opp.filter(opp.opened_at >= ctx.lo, opp.opened_at < ctx.hi)
    rows = shape(opp, row_id=opp.id, id=opp.id, contact_id=opp.primary_contact_id, occurred_at=opp.opened_at,
                 amount=opp.amount)
    return Rows("opportunity", expr=by_contact(ctx, rows))


def closed(ctx: Context, outcomes: tuple[str, ...]) -> Rows:
    """Opportunities closed in the period with one of `outcomes`."""
    opp = ctx.engine.table("opportunities")
    opp = opp.filter(opp.outcome.isin(list(outcomes)), opp.closed_at >= ctx.lo, opp.closed_at < ctx.hi)
    rows = shape(opp, row_id=opp.id, id=opp.id, contact_id=opp.primary_contact_id, occurred_at=opp.closed_at,
                 amount=opp.amount)
    return Rows("opportunity", expr=by_contact(ctx, rows))


def won(ctx: Context) -> Rows:
    return closed(ctx, ("won",))


IMPLEMENTATIONS: dict[str, Callable[[Context], Rows]] = {
    "opportunities_opened": opened, "pipeline_opened": opened, "deals_won": won, "revenue_won": won,
    "deals_lost": lambda ctx: closed(ctx, ("lost",)),
}
RATIOS: dict[str, tuple[Callable[[Context], Rows], Callable[[Context], Rows]]] = {
    "win_rate": (won, lambda ctx: closed(ctx, ("won", "lost"))),
}
