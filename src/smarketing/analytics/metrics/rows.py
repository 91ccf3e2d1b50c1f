"""What every measure implementation returns: the rows it counts, as an engine expression or a small frame.

A measure's value is computed from the same rows its drill-down lists (count, sum of `amount`, or a ratio of
two row sets), so the records behind a figure always add up to it. Columns of every row set:
`row_id` (the event or record id, for a stable order), `id` (the record the row links to), `contact_id`,
`occurred_at`, `amount`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from smarketing.analytics.metrics.periods import ReportingPeriod
from smarketing.analytics.queries.common import ts_literal
from smarketing.analytics.queries.funnel import _with_key

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
    import pandas as pd

COLUMNS = ("row_id", "id", "contact_id", "occurred_at", "amount")


@dataclass
class Context:
    """One evaluation: the engine, the period, the filters and 'now', plus rows shared between measures."""

    engine: Any
    period: ReportingPeriod
    filters: dict[str, list[str]]
    now: datetime
    model: str | None = None  # the attribution model of the campaign measures (None: their default)
    cache: dict[str, Any] = field(default_factory=dict)

    @property
    def lo(self) -> ir.TimestampScalar:
        return ts_literal(self.period.start)

    @property
    def hi(self) -> ir.TimestampScalar:
        return ts_literal(self.period.end)


@dataclass(frozen=True)
class Rows:
    """The rows a measure counts: `expr` (run on the engine) or `frame` (already in memory, e.g. from the ORM)."""

    kind: str  # contact | opportunity | touchpoint | feedback
    expr: ir.Table | None = None
    frame: pd.DataFrame | None = None
    # How many rows `expr` holds, when counted already with its siblings in one query (the funnel cohort's steps).
    counted: int | None = None

    def total(self, engine: Any) -> int:
        if self.frame is not None:
            return len(self.frame)
        if self.counted is not None:
            return self.counted
        assert self.expr is not None
        return int(engine.execute(self.expr.count()).iloc[0, 0])

    def amount(self, engine: Any) -> float:
        import pandas as pd  # pandas loads when a measure is computed, not at start-up

        if self.frame is not None:
            return float(self.frame["amount"].fillna(0).sum())
        assert self.expr is not None
        value = engine.execute(self.expr.amount.sum()).iloc[0, 0]
        return 0.0 if value is None or pd.isna(value) else float(value)

    def page(self, engine: Any, offset: int, limit: int) -> pd.DataFrame:
        """Rows in order of time (then id), `limit` of them from `offset`."""
        if self.frame is not None:
            ordered = self.frame.sort_values(["occurred_at", "row_id"], kind="stable")
            return ordered.iloc[offset:offset + limit].reset_index(drop=True)
        assert self.expr is not None
        expr = self.expr.order_by([self.expr.occurred_at, self.expr.row_id]).limit(limit, offset=offset)
        return engine.execute(expr)


def sorted_times(ctx: Context, key: str, table: ir.Table, group: str, at: str) -> dict[Any, np.ndarray] | None:
    """Per value of `table`'s column `group`, the sorted epoch microseconds of its column `at`: read once per
    embedded engine (kept in its memo, which the web carries between figure computations while the store is
    unchanged), so a count of rows in a period is two binary searches instead of a query (the goals query counts
    six measures for every month of its plan). None on an engine that keeps no memo (a database's own engine)."""
    import numpy as np  # loads when a measure is computed, not at start-up

    from smarketing.analytics.queries.common import epoch_micros

    engine = ctx.engine
    if not getattr(engine, "embedded", False):
        return None
    memo_key = ("metrics:sorted_times", key)
    if memo_key not in engine.memo:
        t = engine.to_arrow(table.select(group, at))
        micros = epoch_micros(t[at])
        groups = t[group].to_numpy(zero_copy_only=False)
        engine.memo[memo_key] = {g: np.sort(micros[groups == g]) for g in dict.fromkeys(groups.tolist())}
    found: dict[Any, np.ndarray] = engine.memo[memo_key]
    return found


def count_in_period(ctx: Context, times: np.ndarray | None) -> int:
    """How many of the sorted epoch microseconds `times` fall in [period start, period end), as the period's
    timestamp literals bound them (microseconds, UTC)."""
    import numpy as np  # loads when a measure is computed, not at start-up

    from smarketing.analytics.queries.common import instant_micros

    if times is None:
        return 0
    lo, hi = (instant_micros(t) for t in (ctx.period.start, ctx.period.end))
    return int(np.searchsorted(times, hi, side="left") - np.searchsorted(times, lo, side="left"))


def as_utc(value: Any) -> datetime | None:
    """A timestamp from any engine as an aware UTC datetime (Spark returns naive UTC ones); None stays None."""
    import pandas as pd  # pandas loads when a measure is computed, not at start-up

    if value is None or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    ts = pd.Timestamp(value)
    return (ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")).to_pydatetime()


def empty_frame() -> pd.DataFrame:
    import pandas as pd  # pandas loads when a measure is computed, not at start-up

    return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})


def shape(t: ir.Table, *, row_id: Any, id: Any, contact_id: Any, occurred_at: Any,  # noqa: A002
          amount: Any = None) -> ir.Table:
    """`t` selected into the row-set columns."""
    import ibis  # ibis loads when a measure is computed, not at start-up

    return t.select(row_id=row_id.cast("int64"), id=id.cast("int64"), contact_id=contact_id.cast("int64"),
                    occurred_at=occurred_at,
                    amount=amount.cast("float64") if amount is not None else ibis.null("float64"))


def by_contact(ctx: Context, t: ir.Table, column: str = "contact_id") -> ir.Table:
    """Only rows whose contact matches the filters, with the funnel's keys and rules (fields ANDed, values ORed)."""
    if not ctx.filters:
        return t
    columns = t.columns
    t = t.mutate(subject=t[column])
    for name, values in ctx.filters.items():
        keyed = _with_key(ctx.engine, "contact", name, t, "filter_key")
        t = keyed.filter(keyed.filter_key.isin(values)).drop("filter_key")
    return t.select(*columns)
