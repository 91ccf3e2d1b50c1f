"""The typed event tables every analytics query reads, identical on every engine.

Each dataset has one schema and one portable SELECT over the Django tables. The DuckDB and Spark engines
fetch that SELECT through the Django connection into Arrow; the PostgreSQL engine runs it in place. Tests and
benchmarks build the same tables from plain in-memory frames with `frames_from(...)`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt
import pandas as pd
import pyarrow as pa

DatasetName = Literal["stage_changes", "touchpoints", "contacts", "accounts", "opportunities", "campaigns"]
DATASET_NAMES: tuple[DatasetName, ...] = ("stage_changes", "touchpoints", "contacts", "accounts", "opportunities",
                                          "campaigns")

TS = dt.Timestamp(timezone="UTC", scale=6)

SCHEMAS: dict[str, ibis.Schema] = {
    "stage_changes": ibis.schema({
        "id": "int64", "contact_id": "int64", "account_id": "int64", "from_stage": "string", "to_stage": "string",
        "occurred_at": TS, "playbook_version_id": "int64",
    }),
    "touchpoints": ibis.schema({
        "id": "int64", "contact_id": "int64", "account_id": "int64", "campaign_id": "int64", "channel": "string",
        "kind": "string", "occurred_at": TS, "value": "float64",
    }),
    "contacts": ibis.schema({
        "id": "int64", "account_id": "int64", "lead_source": "string", "owner_id": "int64", "country": "string",
        "buying_role": "string", "lifecycle_stage": "string", "segment": "string", "first_seen_at": TS,
        "created_at": TS, "source": "string",
    }),
    "accounts": ibis.schema({
        "id": "int64", "name": "string", "segment": "string", "industry": "string", "region": "string",
        "owner_id": "int64", "is_customer": "boolean", "lifecycle_stage": "string", "created_at": TS,
    }),
    "opportunities": ibis.schema({
        "id": "int64", "account_id": "int64", "primary_contact_id": "int64", "type": "string", "amount": "float64",
        "stage": "string", "outcome": "string", "opened_at": TS, "closed_at": TS, "owner_id": "int64",
        "source": "string",
    }),
    "campaigns": ibis.schema({
        "id": "int64", "name": "string", "channel": "string", "type": "string", "start_date": "date",
        "end_date": "date", "budget": "float64", "actual_cost": "float64", "owner_id": "int64",
    }),
}


def arrow_schema(name: str) -> pa.Schema:
    return SCHEMAS[name].to_pyarrow()


def django_select(name: str) -> str:
    """The portable SELECT (SQLite and PostgreSQL) that yields dataset `name` from the Django tables."""
    from smarketing.campaigns.models import Campaign, Touchpoint, TouchpointCorrection
    from smarketing.crm.models import Account, Contact, Opportunity
    from smarketing.lifecycle.models import StageChange, StageChangeCorrection

    t = {m.__name__: m._meta.db_table for m in (Campaign, Touchpoint, Account, Contact, Opportunity, StageChange,
                                                 StageChangeCorrection, TouchpointCorrection)}
    # A corrected row (RevOps' recorded reversal) is left out of every figure.
    selects = {
        "stage_changes": f"SELECT id, contact_id, account_id, from_stage, to_stage, occurred_at, playbook_version_id "
                         f"FROM {t['StageChange']} WHERE id NOT IN "
                         f"(SELECT stage_change_id FROM {t['StageChangeCorrection']})",
        "touchpoints": f"SELECT id, contact_id, account_id, campaign_id, channel, kind, occurred_at, value "
                       f"FROM {t['Touchpoint']} WHERE id NOT IN (SELECT touchpoint_id FROM {t['TouchpointCorrection']})",
        "contacts": f"SELECT c.id, c.account_id, c.lead_source, c.owner_id, c.country, c.buying_role, "
                    f"c.lifecycle_stage, a.segment, c.first_seen_at, c.created_at, c.source "
                    f"FROM {t['Contact']} c LEFT JOIN {t['Account']} a ON a.id = c.account_id",
        "accounts": f"SELECT id, name, segment, industry, region, owner_id, is_customer, lifecycle_stage, created_at "
                    f"FROM {t['Account']}",
        "opportunities": f"SELECT id, account_id, primary_contact_id, type, amount, stage, outcome, opened_at, "
                         f"closed_at, owner_id, source FROM {t['Opportunity']}",
        "campaigns": f"SELECT id, name, channel, type, start_date, end_date, budget, actual_cost, owner_id "
                     f"FROM {t['Campaign']}",
    }
    return selects[name]


def _checked_columns(name: str) -> tuple[list[str], list[str]]:
    """Dataset `name`'s time columns (timestamps and dates) and its float columns."""
    schema = SCHEMAS[name]
    times = [c for c, t in schema.items() if t.is_timestamp() or t.is_date()]
    floats = [c for c, t in schema.items() if t.is_floating()]
    return times, floats


def representable_condition(name: str) -> str:
    """SQL that holds for the rows of dataset `name` every engine can represent (dates in range, finite numbers).

    Plain ISO literals compare correctly with PostgreSQL's timestamps and dates and SQLite's ISO text; NaN and
    ±Infinity fall outside the bounds of a float comparison on both.
    """
    from smarketing.core.validation import ANALYTICS_MAX, ANALYTICS_MIN

    lo, hi = ANALYTICS_MIN.date().isoformat(), ANALYTICS_MAX.date().isoformat()
    times, floats = _checked_columns(name)
    terms = [f"({c} IS NULL OR ({c} >= '{lo}' AND {c} < '{hi}'))" for c in times]
    terms += [f"({c} IS NULL OR ({c} > -1e300 AND {c} < 1e300))" for c in floats]
    return " AND ".join(terms) or "1 = 1"


def representable_select(name: str) -> str:
    """`django_select(name)` without the rows analytics cannot represent (see `representable_condition`)."""
    return f"SELECT * FROM ({django_select(name)}) AS d WHERE {representable_condition(name)}"


def unrepresentable_count(name: str) -> int:
    """How many rows of dataset `name` the representable SELECT leaves out."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM ({django_select(name)}) AS d WHERE NOT ({representable_condition(name)})")
        return int(cursor.fetchone()[0])


def _representable_rows(name: str, frame: pd.DataFrame) -> pd.Series:
    """Rows of a raw frame whose times parse inside the analytics window and whose numbers are finite."""
    from smarketing.core.validation import ANALYTICS_MAX, ANALYTICS_MIN

    times, floats = _checked_columns(name)
    keep = pd.Series(True, index=frame.index)
    for c in times:
        if c not in frame.columns:
            continue
        raw = frame[c]
        parsed = pd.to_datetime(raw, utc=True, errors="coerce", format="mixed")
        present = raw.notna()
        inside = parsed.notna() & (parsed >= pd.Timestamp(ANALYTICS_MIN)) & (parsed < pd.Timestamp(ANALYTICS_MAX))
        keep &= ~present | inside
    for c in floats:
        if c not in frame.columns:
            continue
        raw = frame[c]
        numbers = pd.to_numeric(raw, errors="coerce")
        keep &= raw.isna() | (numbers.notna() & numbers.abs().lt(1e300))
    return keep


def conform(name: str, frame: pd.DataFrame | pa.Table | Mapping[str, Any] | None) -> pa.Table:
    """Coerce a frame (or dict of columns) to dataset `name`'s Arrow schema; missing columns become nulls."""
    schema = arrow_schema(name)
    if frame is None:
        return schema.empty_table()
    if isinstance(frame, pa.Table):
        frame = frame.to_pandas()
    elif not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(dict(frame))
    assert isinstance(frame, pd.DataFrame)
    unknown = sorted(set(frame.columns) - set(schema.names))
    if unknown:
        from smarketing.core.errors import ValidationFailed

        raise ValidationFailed(f"dataset {name!r} has no column(s) {unknown}; known: {schema.names}",
                               field=unknown[0], record=f"dataset:{name}")
    n = len(frame)
    arrays = []
    for f in schema:
        col = frame[f.name] if f.name in frame.columns else pd.Series([None] * n, dtype="object")
        arrays.append(_to_arrow(col, f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def _to_arrow(col: pd.Series, typ: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(typ):
        values = pd.to_datetime(col, utc=True, format="mixed") if col.dtype == object else col
        if getattr(values.dt, "tz", None) is None:
            values = values.dt.tz_localize("UTC")
        return pa.array(values.dt.tz_convert("UTC"), type=typ, from_pandas=True)
    if pa.types.is_date(typ):
        values = pd.to_datetime(col).dt.date if col.dtype != object else col.map(_as_date)
        return pa.array(values, type=typ, from_pandas=True)
    if pa.types.is_floating(typ):
        return pa.array(pd.to_numeric(col, errors="raise").astype("float64"), type=typ, from_pandas=True)
    if pa.types.is_integer(typ):
        return pa.array(pd.array(col, dtype="Int64"), type=typ, from_pandas=True)
    if pa.types.is_boolean(typ):
        return pa.array(col.map(lambda v: None if v is None or v != v else bool(v)), type=typ, from_pandas=True)
    return pa.array(col.map(lambda v: None if v is None or (isinstance(v, float) and v != v) else str(v)), type=typ,
                    from_pandas=True)


def _as_date(v: Any) -> Any:
    if v is None or (isinstance(v, float) and v != v):
        return None
    return pd.Timestamp(v).date()


@dataclass(frozen=True)
class EventFrames:
    """The six datasets as Arrow tables, e.g. built by hand in a test or generated by a benchmark."""

    tables: dict[str, pa.Table] = field(default_factory=dict)

    def table(self, name: str) -> pa.Table:
        return self.tables[name]


def frames_from(**frames: pd.DataFrame | pa.Table | Mapping[str, Any] | None) -> EventFrames:
    """Build EventFrames from plain frames keyed by dataset name; omitted datasets are empty."""
    unknown = sorted(set(frames) - set(DATASET_NAMES))
    if unknown:
        from smarketing.core.errors import ValidationFailed

        raise ValidationFailed(f"unknown dataset(s) {unknown}; known: {list(DATASET_NAMES)}", field=unknown[0])
    return EventFrames({name: conform(name, frames.get(name)) for name in DATASET_NAMES})


def fetch_from_django(name: str, *, chunk_size: int = 100_000) -> pa.Table:
    """Read dataset `name` through the Django connection into Arrow, chunk by chunk (representable rows only)."""
    return load_from_django(name, chunk_size=chunk_size).table


@dataclass(frozen=True)
class LoadedDataset:
    """A dataset read from the database, with how many stored rows were skipped as unrepresentable."""

    name: str
    table: pa.Table
    skipped: int = 0

    @property
    def warning(self) -> str | None:
        if not self.skipped:
            return None
        return (f"{self.skipped} {self.name.replace('_', ' ')} row(s) skipped: a date outside "
                f"1900–2200 or a number that is not finite")


def load_from_django(name: str, *, chunk_size: int = 100_000) -> LoadedDataset:
    """Read dataset `name` into Arrow, skipping (and counting) the rows analytics cannot represent."""
    from django.db import connection

    schema = arrow_schema(name)
    skipped = unrepresentable_count(name)
    batches: list[pa.Table] = []
    with connection.cursor() as cursor:
        cursor.execute(representable_select(name))
        while True:
            rows = cursor.fetchmany(chunk_size)
            if not rows:
                break
            frame = pd.DataFrame.from_records(rows, columns=schema.names)
            # Why: SQLite stores text, so a malformed date passes the SQL bounds; pandas is the last word.
            keep = _representable_rows(name, frame)
            if not keep.all():
                skipped += int((~keep).sum())
                frame = frame[keep].reset_index(drop=True)
            batches.append(conform(name, frame))
    table = pa.concat_tables(batches) if batches else schema.empty_table()
    return LoadedDataset(name, table, skipped)


def iter_dataset_names() -> Iterator[str]:
    yield from DATASET_NAMES
