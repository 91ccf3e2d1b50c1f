"""Evaluating measures: the value of each (from the rows it counts) and the page of records behind it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from smarketing.analytics.metrics import activity, campaigns, lifecycle, revenue, sla
from smarketing.analytics.metrics.definitions import MEASURES, Measure
from smarketing.analytics.metrics.rows import Context, Rows

RowsFn = Callable[[Context], Rows]

COUNTED: dict[str, RowsFn] = {**lifecycle.IMPLEMENTATIONS, **revenue.IMPLEMENTATIONS, **activity.IMPLEMENTATIONS}
RATIOS: dict[str, tuple[RowsFn, RowsFn]] = {**lifecycle.RATIOS, **revenue.RATIOS, **sla.RATIOS}
SCALARS: dict[str, Callable[[Context], float | None]] = {**sla.SCALARS, **campaigns.SCALARS}
# The records behind a scalar that counts records (the campaign measures); a target has none.
RECORDS: dict[str, RowsFn] = dict(campaigns.RECORDS)

_missing = set(MEASURES) - set(COUNTED) - set(RATIOS) - set(SCALARS)
assert not _missing, f"measures without an implementation: {sorted(_missing)}"


@dataclass(frozen=True)
class Evaluated:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


def evaluate(ctx: Context, measure: Measure) -> Evaluated:
    """The measure's unrounded value for the context's period and filters."""
    if measure.name in RATIOS:
        num_fn, den_fn = RATIOS[measure.name]
        num, den = num_fn(ctx).total(ctx.engine), den_fn(ctx).total(ctx.engine)
        return Evaluated(num / den if den else None, float(num), float(den))
    if measure.name in SCALARS:
        return Evaluated(SCALARS[measure.name](ctx))
    rows = COUNTED[measure.name](ctx)
    if measure.unit == "money":
        return Evaluated(rows.amount(ctx.engine))
    return Evaluated(float(rows.total(ctx.engine)))


def record_rows(ctx: Context, measure: Measure) -> Rows | None:
    """The rows a measure counts (its numerator for a ratio); None when it counts no records (a target)."""
    if measure.name in RATIOS:
        return RATIOS[measure.name][0](ctx)
    if measure.name in COUNTED:
        return COUNTED[measure.name](ctx)
    if measure.name in RECORDS:
        return RECORDS[measure.name](ctx)
    return None
