"""The closed-loop report: which scoring rules and campaigns produce MQLs that sales accepts or rejects, and why.

Per scoring rule, from the explanation stored on each MQL stage change (the score at the moment of
qualification, not today's); per campaign, from the touchpoints the contact had before becoming an MQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smarketing.campaigns.models import Touchpoint
from smarketing.lifecycle.enums import Decision, Stage
from smarketing.lifecycle.models import HandoffDecision, StageChange
from smarketing.lifecycle.sla import rate


@dataclass(frozen=True)
class Outcome:
    """How sales answered one MQL."""

    decision: str
    reason_key: str = ""
    source: str = "handoff"  # handoff (a recorded decision) | history (the next stage change, e.g. imported)


ACCEPTED_STAGES = {Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER}
HISTORY_DECISION: dict[str, str] = {Stage.RECYCLED: Decision.RECYCLE, Stage.DISQUALIFIED: Decision.REJECT}


def mql_outcomes(changes: list[StageChange]) -> dict[int, Outcome]:
    """Each MQL's outcome: its handoff decision, or else the stage it moved to next (history from imports or
    the demo, where no decision row exists). Undecided MQLs are absent."""
    ids = [c.pk for c in changes]
    out = {d.mql_change_id: Outcome(d.decision, d.reason_key)
           for d in HandoffDecision.objects.filter(mql_change__in=ids).only("mql_change_id", "decision", "reason_key")}
    undecided = [c for c in changes if c.pk not in out]
    if not undecided:
        return out
    later: dict[int, list[tuple[datetime, int, str, str]]] = defaultdict(list)
    for contact_id, when, pk, to_stage, details in (
            StageChange.objects.filter(contact_id__in={c.contact_id for c in undecided}, from_stage=Stage.MQL)
            .values_list("contact_id", "occurred_at", "id", "to_stage", "details")):
        later[contact_id].append((when, pk, to_stage, (details or {}).get("reason_key", "")))
    for c in undecided:
        nxt = min((row for row in later.get(c.contact_id or 0, []) if (row[0], row[1]) > (c.occurred_at, c.pk)),
                  default=None)
        if nxt is None:
            continue
        if nxt[2] in ACCEPTED_STAGES:
            out[c.pk] = Outcome(Decision.ACCEPT, "", "history")
        elif nxt[2] in HISTORY_DECISION:
            out[c.pk] = Outcome(HISTORY_DECISION[nxt[2]], nxt[3], "history")
    return out


@dataclass
class Outcomes:
    """Decisions on a group of MQLs."""

    mqls: int = 0
    accepted: int = 0
    rejected: int = 0
    recycled: int = 0
    reasons: Counter[str] = field(default_factory=Counter)

    def add(self, outcome: Outcome | None) -> None:
        self.mqls += 1
        if outcome is None:
            return
        if outcome.decision == Decision.ACCEPT:
            self.accepted += 1
        elif outcome.decision == Decision.REJECT:
            self.rejected += 1
        else:
            self.recycled += 1
        if outcome.decision != Decision.ACCEPT:
            self.reasons[outcome.reason_key or "(not recorded)"] += 1

    def as_dict(self) -> dict[str, Any]:
        decided = self.accepted + self.rejected + self.recycled
        return {"mqls": self.mqls, "decided": decided, "pending": self.mqls - decided,
                "accepted": self.accepted, "rejected": self.rejected, "recycled": self.recycled,
                "acceptance_rate": rate(self.accepted, decided),
                "rejection_rate": rate(self.rejected + self.recycled, decided),
                "reasons": dict(self.reasons.most_common())}


def handoff_report(*, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
    """Acceptance and rejection rates and reasons per scoring rule and per campaign, for MQLs in a window."""
    mqls = StageChange.objects.filter(to_stage=Stage.MQL, contact__isnull=False)
    if since:
        mqls = mqls.filter(occurred_at__gte=since)
    if until:
        mqls = mqls.filter(occurred_at__lt=until)
    changes = list(mqls.order_by("occurred_at", "id").only("id", "contact_id", "occurred_at", "details"))
    decisions = mql_outcomes(changes)

    overall = Outcomes()
    by_rule: dict[str, Outcomes] = defaultdict(Outcomes)
    rule_info: dict[str, dict[str, Any]] = {}
    for change in changes:
        decision = decisions.get(change.pk)
        overall.add(decision)
        for line in change.details.get("score", {}).get("explanation", []):
            rid = line.get("rule_id")
            if not rid:
                continue
            by_rule[rid].add(decision)
            info = rule_info.setdefault(rid, {"description": line.get("description", ""),
                                              "source": line.get("source", ""), "points": 0.0})
            info["points"] += float(line.get("points") or 0)

    touches: dict[int, list[tuple[datetime, int, str]]] = defaultdict(list)
    contact_ids = {c.contact_id for c in changes if c.contact_id is not None}
    for contact_id, when, campaign_id, campaign_name in (
            Touchpoint.objects.filter(contact_id__in=contact_ids, campaign__isnull=False)
            .values_list("contact_id", "occurred_at", "campaign_id", "campaign__name")):
        touches[contact_id].append((when, campaign_id, campaign_name))
    by_campaign: dict[int, Outcomes] = defaultdict(Outcomes)
    campaign_names: dict[int, str] = {}
    for change in changes:
        decision = decisions.get(change.pk)
        seen = set()
        for when, campaign_id, name in touches.get(change.contact_id or 0, []):
            if when <= change.occurred_at and campaign_id not in seen:
                seen.add(campaign_id)
                campaign_names[campaign_id] = name
                by_campaign[campaign_id].add(decision)

    rules = [{"rule_id": rid, **rule_info[rid], "avg_points": round(rule_info[rid]["points"] / o.mqls, 2),
              **o.as_dict()} for rid, o in by_rule.items()]
    for r in rules:
        del r["points"]
    rules.sort(key=lambda r: (-(r["rejection_rate"] or 0), -r["mqls"], r["rule_id"]))
    campaigns = [{"campaign_id": cid, "campaign": campaign_names[cid], **o.as_dict()} for cid, o in by_campaign.items()]
    campaigns.sort(key=lambda r: (-(r["rejection_rate"] or 0), -r["mqls"], r["campaign"]))
    return {"since": since.isoformat() if since else None, "until": until.isoformat() if until else None,
            "overall": overall.as_dict(), "rules": rules, "campaigns": campaigns}
