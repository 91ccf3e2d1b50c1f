"""Campaigns from an export's campaigns file (Salesforce's Campaigns report or Data Loader export): created by the
system's campaign id through the campaigns services, and updated (name, channel, type, dates, budget, actual cost)
when a later export changes them, so the campaign measures read the exported spend."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from smarketing.campaigns.selectors import campaign_get, campaign_ids_by_source
from smarketing.campaigns.services import campaign_update, campaigns_bulk_create
from smarketing.ingest.plan import Record

FIELDS = ("name", "channel", "type", "start_date", "end_date", "budget", "actual_cost")
COSTS = ("budget", "actual_cost")


def campaign_records_write(*, source: str, records: list[Record]) -> dict[str, int]:
    """Create the campaigns not yet imported, bring the others up to the file; counts created, updated, unchanged."""
    wanted: dict[str, dict[str, Any]] = {}
    for rec in records:
        row = {k: v for k, v in rec.fields.items() if k in FIELDS}
        row["name"] = str(row["name"])[:200]
        row.setdefault("channel", "other")
        wanted[rec.external_id[:128]] = row
    new_rows = [{"source_id": sid, **{k: v for k, v in row.items() if k not in COSTS}}
                for sid, row in wanted.items()]
    before = campaign_ids_by_source(source=source, source_ids=set(wanted))
    ids, created = campaigns_bulk_create(source=source, rows=new_rows)
    updated = 0
    for sid, row in wanted.items():
        campaign = campaign_get(pk=ids[sid])
        change = {k: v for k, v in row.items() if _differs(getattr(campaign, k), v)}
        if change:
            campaign_update(campaign=campaign, data=change)
            updated += sid in before  # a new one takes its costs here: the bulk create does not set them
    return {"created": created, "updated": updated, "unchanged": len(wanted) - created - updated}


def _differs(now: Any, value: Any) -> bool:
    if isinstance(value, Decimal) or isinstance(now, Decimal):
        return now is None or value is None or Decimal(str(now)) != Decimal(str(value))
    return bool(now != value)
