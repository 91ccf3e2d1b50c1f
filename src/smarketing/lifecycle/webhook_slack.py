"""The Slack incoming-webhook message for a webhook event: `{"text": …, "blocks": […]}` (pure, no ORM).

Slack shows `text` in notifications and as the fallback, and the blocks in the channel: a section with the headline
and a context line with the event's facts. Text is escaped as Slack's mrkdwn requires (&, <, >).
"""

from __future__ import annotations

from typing import Any

CLOCKS = {"first_touch": "first touch", "decision": "handoff decision"}
COMMITMENTS = {"mql_volume": "MQL volume", "acceptance_rate": "acceptance rate"}


def _esc(value: object) -> str:
    return str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _headline(event_type: str, data: dict[str, Any]) -> tuple[str, list[str]]:
    """The one-line summary and the facts under it."""
    if event_type == "sla.breached":
        what = CLOCKS.get(str(data.get("clock_kind")), str(data.get("clock_kind", "SLA")))
        who = data.get("contact_name") or f"contact {data.get('contact_id')}"
        facts = [f"due {str(data.get('deadline', ''))[:16].replace('T', ' ')} UTC"]
        if data.get("team"):
            facts.append(f"team {data['team']}")
        if data.get("owner_id"):
            facts.append(f"owner #{data['owner_id']}")
        return f"SLA breached: {what} on {who}", facts
    if event_type == "lead.reassigned":
        facts = [f"from owner #{data.get('from_owner_id') or '—'} to #{data.get('to_owner_id') or '—'}"]
        if data.get("reason"):
            facts.append(str(data["reason"]))
        return f"Lead reassigned: contact {data.get('contact_id')}", facts
    if event_type == "sla.marketing_breached":
        commitment = COMMITMENTS.get(str(data.get("commitment")), str(data.get("commitment", "")))
        facts = [f"{k.replace('_', ' ')}: {data[k]}" for k in ("mql_volume", "mql_target", "acceptance_rate",
                                                               "acceptance_target") if data.get(k) is not None]
        return f"Marketing SLA missed for {data.get('period', 'the period')}: {commitment}", facts
    if event_type == "ping":
        return "smarketing test message: this webhook reaches your channel", [f"endpoint #{data.get('endpoint_id')}"]
    return f"smarketing event {event_type}", [f"{k}: {v}" for k, v in sorted(data.items())][:8]


def slack_message(payload: dict[str, Any]) -> dict[str, Any]:
    """The Slack incoming-webhook body for one of the product's event payloads (`{"id", "type", "data", …}`)."""
    event_type = str(payload.get("type", ""))
    headline, facts = _headline(event_type, dict(payload.get("data") or {}))
    blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": f"*{_esc(headline)}*"}}]
    context = [*facts, f"event {event_type} · {payload.get('id', '')}"]
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _esc(" · ".join(context))}]})
    return {"text": _esc(headline), "blocks": blocks}
