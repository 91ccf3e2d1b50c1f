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
    from smarketing.campaigns.models import Campaign, Touchpoint
    from smarketing.crm.models import Account, Contact, Opportunity
    from smarketing.lifecycle.models import StageChange

    t = {m.__name__: m._meta.db_table for m in (Campaign, Touchpoint, Account, Contact, Opportunity, StageChange)}
    selects = {
        "stage_changes": f"SELECT id, contact_id, account_id, from_stage, to_stage, occurred_at, playbook_version_id "
                         f"FROM {t['StageChange']}",
        "touchpoints": f"SELECT id, contact_id, account_id, campaign_id, channel, kind, occurred_at, value "
                       f"FROM {t['Touchpoint']}",
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
    """Read dataset `name` through the Django connection into Arrow, chunk by chunk."""
    from django.db import connection

    schema = arrow_schema(name)
    batches: list[pa.Table] = []
    with connection.cursor() as cursor:
        cursor.execute(django_select(name))
        while True:
            rows = cursor.fetchmany(chunk_size)
            if not rows:
                break
            batches.append(conform(name, pd.DataFrame.from_records(rows, columns=schema.names)))
    return pa.concat_tables(batches) if batches else schema.empty_table()


def iter_dataset_names() -> Iterator[str]:
    yield from DATASET_NAMES
