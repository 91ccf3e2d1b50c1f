"""SLA measures: sales clocks met within the SLA, and marketing's MQL commitment to date.

Sales: the met and breached events of the sales clocks that started in the period, as
`lifecycle.selectors_sla.sales_sla_events` selects them for the compliance report. Marketing: the commitment
(`sla.marketing.mql_volume` per `sla.marketing.period`) prorated by the part of each commitment period elapsed,
as `lifecycle.sla.marketing_verdict` paces it — never the whole target before the period ends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from smarketing.analytics.metrics.rows import COLUMNS, Context, Rows, kept, period_slice
from smarketing.analytics.queries.kept import SALES_SLA_EVENTS_KEPT
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockKind, SlaEventKind
from smarketing.playbook.schema import MarketingSLA

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd


Event = tuple[int, int, datetime, str, str]  # id, contact, clock start, clock kind, event kind
_EVENT_FIELDS = ("id", "contact_id", "clock__started_at", "clock_kind", "kind")
_EVENT_COLUMNS = ["id", "contact_id", "started_at", "clock_kind", "kind"]
# Bounds that hold every clock: the whole history through the same selector (`_history_events`).
_EVER = (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, tzinfo=UTC))


def _events_frame(events: list[Event]) -> pd.DataFrame:
    import pandas as pd  # pandas loads when a measure is computed, not at start-up

    # The kinds as categories: each SLA figure picks its events by them, a comparison of codes, not of strings.
    return pd.DataFrame(events, columns=_EVENT_COLUMNS).astype({"clock_kind": "category", "kind": "category"})


def _micros(times: pd.Series) -> np.ndarray:
    """Aware datetimes as int64 epoch microseconds, as `queries.common.instant_micros` reads each."""
    import numpy as np  # NumPy and pandas load when a measure is computed, not at start-up
    import pandas as pd

    from smarketing.analytics.queries.common import instant_micros

    if isinstance(times.dtype, pd.DatetimeTZDtype):
        return np.asarray(pd.DatetimeIndex(times).tz_convert("UTC").as_unit("us").asi8, dtype=np.int64)
    return np.array([instant_micros(t) for t in times], dtype=np.int64)  # times pandas cannot hold in nanoseconds


def _history_events(ctx: Context) -> tuple[np.ndarray, pd.DataFrame] | None:
    """The met and breached events of every sales clock (`sales_sla_events` from the first instant to the last),
    in order of their clock's start, and those starts in epoch microseconds: the SQL of one period's events reads
    all of them anyway (0.2 s on a large CRM), and a period's are a slice of these. Kept (`kept`) where the engine's
    memo is carried to later computations (the lake mirrors the SLA events, so a new one changes the store); None
    otherwise."""
    from smarketing.lifecycle.selectors_sla import sales_sla_events

    def read() -> tuple[np.ndarray, pd.DataFrame]:
        import numpy as np  # NumPy and pandas load when a measure is computed, not at start-up
        import pandas as pd
        from django.db.models import CharField
        from django.db.models.functions import Cast

        # The clock starts as the database's text, parsed by pandas at once: the driver's and Django's conversion of
        # each of them to an aware datetime took most of the read (0.3 of 0.65 s on a large CRM). Unordered: the
        # database's sort of the join costs more than NumPy's below.
        fields = [*_EVENT_FIELDS]
        fields[_EVENT_FIELDS.index("clock__started_at")] = "started_text"
        frame = _events_frame(list(sales_sla_events(start=_EVER[0], end=_EVER[1]).order_by()
                                   .annotate(started_text=Cast("clock__started_at", CharField()))
                                   .values_list(*fields)))
        frame["started_at"] = pd.to_datetime(frame["started_at"], utc=True, format="ISO8601")
        starts = _micros(frame["started_at"])
        order = np.lexsort((frame["id"].to_numpy(dtype=np.int64), starts))
        return starts[order], frame.iloc[order].reset_index(drop=True)

    return kept(ctx, SALES_SLA_EVENTS_KEPT, read, carried_only=True)


def _period_events(ctx: Context) -> pd.DataFrame:
    """The met and breached events of the sales clocks started in the period (id, contact, clock start, clock kind,
    event kind): read once for the four SLA figures a page shows together."""
    from smarketing.lifecycle.selectors_sla import sales_sla_events

    if "sales_sla_events" not in ctx.cache:
        history = _history_events(ctx)
        if history is not None:
            starts, every = history
            ctx.cache["sales_sla_events"] = every.iloc[period_slice(ctx, starts)]
        else:
            ctx.cache["sales_sla_events"] = _events_frame(list(
                sales_sla_events(start=ctx.period.start, end=ctx.period.end).values_list(*_EVENT_FIELDS)))
    events: pd.DataFrame = ctx.cache["sales_sla_events"]
    return events


def sales_events(ctx: Context, clock_kind: str, kinds: tuple[str, ...]) -> Rows:
    """Events of `kinds` (met, breached) on sales clocks of `clock_kind` started in the period; rows link the contact."""
    import pandas as pd  # pandas loads when a measure is computed, not at start-up

    events = _period_events(ctx)
    events = events[(events["clock_kind"] == clock_kind) & events["kind"].isin(kinds)]
    frame = pd.DataFrame({"row_id": events["id"], "id": events["contact_id"], "contact_id": events["contact_id"],
                          "occurred_at": events["started_at"], "amount": None}, columns=list(COLUMNS))
    return Rows("contact", frame=frame.reset_index(drop=True))


def prorated_target(commitment: MarketingSLA, first: date, last: date, today: date) -> float:
    """Pure: the MQL commitment due for the days first..last (inclusive) that have passed by the start of `today`.

    Each commitment period (week, month or quarter) overlapping the span contributes its volume times the share
    of its days that are both inside the span and elapsed.
    """
    total, day, stop = 0.0, first, last + timedelta(days=1)
    while day < stop:
        period = sla_rules.period_of(commitment.period, day)
        segment_end = min(period.end, stop)
        elapsed_end = min(segment_end, max(today, day))
        total += commitment.mql_volume * (elapsed_end - day).days / (period.end - period.start).days
        day = segment_end
    return total


def mql_target_to_date(ctx: Context) -> float | None:
    """The prorated commitment of the active playbook; None while no playbook is active (nothing was agreed)."""
    from smarketing.core.errors import Conflict
    from smarketing.playbook.selectors import playbook_active_terms

    try:
        _, terms = playbook_active_terms()
    except Conflict:
        return None
    today = ctx.now.astimezone(ZoneInfo(ctx.period.timezone)).date()
    return prorated_target(terms.sla.marketing, ctx.period.first_day, ctx.period.last_day, today)


RATIOS: dict[str, tuple[Callable[[Context], Rows], Callable[[Context], Rows]]] = {
    f"{kind}_within_sla": (partial(sales_events, clock_kind=kind, kinds=(SlaEventKind.MET,)),
                           partial(sales_events, clock_kind=kind, kinds=(SlaEventKind.MET, SlaEventKind.BREACHED)))
    for kind in (ClockKind.FIRST_TOUCH.value, ClockKind.DECISION.value)
}
SCALARS: dict[str, Callable[[Context], float | None]] = {"mql_volume_target_to_date": mql_target_to_date}
