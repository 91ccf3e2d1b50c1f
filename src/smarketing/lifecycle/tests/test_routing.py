"""Routing decisions (pure): account owner first, rules to teams, capacity-weighted round-robin, OOO skipped."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import date

import pytest

from smarketing.lifecycle import routing
from smarketing.lifecycle.routing import Seller
from smarketing.playbook.schema import Criterion, Routing, RoutingRule

TODAY = date(2026, 11, 24)
RULES = Routing(
    account_owner_first=True, default_team="Inbound", capacity_period="week",
    rules=[RoutingRule(id="route-enterprise", team="Enterprise", when=[Criterion(field="account.employees", op=">",
                                                                                 value=5000)]),
           RoutingRule(id="route-emea", team="EMEA", when=[Criterion(field="account.region", op="==", value="EMEA")])])


def team(name: str, capacities: list[int], first_id: int = 1) -> list[Seller]:
    return [Seller(id=first_id + i, name=f"{name}-{i}", team=name, capacity_per_week=c) for i, c in
            enumerate(capacities)]


def simulate(sellers: list[Seller], leads: int, facts: dict, on: date = TODAY) -> Counter[int | None]:
    """Route leads one by one, each assignment adding to the chosen seller's load, as the service does."""
    state = {s.id: s for s in sellers}
    got: Counter[int | None] = Counter()
    for _ in range(leads):
        decision = routing.route(RULES, facts=facts, sellers=list(state.values()), on=on)
        got[decision.owner_id] += 1
        if decision.owner_id is not None:
            s = state[decision.owner_id]
            state[s.id] = replace(s, load=s.load + 1)
    return got


@pytest.mark.parametrize("capacities", [[10, 20, 30], [5, 5, 5, 5], [7, 13, 40, 1]])
def test_round_robin_shares_follow_capacity_over_many_leads(capacities):
    # given a team whose sellers have different weekly capacities
    sellers = team("EMEA", capacities)
    total = sum(capacities)
    # when routing exactly the team's capacity, and then three times as many leads
    for leads in (total, 3 * total):
        got = simulate(sellers, leads, {"account.region": "EMEA"})
        # then every seller's share matches their share of capacity within one lead
        for s in sellers:
            assert abs(got[s.id] - leads * s.capacity_per_week / total) <= 1, (leads, got)


def test_out_of_office_sellers_get_nothing_and_others_absorb_their_share():
    sellers = team("EMEA", [10, 10, 10])
    sellers[1] = replace(sellers[1], out_of_office_until=TODAY)
    got = simulate(sellers, 60, {"account.region": "EMEA"})
    assert got[sellers[1].id] == 0
    assert got[sellers[0].id] == got[sellers[2].id] == 30


def test_out_of_office_that_ended_yesterday_is_back_in_rotation():
    sellers = [replace(s, out_of_office_until=date(2026, 11, 23)) for s in team("EMEA", [10])]
    assert routing.route(RULES, facts={"account.region": "EMEA"}, sellers=sellers, on=TODAY).owner_id == 1


def test_account_owner_first_when_available():
    sellers = team("EMEA", [10, 10]) + team("Enterprise", [10], first_id=10)
    decision = routing.route(RULES, facts={"account.region": "EMEA"}, sellers=sellers, on=TODAY, account_owner_id=10)
    assert (decision.owner_id, decision.reason_code) == (10, routing.ACCOUNT_OWNER)
    assert "owns the account" in decision.reason


def test_out_of_office_account_owner_falls_through_to_the_rules_and_says_so():
    sellers = team("EMEA", [10, 10]) + [Seller(id=10, name="owner", team="Enterprise", capacity_per_week=10,
                                               out_of_office_until=TODAY)]
    decision = routing.route(RULES, facts={"account.region": "EMEA"}, sellers=sellers, on=TODAY, account_owner_id=10)
    assert decision.reason_code == routing.RULE and decision.team == "EMEA"
    assert decision.details["skipped"][0]["as"] == "account owner"


def test_owner_first_can_be_switched_off_by_the_playbook():
    rules = RULES.model_copy(update={"account_owner_first": False})
    sellers = team("EMEA", [10]) + team("Enterprise", [10], first_id=10)
    decision = routing.route(rules, facts={"account.region": "EMEA"}, sellers=sellers, on=TODAY, account_owner_id=10)
    assert decision.owner_id == 1


@pytest.mark.parametrize(("facts", "team_name", "rule_id"), [
    ({"account.employees": 9000, "account.region": "EMEA"}, "Enterprise", "route-enterprise"),  # first rule wins
    ({"account.employees": 300, "account.region": "EMEA"}, "EMEA", "route-emea"),
])
def test_first_matching_rule_picks_the_team(facts, team_name, rule_id):
    sellers = team("EMEA", [10]) + team("Enterprise", [10], first_id=10) + team("Inbound", [10], first_id=20)
    decision = routing.route(RULES, facts=facts, sellers=sellers, on=TODAY)
    assert decision.team == team_name and decision.details["rule_id"] == rule_id
    assert rule_id in decision.reason


def test_no_rule_matches_goes_to_the_default_team():
    sellers = team("EMEA", [10]) + team("Inbound", [10], first_id=20)
    decision = routing.route(RULES, facts={"account.region": "APAC"}, sellers=sellers, on=TODAY)
    assert (decision.team, decision.reason_code) == ("Inbound", routing.DEFAULT_TEAM)


def test_empty_team_falls_back_to_default_then_anyone_then_nobody():
    inbound = team("Inbound", [10], first_id=20)
    # the EMEA rule matches but nobody is in EMEA: the default team takes it
    assert routing.route(RULES, facts={"account.region": "EMEA"}, sellers=inbound, on=TODAY).owner_id == 20
    # nobody in EMEA or Inbound: any routable seller
    amer = team("AMER", [10], first_id=30)
    decision = routing.route(RULES, facts={"account.region": "EMEA"}, sellers=amer, on=TODAY)
    assert (decision.owner_id, decision.reason_code) == (30, routing.FALLBACK_ANY)
    # everyone out of office: unassigned, with the reason
    away = [replace(s, out_of_office_until=TODAY) for s in amer]
    decision = routing.route(RULES, facts={"account.region": "EMEA"}, sellers=away, on=TODAY)
    assert decision.owner_id is None and decision.reason_code == routing.UNASSIGNED


def test_zero_capacity_sellers_are_not_routed():
    sellers = team("EMEA", [0, 10])
    got = simulate(sellers, 20, {"account.region": "EMEA"})
    assert got == Counter({2: 20})


def test_when_everyone_is_full_the_least_loaded_ratio_still_gets_the_lead_and_it_is_flagged():
    sellers = [replace(s, load=s.capacity_per_week) for s in team("EMEA", [2, 4])]
    decision = routing.route(RULES, facts={"account.region": "EMEA"}, sellers=sellers, on=TODAY)
    assert decision.details["over_capacity"] is True and "at capacity" in decision.reason


def test_same_state_same_answer():
    sellers = team("EMEA", [10, 10, 10])
    first = routing.route(RULES, facts={"account.region": "EMEA"}, sellers=sellers, on=TODAY)
    again = routing.route(RULES, facts={"account.region": "EMEA"}, sellers=list(reversed(sellers)), on=TODAY)
    assert first == again and first.owner_id == 1


def test_monthly_capacity_scales_weekly_capacity():
    s = Seller(id=1, name="a", team="x", capacity_per_week=12)
    assert routing.period_capacity(s, "month") == pytest.approx(52)
