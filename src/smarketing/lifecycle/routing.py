"""Pure routing of an MQL to a seller (no ORM): account owner first, then team rules, then weighted round-robin.

Round-robin is weighted by capacity: each lead goes to the available seller of the team with the lowest
load-to-capacity ratio after taking it, so over many leads each seller's share tends to their share of
the team's capacity. Ties break on lower load, then lower id, so the same state gives the same answer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from smarketing.playbook.criteria import all_hold
from smarketing.playbook.schema import Routing

# Reason codes (stable; the UI and reports group by them).
ACCOUNT_OWNER = "account_owner"
RULE = "rule"
DEFAULT_TEAM = "default_team"
FALLBACK_ANY = "fallback_any_team"
UNASSIGNED = "unassigned"

WEEKS_PER_MONTH = 52 / 12


@dataclass(frozen=True)
class Seller:
    """A seller as routing sees them; `load` is leads already assigned in the current capacity period."""

    id: int
    name: str
    team: str
    capacity_per_week: int
    load: int = 0
    out_of_office_until: date | None = None
    active: bool = True
    is_seller: bool = True

    def out_of_office(self, on: date) -> bool:
        return self.out_of_office_until is not None and self.out_of_office_until >= on


@dataclass(frozen=True)
class RoutingDecision:
    """Who gets the lead and why, as a reason code, a sentence and structured details."""

    owner_id: int | None
    team: str
    reason_code: str
    reason: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"owner_id": self.owner_id, "team": self.team, "reason_code": self.reason_code,
                "reason": self.reason, "details": self.details}


def period_capacity(seller: Seller, period: str) -> float:
    """Leads a seller can take in one capacity period (week or month)."""
    return seller.capacity_per_week * (WEEKS_PER_MONTH if period == "month" else 1.0)


def _available(seller: Seller, routing: Routing, on: date) -> tuple[bool, str]:
    if not seller.active:
        return False, "inactive"
    if not seller.is_seller:
        return False, "not a seller"
    if routing.skip_out_of_office and seller.out_of_office(on):
        return False, f"out of office until {seller.out_of_office_until}"
    return True, ""


def pick_weighted(candidates: Sequence[Seller], period: str) -> tuple[Seller, bool]:
    """The seller with the lowest (load + 1) / capacity; returns it and whether all were at capacity."""
    routable = [s for s in candidates if period_capacity(s, period) > 0]
    if not routable:
        raise ValueError("no seller with capacity")
    under = [s for s in routable if s.load < period_capacity(s, period)]
    pool = under or routable
    best = min(pool, key=lambda s: ((s.load + 1) / period_capacity(s, period), s.load, s.id))
    return best, not under


def route(routing: Routing, *, facts: Mapping[str, Any], sellers: Sequence[Seller], on: date,
          account_owner_id: int | None = None) -> RoutingDecision:
    """Choose the seller for one MQL on a local date, explaining the choice."""
    sellers = sorted(sellers, key=lambda s: s.id)  # input order must not change the answer
    by_id = {s.id: s for s in sellers}
    skipped: list[dict[str, Any]] = []
    skipped_ids: set[int] = set()

    if routing.account_owner_first and account_owner_id is not None:
        owner = by_id.get(account_owner_id)
        if owner is not None:
            ok, why = _available(owner, routing, on)
            if ok:
                return RoutingDecision(owner.id, owner.team, ACCOUNT_OWNER,
                                       f"{owner.name} owns the account",
                                       {"account_owner_id": owner.id})
            skipped.append({"seller_id": owner.id, "name": owner.name, "why": why, "as": "account owner"})
        else:
            skipped.append({"seller_id": account_owner_id, "why": "account owner is not a routable seller",
                            "as": "account owner"})

    rule_id = ""
    team = routing.default_team
    code = DEFAULT_TEAM
    for rule in routing.rules:
        if all_hold(rule.when, facts):
            rule_id, team, code = rule.id, rule.team, RULE
            break

    tried: list[str] = []
    for candidate_team, candidate_code in ((team, code), (routing.default_team, DEFAULT_TEAM), ("", FALLBACK_ANY)):
        if candidate_team in tried:
            continue
        tried.append(candidate_team)
        members = [s for s in sellers if candidate_team == "" or s.team == candidate_team]
        available = []
        for s in members:
            ok, why = _available(s, routing, on)
            if ok and period_capacity(s, routing.capacity_period) > 0:
                available.append(s)
            elif not ok and s.id not in skipped_ids:
                skipped_ids.add(s.id)
                skipped.append({"seller_id": s.id, "name": s.name, "why": why})
        if not available:
            continue
        chosen, over = pick_weighted(available, routing.capacity_period)
        cap = period_capacity(chosen, routing.capacity_period)
        details: dict[str, Any] = {
            "team": chosen.team, "rule_id": rule_id if candidate_code == RULE else "",
            "matched_team": team, "load_before": chosen.load, "capacity": round(cap, 2),
            "period": routing.capacity_period, "over_capacity": over,
            "candidates": [{"seller_id": s.id, "load": s.load,
                            "capacity": round(period_capacity(s, routing.capacity_period), 2)} for s in available],
            "skipped": skipped,
        }
        where = {RULE: f"rule {rule_id} routes to {candidate_team}",
                 DEFAULT_TEAM: f"default team {candidate_team}",
                 FALLBACK_ANY: f"no one available in {team or 'the matched team'}; any team"}[candidate_code]
        reason = (f"{where}; weighted round-robin picked {chosen.name} "
                  f"({chosen.load}/{cap:g} leads this {routing.capacity_period})"
                  + (" — every seller is at capacity" if over else ""))
        return RoutingDecision(chosen.id, chosen.team, candidate_code, reason, details)

    return RoutingDecision(None, team, UNASSIGNED, "no seller is available (all out of office or without capacity)",
                           {"matched_team": team, "rule_id": rule_id, "skipped": skipped})
