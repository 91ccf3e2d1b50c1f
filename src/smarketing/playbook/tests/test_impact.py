"""The impact preview: a draft's terms applied to the history next to the active version's, one implementation read
by the selector, the API and the CLI."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smarketing.cli import main
from smarketing.playbook import selectors
from smarketing.playbook.impact import commitment_check, impact_side
from smarketing.playbook.selectors import default_playbook_data
from smarketing.scoring.threshold import Outcome

START = datetime(2026, 10, 5, 14, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _no_memo():
    selectors._impact_memo.clear()
    yield
    selectors._impact_memo.clear()


def test_one_side_reads_the_trade_off_table_at_its_threshold():
    # given four contacts' scores and outcomes over two months
    outcomes = [Outcome(90, True, True, True), Outcome(70, True, False, False), Outcome(45, False, False, False),
                Outcome(10, False, False, False)]
    # when
    side = impact_side(outcomes, threshold=40, months=2.0, version=3, status="draft")
    check = commitment_check(side, period="week", mql_volume=1, min_acceptance_rate=0.7)
    # then
    assert (side.mqls, side.mqls_per_month) == (3, 1.5)
    assert side.acceptance_rate == pytest.approx(2 / 3) and side.opportunity_rate == pytest.approx(1 / 3)
    assert check.expected_volume == pytest.approx(1.5 * 7 / (365.25 / 12))
    assert (check.meets_volume, check.meets_acceptance) == (False, False)


@pytest.fixture
def history(users, active_playbook) -> list[Any]:
    """Given three decided contacts (two accepted, one of them an opportunity, scoring about 90; one rejected at
    about 47) and one undecided at about 16, under the default playbook (MQL threshold 60)."""
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import AccountFactory, ContactFactory, TouchpointFactory

    account = AccountFactory(industry="Retail", employees=50)
    plans = [("decision_maker", ["demo_request", "demo_request"], ["lead", "mql", "sal"]),
             ("decision_maker", ["demo_request", "demo_request"], ["lead", "mql", "sal", "sql", "opportunity"]),
             ("champion", ["demo_request"], ["lead", "mql", "disqualified"]),
             ("influencer", ["pricing_view"], [])]
    contacts = []
    for i, (role, touches, path) in enumerate(plans):
        contact: Any = ContactFactory(account=account, buying_role=role, first_seen_at=START)
        for kind in touches:
            TouchpointFactory(contact=contact, kind=kind, occurred_at=START + timedelta(hours=i))
        for j, stage in enumerate(path):
            stage_change_record(contact=contact, to_stage=stage, occurred_at=START + timedelta(days=1 + j, hours=i))
        contacts.append(contact)
    return contacts


def _draft(mutate) -> Any:
    from smarketing.playbook.services import playbook_draft_create

    data = copy.deepcopy(default_playbook_data())
    mutate(data)
    return playbook_draft_create(content=data, notes="impact test")


def test_a_lower_threshold_shows_more_mqls_and_a_lower_acceptance_rate_than_today(history):
    # given a draft that only lowers the MQL threshold from 60 to 40
    draft = _draft(lambda d: d["scoring"].update(mql_threshold=40))
    # when
    impact = selectors.playbook_impact(draft)
    # then: today two MQLs, both accepted; the draft adds the rejected one
    assert (impact.active.threshold, impact.draft.threshold) == (60, 40)
    assert (impact.active.mqls, impact.draft.mqls) == (2, 3)
    assert (impact.active.acceptance_rate, impact.draft.acceptance_rate) == (1.0, pytest.approx(2 / 3))
    assert (impact.active.opportunity_rate, impact.draft.opportunity_rate) == (0.5, pytest.approx(1 / 3))
    assert impact.months == 1.0 and impact.draft.mqls_per_month == 3
    assert impact.delta("mqls") == 1 and not impact.scoring_changed
    # the undecided contact was last touched before the history's first stage change, outside the window
    assert impact.contacts == 3


def test_changed_scoring_rules_rescore_every_contact(history):
    # given a draft that halves the demo request's points (the threshold stays at 60)
    def halve(d: dict[str, Any]) -> None:
        for rule in d["scoring"]["engagement_rules"]:
            if rule["kind"] == "demo_request":
                rule["points"] = 17
    draft = _draft(halve)
    # when
    impact = selectors.playbook_impact(draft)
    # then: the two accepted contacts now score about 54 and fall below the bar
    assert impact.scoring_changed
    assert (impact.active.mqls, impact.draft.mqls) == (2, 0)
    assert impact.draft.acceptance_rate is None and impact.commitment.meets_acceptance is None


def test_the_api_and_the_cli_answer_the_same_figures(history, api, capsys):
    # given
    draft = _draft(lambda d: d["scoring"].update(mql_threshold=40))
    # when
    response = api.get(f"/api/playbook/versions/{draft.number}/impact", role="viewer")
    missing = api.get("/api/playbook/versions/999/impact", role="viewer")
    with pytest.raises(SystemExit) as done:
        main(["playbook", "impact", str(draft.number), "--json"])
    cli_json = capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["playbook", "impact", str(draft.number)])
    text = capsys.readouterr().out
    # then
    assert response.status_code == 200 and done.value.code in (0, None)
    assert response.json() == json.loads(cli_json)
    assert response.json()["draft"]["mqls"] == 3 and response.json()["delta"]["mqls"] == 1
    assert missing.status_code == 404
    assert "MQLs per month" in text and "66.7%" in text
