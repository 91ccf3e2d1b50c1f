"""Activity measures: touchpoints and customer feedback recorded in the period."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from smarketing.analytics.metrics.rows import COLUMNS, Context, Rows, by_contact, count_in_period, kept, shape

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np


def _touch_times(ctx: Context) -> np.ndarray | None:
    """Unfiltered, where the engine's memo is carried to later computations: the sorted epoch microseconds of every
    touchpoint of a contact (`kept`), so a period's count is two binary searches instead of a scan of millions of
    touches per period. None otherwise (a one-off run counts its period alone)."""
    if ctx.filters:
        return None

    def read() -> np.ndarray:
        import numpy as np  # loads when a measure is computed, not at start-up

        from smarketing.analytics.queries.common import epoch_micros

        tp = ctx.engine.table("touchpoints")
        t = ctx.engine.to_arrow(tp.filter(tp.contact_id.notnull()).select("occurred_at"))
        # A missing time reads as the largest int64 (epoch_micros), after every period, as the query never counts it.
        return np.sort(epoch_micros(t["occurred_at"]))

    return kept(ctx, "touchpoint_times", read, carried_only=True)


def touchpoints(ctx: Context) -> Rows:
    """Touchpoints of contacts that happened in the period (filters apply to the touchpoint's contact)."""
    def build() -> ir.Table:
        tp = ctx.engine.table("touchpoints")
        tp = tp.filter(tp.contact_id.notnull(), tp.occurred_at >= ctx.lo, tp.occurred_at < ctx.hi)
        rows = shape(tp, row_id=tp.id, id=tp.id, contact_id=tp.contact_id, occurred_at=tp.occurred_at)
        return by_contact(ctx, rows)

    times = _touch_times(ctx)
    return Rows("touchpoint", build=build, counted=count_in_period(ctx, times) if times is not None else None)


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
