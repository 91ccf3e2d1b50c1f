"""What every measure implementation returns: the rows it counts, as an engine expression or a small frame.

A measure's value is computed from the same rows its drill-down lists (count, sum of `amount`, or a ratio of
two row sets), so the records behind a figure always add up to it. Columns of every row set:
`row_id` (the event or record id, for a stable order), `id` (the record the row links to), `contact_id`,
`occurred_at`, `amount`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from smarketing.analytics.metrics.periods import ReportingPeriod
from smarketing.analytics.queries.common import ts_literal
from smarketing.analytics.queries.funnel import _with_key
from smarketing.analytics.queries.kept import Appended, Kept, kept_in, sorted_times_kept

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np
    import pandas as pd

COLUMNS = ("row_id", "id", "contact_id", "occurred_at", "amount")
T = TypeVar("T")


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
    """The rows a measure counts: an engine expression (`expr`, or `build` to make it when the rows themselves are
    needed) or `frame` (already in memory, e.g. from the ORM)."""

    kind: str  # contact | opportunity | touchpoint | feedback
    expr: ir.Table | None = None
    frame: pd.DataFrame | None = None
    # How many rows the expression holds, when counted already: with its siblings in one query (the funnel cohort's
    # steps) or from what the engine keeps (`kept`).
    counted: int | None = None
    # Builds the expression on first need: a count given in `counted` needs none, and building one costs
    # milliseconds (a page's measures build dozens).
    build: Callable[[], ir.Table] | None = None

    def query(self) -> ir.Table:
        """The engine expression of the rows."""
        if self.expr is not None:
            return self.expr
        assert self.build is not None
        return self.build()

    def total(self, engine: Any) -> int:
        if self.frame is not None:
            return len(self.frame)
        if self.counted is not None:
            return self.counted
        return int(engine.execute(self.query().count()).iloc[0, 0])

    def amount(self, engine: Any) -> float:
        import pandas as pd  # pandas loads when a measure is computed, not at start-up

        if self.frame is not None:
            return float(self.frame["amount"].fillna(0).sum())
        value = engine.execute(self.query().amount.sum()).iloc[0, 0]
        return 0.0 if value is None or pd.isna(value) else float(value)

    def page(self, engine: Any, offset: int, limit: int) -> pd.DataFrame:
        """Rows in order of time (then id), `limit` of them from `offset`."""
        if self.frame is not None:
            ordered = self.frame.sort_values(["occurred_at", "row_id"], kind="stable")
            return ordered.iloc[offset:offset + limit].reset_index(drop=True)
        expr = self.query()
        return engine.execute(expr.order_by([expr.occurred_at, expr.row_id]).limit(limit, offset=offset))


def kept(ctx: Context, what: Kept, read: Callable[[], T], *, extend: Callable[[T, Appended], T] | None = None,
         carried_only: bool = False) -> T | None:
    """What `read()` returns (a read of the whole history, whatever the period), read once per embedded engine and
    kept in its memo, so each period's figure is a slice of it (`queries.kept.kept_in`)."""
    return kept_in(ctx.engine, what, read, extend=extend, carried_only=carried_only)


def sorted_times(ctx: Context, key: str, table: Callable[[], ir.Table], group: str, at: str,
                 datasets: tuple[str, ...] | None = None) -> dict[Any, np.ndarray] | None:
    """Per value of the column `group` of the table `table()` builds, the sorted epoch microseconds of its column
    `at`: read once per embedded engine (`kept`: the web carries it between figure computations while the
    `datasets` the table is built on are unchanged; any change of the store when not named), so a count of rows in
    a period is two binary searches instead of a query (the goals query counts six measures for every month of its
    plan). None on an engine that keeps no memo (a database's own engine)."""

    def read() -> dict[Any, np.ndarray]:
        import numpy as np  # loads when a measure is computed, not at start-up

        from smarketing.analytics.queries.common import epoch_micros

        t = ctx.engine.to_arrow(table().select(group, at))
        micros = epoch_micros(t[at])
        groups = t[group].to_numpy(zero_copy_only=False)
        return {g: np.sort(micros[groups == g]) for g in dict.fromkeys(groups.tolist())}

    return kept(ctx, sorted_times_kept(key, datasets), read)


def period_slice(ctx: Context, times: np.ndarray) -> slice:
    """The positions of the sorted epoch microseconds `times` that fall in [period start, period end), as the
    period's timestamp literals bound them (microseconds, UTC)."""
    import numpy as np  # loads when a measure is computed, not at start-up

    from smarketing.analytics.queries.common import instant_micros

    lo, hi = (instant_micros(t) for t in (ctx.period.start, ctx.period.end))
    return slice(int(np.searchsorted(times, lo, side="left")), int(np.searchsorted(times, hi, side="left")))


def count_in_period(ctx: Context, times: np.ndarray | None) -> int:
    """How many of the sorted epoch microseconds `times` fall in the period (`period_slice`)."""
    if times is None:
        return 0
    span = period_slice(ctx, times)
    return span.stop - span.start


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
