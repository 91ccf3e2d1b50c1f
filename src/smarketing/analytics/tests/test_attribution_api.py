"""Attribution and ROI through the API and the CLI, on the real database."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from smarketing.testing.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    OpportunityFactory,
    TouchpointFactory,
)


def at(day: int, month: int = 1) -> datetime:
    return datetime(2026, month, day, 12, tzinfo=UTC)


@pytest.fixture
def deal_world(db, active_playbook):
    """Acme's committee (ada, bob) touched by search, webinar and email before a won 1,000 deal;
    cy (no account) only opened an email and never converted."""
    from smarketing.lifecycle.models import StageChange

    acme = AccountFactory(name="Acme")
    ada = ContactFactory(account=acme, email="ada@acme.example")
    bob = ContactFactory(account=acme, email="bob@acme.example")
    cy = ContactFactory(account=None, email="cy@else.example")
    search = CampaignFactory(name="Search", channel="paid_search", actual_cost=1000)
    webinar = CampaignFactory(name="Webinar", channel="webinar", actual_cost=500)
    email = CampaignFactory(name="Newsletter", channel="email", actual_cost=100)
    t1 = TouchpointFactory(contact=ada, campaign=search, channel="paid_search", kind="ad_click", occurred_at=at(1))
    t2 = TouchpointFactory(contact=ada, campaign=webinar, channel="webinar", kind="webinar_attended",
                           occurred_at=at(5))
    t3 = TouchpointFactory(contact=bob, campaign=email, channel="email", kind="email_click", occurred_at=at(3))
    TouchpointFactory(contact=cy, campaign=email, channel="email", kind="email_click", occurred_at=at(3))
    StageChange.objects.create(contact=ada, from_stage="lead", to_stage="mql", occurred_at=at(2),
                               playbook_version=active_playbook)
    deal = OpportunityFactory(account=acme, primary_contact=ada, amount=1000, opened_at=at(1, 2),
                              closed_at=at(1, 3), outcome="won", stage="closed_won")
    return {"deal": deal, "touches": (t1, t2, t3), "campaigns": (search, webinar, email)}


def test_account_level_linear_pipeline_splits_the_deal_over_the_committee(api, deal_world):
    # Given Acme's won deal touched by three channels across two contacts
    # When revops asks for linear attribution of pipeline at account level
    res = api.get("/api/analytics/attribution", model="linear", level="account", credit="pipeline")
    # Then each touch of the committee gets a third of the 1,000 and the weights are shown
    assert res.status_code == 200, res.content
    body = res.json()
    assert {c["key"]: round(c["value"], 4) for c in body["channels"]} == {
        "paid_search": 333.3333, "webinar": 333.3333, "email": 333.3333}
    assert body["weights"] == {"model": "linear", "each_touch": "1/n"}
    assert body["total_value"] == 1000.0
    assert {c["name"] for c in body["campaigns"]} == {"Search", "Webinar", "Newsletter"}


def test_contact_level_markov_sees_the_non_converting_journey(api, deal_world):
    # Given ada converts (search > webinar) and cy does not (email)
    res = api.post("/api/analytics/attribution", {"model": "markov", "level": "contact"})
    # Then the chain reproduces the observed rate (1 of 3 contacts with touches: ada, bob, cy)
    body = res.json()
    assert res.status_code == 200, body
    assert body["conversion_probability"] == pytest.approx(1 / 3)
    credit = {c["key"]: c["conversions"] for c in body["channels"]}
    assert credit == pytest.approx({"paid_search": 0.5, "webinar": 0.5, "email": 0.0})
    assert {c["key"]: c["weight"] for c in body["channels"]}["paid_search"] == pytest.approx(0.5)


def test_shapley_splits_each_deal_evenly_over_its_channels_and_says_how(api, deal_world):
    # When revops asks for Shapley attribution of pipeline at account level
    res = api.get("/api/analytics/attribution", model="shapley", level="account", credit="pipeline")
    body = res.json()
    assert res.status_code == 200, body
    # Then Acme's one coalition {paid_search, email, webinar} earned the 1,000: a third each, by hand
    assert {c["key"]: round(c["value"], 4) for c in body["channels"]} == {
        "paid_search": 333.3333, "webinar": 333.3333, "email": 333.3333}
    # And the ordered breakdown says search entered first, the email second and the webinar third
    third = round(1 / 3, 9)
    assert {c["key"]: c["by_order"] for c in body["channels"]} == {
        "paid_search": [third, 0, 0, 0], "email": [0, third, 0, 0], "webinar": [0, 0, third, 0]}
    assert body["weights"]["exact"] is True and body["weights"]["sampled"] is False
    assert body["method"] == ("exact simplified Shapley value over the 1 channel coalitions and 1 campaign "
                              "coalitions seen in converting journeys; nothing sampled")
    assert "Zhao et al. 2018" in body["definition"]


def test_opportunity_decomposition_credits_each_touch(api, deal_world):
    deal = deal_world["deal"]
    t1, t2, t3 = deal_world["touches"]
    # When the deal is decomposed with U-shaped at account level
    res = api.get(f"/api/analytics/attribution/opportunities/{deal.pk}", model="u_shaped", level="account")
    # Then Acme became an MQL on Jan 2, so the search click of Jan 1 is both the first and the lead-creation touch
    # (40 % + 40 %) and the two later touches share the remaining 20 %, as HubSpot's U-shape does
    body = res.json()
    assert res.status_code == 200, body
    assert [(t["touch_id"], t["share"], t["value"]) for t in body["touches"]] == [
        (t1.pk, 0.8, 800.0), (t3.pk, 0.1, 100.0), (t2.pk, 0.1, 100.0)]
    assert body["weights"]["first"] == 0.4
    assert "40 % to the lead-creation touch" in body["definition"] and "50/50" in body["definition"]


def test_u_shape_gives_the_lead_creation_touch_40_percent(api, deal_world):
    deal = deal_world["deal"]
    t1, t2, t3 = deal_world["touches"]
    # Given ada became an MQL on Jan 4, after the search click (Jan 1) and bob's email (Jan 3)
    from smarketing.lifecycle.models import StageChange

    StageChange.objects.filter(to_stage="mql").update(occurred_at=at(4))
    # When the deal is decomposed with U-shaped at account level
    res = api.get(f"/api/analytics/attribution/opportunities/{deal.pk}", model="u_shaped", level="account")
    # Then the first touch and the email before the MQL get 40 % each, the webinar after it the remaining 20 %
    assert [(t["touch_id"], t["share"]) for t in res.json()["touches"]] == [(t1.pk, 0.4), (t3.pk, 0.4), (t2.pk, 0.2)]


def test_opportunity_decomposition_of_an_unknown_deal_is_404(api, deal_world):
    res = api.get("/api/analytics/attribution/opportunities/999999")
    assert res.status_code == 404
    assert res.json()["field"] == "opportunity_id"


@pytest.mark.parametrize(("params", "field"), [
    ({"model": "custom", "weights": "0.5,0.6"}, "weights"),
    ({"model": "custom", "weights": "0.5,x"}, "weights"),
    ({"model": "custom"}, "weights"),
    ({"model": "linear", "conversion": "signed_contract"}, "conversion"),
    ({"model": "magic"}, "model"),
    ({"model": "markov", "order": "4"}, "order"),
    ({"start": "2026-03-01", "end": "2026-01-01"}, "end"),
])
def test_bad_specs_are_422_naming_the_field(api, deal_world, params, field):
    res = api.get("/api/analytics/attribution", **params)
    assert res.status_code == 422, res.content
    assert res.json()["field"] == field


def test_roi_reports_cost_per_opportunity_roas_and_influence(api, deal_world):
    # When ROI is computed under first touch at account level
    res = api.get("/api/analytics/roi", model="first_touch", level="account")
    body = res.json()
    assert res.status_code == 200, body
    rows = {r["name"]: r for r in body["campaigns"]}
    # Then Search (first touch) earns the opportunity and the revenue: ROAS 1000/1000, cost per opp 1000
    assert rows["Search"]["opportunities"] == 1.0
    assert rows["Search"]["revenue"] == 1000.0
    assert rows["Search"]["roas"] == 1.0
    assert rows["Search"]["cost_per_opportunity"] == 1000.0
    # ROI is a percentage: Search got its 1,000 back (0 %), Webinar nothing of its 500 (-100 %)
    assert rows["Search"]["roi"] == 0.0
    assert rows["Webinar"]["revenue"] == 0.0 and rows["Webinar"]["roi"] == -100.0
    # Beside it, pipeline per unit of cost: Search's 1,000 of pipeline on 1,000 spent, Webinar's none on 500
    assert rows["Search"]["pipeline_per_cost"] == 1.0 and rows["Webinar"]["pipeline_per_cost"] == 0.0
    assert body["total"]["roi"] == pytest.approx(100.0 * (1000 - 1600) / 1600)
    assert body["definition"].startswith("100 % of each conversion to the journey's first touch")
    # And every campaign touching the deal influenced its full pipeline, counted once in the total
    assert {n: r["pipeline_influenced"] for n, r in rows.items()} == {
        "Search": 1000.0, "Webinar": 1000.0, "Newsletter": 1000.0}
    assert body["total"]["pipeline_influenced"] == 1000.0
    assert body["total"]["cost"] == 1600.0
    # MQLs at account level: ada became MQL after the search click
    assert rows["Search"]["mqls"] == 1.0


def test_paths_endpoint_reports_the_bad_line(api, db):
    res = api.post("/api/analytics/attribution/paths", {
        "model": "markov", "paths": "path;total_conversions;total_conversion_value;total_null\na > b;1;0\n"})
    assert res.status_code == 422
    assert "line 2" in res.json()["message"]


def test_paths_endpoint_attributes_markov(api, db):
    text = "path;total_conversions;total_conversion_value;total_null\na > b;1;10;1\na;0;0;1\nb;1;5;0\n"
    res = api.post("/api/analytics/attribution/paths", {"model": "markov", "paths": text})
    body = res.json()
    assert res.status_code == 200, body
    # start→a 3/4, a→b 2/3, b→conv 2/3: P = 1/2; without a 1/6 (effect 2/3), without b 0 (effect 1) → 0.4/0.6
    assert {c["key"]: round(c["conversions"], 6) for c in body["channels"]} == {"a": 0.8, "b": 1.2}


def run_cli(args: list[str]) -> int:
    from smarketing.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_cli_attribution_and_roi_print_json(deal_world, capsys, tmp_path):
    # When the CLI runs attribution, ROI and a paths file with --json
    assert run_cli(["attribution", "--model", "w_shaped", "--level", "account", "--credit", "revenue",
                    "--conversion", "opportunity_won", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    # Then the figures add up to the won revenue
    assert sum(c["value"] for c in body["channels"]) == pytest.approx(1000.0)
    assert run_cli(["roi", "--model", "linear", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"]["cost"] == 1600.0
    paths = tmp_path / "paths.csv"
    paths.write_text("path;total_conversions;total_conversion_value;total_null\na > b;1;10;1\nb;1;5;0\n")
    assert run_cli(["attribution", "--paths", str(paths), "--model", "markov", "--order", "2", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total_conversions"] == 2.0


@pytest.mark.parametrize(("args", "message"), [
    (["attribution", "--model", "custom", "--weights", "0.4,0.2,0.3"], "must sum to 1"),
    (["attribution", "--paths", "missing.csv", "--model", "markov"], "does not exist"),
    (["roi", "--model", "nope"], "model"),
])
def test_cli_errors_are_printed_without_traceback(db, active_playbook, capsys, args, message):
    assert run_cli(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
