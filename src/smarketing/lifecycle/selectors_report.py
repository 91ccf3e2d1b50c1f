"""The closed-loop report: which scoring rules and campaigns produce MQLs that sales accepts or rejects, and why.

Per scoring rule, from the explanation stored on each MQL stage change (the score at the moment of
qualification, not today's); per campaign, from the touchpoints the contact had before becoming an MQL.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case, OuterRef, Q, Subquery, When

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
    the demo, where no decision row exists; a move RevOps corrected does not count). Undecided MQLs are absent."""
    ids = [c.pk for c in changes]
    out = {d.mql_change_id: Outcome(d.decision, d.reason_key)
           for d in HandoffDecision.objects.filter(mql_change__in=ids).only("mql_change_id", "decision", "reason_key")}
    undecided = [c for c in changes if c.pk not in out]
    if not undecided:
        return out
    later: dict[int, list[tuple[datetime, int, str, str]]] = defaultdict(list)
    for contact_id, when, pk, to_stage, details in (
            StageChange.objects.filter(contact_id__in={c.contact_id for c in undecided}, from_stage=Stage.MQL,
                                       correction__isnull=True)  # a corrected move is not history any more
            .values_list("contact_id", "occurred_at", "id", "to_stage", "details")):
        later[contact_id].append((when, pk, to_stage, (details or {}).get("reason_key", "")))
    for c in undecided:
        nxt = min((row for row in later.get(c.contact_id or 0, []) if (row[0], row[1]) > (c.occurred_at, c.pk)),
                  default=None)
        outcome = None if nxt is None else _history_outcome(nxt[2], nxt[3])
        if outcome is not None:
            out[c.pk] = outcome
    return out


def _history_outcome(next_stage: str, reason_key: str) -> Outcome | None:
    """How the stage an undecided MQL moved to next answers it (history from imports or the demo), or None."""
    if next_stage in ACCEPTED_STAGES:
        return Outcome(Decision.ACCEPT, "", "history")
    if next_stage in HISTORY_DECISION:
        return Outcome(HISTORY_DECISION[next_stage], reason_key, "history")
    return None


def mql_decision_list() -> list[tuple[int, str]]:
    """Every MQL entry of a contact (its stage change id) with the decision `mql_outcomes` gives it ("" while
    undecided), in one query over the whole history: the decision row joined, else the stage of the contact's next
    change out of MQL. For a reader of every period at once (the scoreboard's kept decisions): no list of ids to
    send, no model instances built."""
    later = (StageChange.objects.filter(contact_id=OuterRef("contact_id"), from_stage=Stage.MQL, correction__isnull=True)
             .filter(Q(occurred_at__gt=OuterRef("occurred_at")) | Q(occurred_at=OuterRef("occurred_at"),
                                                                     id__gt=OuterRef("id")))
             .order_by("occurred_at", "id").values("to_stage")[:1])
    rows = (StageChange.objects.filter(to_stage=Stage.MQL, contact__isnull=False).order_by()
            .annotate(next_stage=Case(When(decisions__isnull=True, then=Subquery(later))))
            .values_list("id", "decisions__decision", "next_stage"))
    out = []
    for pk, decision, next_stage in rows:
        if decision is None:
            # The reason key is not read: a decision, not its reason, is what this list gives.
            outcome = _history_outcome(next_stage, "") if next_stage is not None else None
            decision = outcome.decision if outcome is not None else ""
        out.append((pk, decision))
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
