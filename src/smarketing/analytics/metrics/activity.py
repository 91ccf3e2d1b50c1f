"""Activity measures: touchpoints and customer feedback recorded in the period."""

from __future__ import annotations

from collections.abc import Callable

from smarketing.analytics.metrics.rows import COLUMNS, Context, Rows, by_contact, shape


def touchpoints(ctx: Context) -> Rows:
    """Touchpoints of contacts that happened in the period (filters apply to the touchpoint's contact)."""
    tp = ctx.engine.table("touchpoints")
    tp = tp.filter(tp.contact_id.notnull(), tp.occurred_at >= ctx.lo, tp.occurred_at < ctx.hi)
    rows = shape(tp, row_id=tp.id, id=tp.id, contact_id=tp.contact_id, occurred_at=tp.occurred_at)
    return Rows("touchpoint", expr=by_contact(ctx, rows))


def feedback_items(ctx: Context) -> Rows:
    """Feedback items dated in the period (read through the feedback app's selector)."""
    import pandas as pd  # pandas loads when a measure is computed, not at start-up

    from smarketing.feedback.selectors import feedback_list

    items = feedback_list(occurred_after=ctx.period.start, occurred_before=ctx.period.end).values_list(
        "id", "contact_id", "occurred_at")
    frame = pd.DataFrame([(pk, pk, contact, when, None) for pk, contact, when in items], columns=list(COLUMNS))
    return Rows("feedback", frame=frame)


IMPLEMENTATIONS: dict[str, Callable[[Context], Rows]] = {
    "touchpoints_recorded": touchpoints, "feedback_items_recorded": feedback_items,
}
