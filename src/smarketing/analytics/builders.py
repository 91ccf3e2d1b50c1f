"""Declarative journey builders (PostHog style): small hand-written journeys → the six dataset frames.

    frames = build_journeys({
        "ada": {"account": "acme", "source": "webinar", "events": [
            ("2026-01-01", "content_download", {"campaign": "Guide", "channel": "content"}),
            ("2026-01-03", "stage:mql"),
        ], "deals": [{"amount": 1000, "outcome": "won", "opened": "2026-02-01", "closed": "2026-03-01"}]},
    }, accounts={"acme": {"segment": "enterprise", "events": [("2026-02-01", "stage:opportunity")]}})

Stage events become stage changes (from the subject's previous stage); other events become touchpoints.
Used by tests and benchmarks; ids are assigned in order of appearance.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from smarketing.analytics.datasets import EventFrames, frames_from

Event = tuple[Any, ...]


def _ts(value: Any) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")


def build_journeys(people: Mapping[str, Mapping[str, Any]],
                   accounts: Mapping[str, Mapping[str, Any]] | None = None) -> EventFrames:
    """Turn named people (and accounts) with dated events into EventFrames."""
    accounts = dict(accounts or {})
    for person in people.values():
        if person.get("account") and person["account"] not in accounts:
            accounts[person["account"]] = {}
    account_ids = {name: i for i, name in enumerate(accounts, start=1)}
    campaign_ids: dict[str, int] = {}
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in ("stage_changes", "touchpoints", "contacts",
                                                            "accounts", "opportunities", "campaigns")}

    def stage_rows(events: Sequence[Event], contact_id: int | None, account_id: int | None) -> None:
        current = ""
        for event in sorted((e for e in events if str(e[1]).startswith("stage:")), key=lambda e: _ts(e[0])):
            stage = str(event[1]).removeprefix("stage:")
            rows["stage_changes"].append({
                "id": len(rows["stage_changes"]) + 1, "contact_id": contact_id,
                "account_id": account_id if contact_id is None else None, "from_stage": current,
                "to_stage": stage, "occurred_at": _ts(event[0]), "playbook_version_id": 1})
            current = stage

    for name, acc in accounts.items():
        aid = account_ids[name]
        rows["accounts"].append({"id": aid, "name": name, "segment": acc.get("segment"),
                                 "industry": acc.get("industry"), "region": acc.get("region"),
                                 "owner_id": acc.get("owner"), "is_customer": acc.get("is_customer", False)})
        stage_rows(acc.get("events", []), None, aid)

    for cid, (name, person) in enumerate(people.items(), start=1):
        contact_aid = account_ids.get(person.get("account", ""))
        segment = accounts.get(person.get("account", ""), {}).get("segment")
        events = list(person.get("events", []))
        first_seen = min((_ts(e[0]) for e in events), default=None)
        rows["contacts"].append({"id": cid, "account_id": contact_aid, "lead_source": person.get("source"),
                                 "owner_id": person.get("owner"), "country": person.get("country"),
                                 "segment": segment, "first_seen_at": first_seen, "source": name})
        stage_rows(events, cid, contact_aid)
        for event in events:
            kind = str(event[1])
            if kind.startswith("stage:"):
                continue
            extra: dict[str, Any] = dict(event[2]) if len(event) > 2 else {}
            camp = extra.get("campaign")
            if camp is not None and camp not in campaign_ids:
                campaign_ids[camp] = len(campaign_ids) + 1
                rows["campaigns"].append({"id": campaign_ids[camp], "name": camp,
                                          "channel": extra.get("channel", "other"), "type": "demand_gen",
                                          "start_date": _ts(event[0]).date(), "budget": extra.get("budget", 0.0),
                                          "actual_cost": extra.get("cost", 0.0)})
            rows["touchpoints"].append({
                "id": len(rows["touchpoints"]) + 1, "contact_id": cid, "account_id": contact_aid,
                "campaign_id": campaign_ids.get(camp) if camp is not None else None,
                "channel": extra.get("channel", "other"), "kind": kind, "occurred_at": _ts(event[0]),
                "value": extra.get("value")})
        for deal in person.get("deals", []):
            rows["opportunities"].append({
                "id": len(rows["opportunities"]) + 1, "account_id": contact_aid, "primary_contact_id": cid,
                "type": deal.get("type", "new_business"), "amount": float(deal.get("amount", 0)),
                "stage": deal.get("stage", "closed_won" if deal.get("outcome") == "won" else "discovery"),
                "outcome": deal.get("outcome", "open"), "opened_at": _ts(deal.get("opened", "2026-01-01")),
                "closed_at": _ts(deal["closed"]) if deal.get("closed") else None, "owner_id": deal.get("owner")})
    return frames_from(**{k: pd.DataFrame(v) if v else None for k, v in rows.items()})
