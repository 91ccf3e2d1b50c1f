"""Activity measures: touchpoints and customer feedback recorded in the period."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from smarketing.analytics.metrics.rows import COLUMNS, Context, Rows, by_contact, count_in_period, kept, shape
from smarketing.analytics.queries.kept import TOUCH_TIMES_KEPT, Appended

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np


def _touch_times(ctx: Context) -> np.ndarray | None:
    """Unfiltered, where the engine's memo is carried to later computations: the sorted epoch microseconds of every
    touchpoint of a contact (`kept`), so a period's count is two binary searches instead of a scan of millions of
    touches per period; after touches were appended to the store, the kept times with the new ones merged in. None
    otherwise (a one-off run counts its period alone)."""
    if ctx.filters:
        return None

    def read(above: int | None = None) -> np.ndarray:
        import numpy as np  # loads when a measure is computed, not at start-up

        from smarketing.analytics.queries.common import epoch_micros

        tp = ctx.engine.table("touchpoints")
        tp = tp.filter(tp.contact_id.notnull())
        if above is not None:
            tp = tp.filter(tp.id > above)
        t = ctx.engine.to_arrow(tp.select("occurred_at"))
        # A missing time reads as the largest int64 (epoch_micros), after every period, as the query never counts it.
        return np.sort(epoch_micros(t["occurred_at"]))

    def extend(times: np.ndarray, appended: Appended) -> np.ndarray:
        import numpy as np  # loads when a measure is computed, not at start-up

        new = read(above=appended.above["touchpoints"])
        return np.insert(times, np.searchsorted(times, new), new)

    return kept(ctx, TOUCH_TIMES_KEPT, read, extend=extend, carried_only=True)


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
