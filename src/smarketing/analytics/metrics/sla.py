"""SLA measures: sales clocks met within the SLA, and marketing's MQL commitment to date.

Sales: the met and breached events of the sales clocks that started in the period, as
`lifecycle.selectors_sla.sales_sla_events` selects them for the compliance report. Marketing: the commitment
(`sla.marketing.mql_volume` per `sla.marketing.period`) prorated by the part of each commitment period elapsed,
as `lifecycle.sla.marketing_verdict` paces it — never the whole target before the period ends.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from smarketing.analytics.metrics.rows import COLUMNS, Context, Rows
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockKind, SlaEventKind
from smarketing.playbook.schema import MarketingSLA


def _period_events(ctx: Context) -> list[tuple[int, int, datetime, str, str]]:
    """The met and breached events of the sales clocks started in the period (id, contact, clock start, clock kind,
    event kind): read once for the four SLA figures a page shows together."""
    from smarketing.lifecycle.selectors_sla import sales_sla_events

    if "sales_sla_events" not in ctx.cache:
        ctx.cache["sales_sla_events"] = list(sales_sla_events(start=ctx.period.start, end=ctx.period.end)
                                             .values_list("id", "contact_id", "clock__started_at", "clock_kind",
                                                          "kind"))
    events: list[tuple[int, int, datetime, str, str]] = ctx.cache["sales_sla_events"]
    return events


def sales_events(ctx: Context, clock_kind: str, kinds: tuple[str, ...]) -> Rows:
    """Events of `kinds` (met, breached) on sales clocks of `clock_kind` started in the period; rows link the contact."""
    import pandas as pd  # pandas loads when a measure is computed, not at start-up

    frame = pd.DataFrame([(pk, contact, contact, when, None) for pk, contact, when, clock, kind in _period_events(ctx)
                          if clock == clock_kind and kind in kinds], columns=list(COLUMNS))
    return Rows("contact", frame=frame)


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
