"""Expression helpers shared by the query kinds (written once, valid on every engine)."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

# Where the engine's memo keeper was before `queries.kept` (tests name the key from here).
from smarketing.analytics.queries.kept import MEMO_CARRIED  # noqa: F401
from smarketing.core.errors import ValidationFailed
from smarketing.lifecycle.enums import FUNNEL_ORDER, Stage

if TYPE_CHECKING:
    import ibis.expr.types as ir
    import numpy as np

SECONDS_PER_DAY = 86400.0
FUNNEL_KEYS: list[str] = [s.value for s in FUNNEL_ORDER]
STAGE_KEYS: list[str] = [s.value for s in Stage]


def epoch(ts: ir.TimestampValue) -> ir.IntegerValue:
    """Whole seconds since 1970; engines disagree on sub-second epochs, so every engine floors."""
    return ts.epoch_seconds().floor().cast("int64")


def epoch_seconds(column: Any) -> np.ndarray:
    """An Arrow timestamp column as whole seconds since 1970, floored like `epoch` (int64; a missing time reads as
    the largest int64 second, so it sorts after every real one)."""
    micros = epoch_micros(column)
    return micros // 1_000_000


def epoch_micros(column: Any) -> np.ndarray:
    """An Arrow timestamp column as int64 microseconds since 1970 (every engine's UTC timestamps hold at least
    microseconds); a missing time reads as the largest int64, so it sorts after every real one."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    micros = pc.cast(pc.cast(arr, pa.timestamp("us", tz="UTC")), pa.int64())
    return np.asarray(micros.fill_null(np.iinfo(np.int64).max).to_numpy(zero_copy_only=False), dtype=np.int64)


def instant_micros(value: datetime) -> int:
    """An aware datetime as int64 microseconds since 1970, as `epoch_micros` reads an engine's timestamps."""
    from datetime import UTC

    return (value.astimezone(UTC) - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)


def days_between(start: ir.TimestampValue, end: ir.TimestampValue) -> ir.FloatingValue:
    return (epoch(end) - epoch(start)).cast("float64") / SECONDS_PER_DAY


def check_stage(value: str, field: str) -> str:
    if value not in STAGE_KEYS:
        raise ValidationFailed(f"{field} {value!r} is not a lifecycle stage; known: {STAGE_KEYS}", field=field)
    return value


def reached_set(stage: str) -> list[str]:
    """A subject has 'reached' a funnel stage once it entered that stage or any later one (skips count)."""
    if stage in FUNNEL_KEYS:
        return FUNNEL_KEYS[FUNNEL_KEYS.index(stage):]
    return [stage]


def day_start(d: date, tz: str | None = None) -> datetime:
    """Midnight starting local day `d` in time zone `tz` (default UTC), as a UTC datetime."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    return datetime.combine(d, time(0), tzinfo=ZoneInfo(tz) if tz else UTC).astimezone(UTC)


def day_after(d: date, tz: str | None = None) -> datetime:
    """Midnight ending local day `d` (the next day's start; 23 or 25 hours later across a DST change)."""
    return day_start(d + timedelta(days=1), tz)


def ts_literal(value: datetime) -> ir.TimestampScalar:
    import ibis  # ibis loads when a query runs, not at start-up

    return ibis.literal(value, type="timestamp('UTC', 6)")


def clean(value: Any, digits: int = 6) -> float | None:
    """A float rounded so every engine prints the same digits; NaN/None become None."""
    if value is None:
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    if math.isnan(f):
        return None
    return round(f, digits)


def ratio(num: float | int | None, den: float | int | None) -> float | None:
    if not den or num is None:
        return None
    return round(float(num) / float(den), 6)


def check_timezone(value: str | None, field: str = "timezone") -> str | None:
    """An IANA time zone name (or None), refused with a field-named error when unknown."""
    if value is not None:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (KeyError, ValueError):
            raise ValidationFailed(f"time zone {value!r} is unknown; use an IANA name like America/New_York",
                                   field=field) from None
    return value
