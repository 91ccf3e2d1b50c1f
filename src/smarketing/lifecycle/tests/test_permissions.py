"""Handoff decisions belong to the MQL's owner, the people the owner reports to, and RevOps: the pure rule, the
services, the queue's per-row answer, the API's 403 and the web queue."""

from __future__ import annotations

from typing import Any

import pytest

from smarketing.core.errors import PermissionDenied
from smarketing.crm.models import Contact
from smarketing.lifecycle.models import HandoffDecision, StageChange
from smarketing.lifecycle.permissions import Actor, can_decide, handoff_refusal, mql_owner_id
from smarketing.lifecycle.selectors_queue import handoff_queue, handoff_queue_rows
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_recycle, handoff_reject, mql_qualify
from smarketing.team.selectors import user_report_ids
from smarketing.testing.factories import UserFactory

BASE = "/api/lifecycle"
REP, OTHER_REP, MANAGER, DIRECTOR = 11, 12, 20, 30


# ------------------------------------------------------------------------------------------ the pure rule

@pytest.mark.parametrize(("decider", "owner_id", "reports", "allowed"), [
    (Actor(REP, "rep", "sales"), REP, frozenset(), True),  # the owner
    (Actor(OTHER_REP, "other", "sales"), REP, frozenset(), False),  # another rep
    (Actor(MANAGER, "boss", "sales"), REP, frozenset({REP}), True),  # the owner's manager
    (Actor(DIRECTOR, "director", "sales"), REP, frozenset({MANAGER, REP}), True),  # the manager's manager
    (Actor(MANAGER, "boss", "sales"), OTHER_REP, frozenset({REP}), False),  # a manager of someone else
    (Actor(1, "ops", "revops"), REP, frozenset(), True),  # RevOps
    (Actor(1, "ops", "revops"), None, frozenset(), True),  # RevOps, unassigned
    (Actor(REP, "rep", "sales"), None, frozenset(), False),  # nobody's MQL: RevOps route it first
    (Actor(REP, "mk", "marketing"), REP, frozenset(), False),  # marketing never decides, even as owner
    (Actor(MANAGER, "mk", "marketing"), REP, frozenset({REP}), False),  # nor as someone's manager
    (Actor(REP, "v", "viewer"), REP, frozenset(), False),  # viewers read
    (Actor(2, "root", "marketing", is_superuser=True), REP, frozenset(), True),  # a deliberate superuser
])
def test_who_may_decide_on_an_mql(decider, owner_id, reports, allowed):
    # when the rule is asked
    refusal = handoff_refusal(decider, owner_id=owner_id, reports=reports, owner_name="rep")
    # then it allows exactly the owner, their managers and RevOps, and says why not otherwise
    assert can_decide(decider, owner_id=owner_id, reports=reports) is allowed
    assert (refusal == "") is allowed
    if not allowed:
        assert decider.username in refusal


def test_the_owner_of_an_mql_is_its_latest_assignment_else_the_contacts_owner():
    assert mql_owner_id(assigned=True, assignment_owner_id=REP, contact_owner_id=OTHER_REP) == REP
    assert mql_owner_id(assigned=True, assignment_owner_id=None, contact_owner_id=OTHER_REP) is None
    assert mql_owner_id(assigned=False, assignment_owner_id=None, contact_owner_id=OTHER_REP) == OTHER_REP


def test_reports_are_found_down_the_whole_reporting_line(db):
    # given a director over a manager over two reps, and a rep outside the line
    director = UserFactory(role="sales")
    manager = UserFactory(role="sales", manager=director)
    reps = [UserFactory(role="sales", manager=manager) for _ in range(2)]
    UserFactory(role="sales")
    # then each sees the people below them, not above or beside
    assert user_report_ids(user_id=director.pk) == frozenset({manager.pk, *(r.pk for r in reps)})
    assert user_report_ids(user_id=manager.pk) == frozenset(r.pk for r in reps)
    assert user_report_ids(user_id=reps[0].pk) == frozenset()


# ------------------------------------------------------------------------------------------- the services

@pytest.fixture
def team(db, users, sellers) -> dict[str, Any]:
    """sales1 manages the sellers (see the sellers fixture); a director above sales1; a rep of another team."""
    director = UserFactory(username="director", role="sales")
    users["sales"].manager = director
    users["sales"].save(update_fields=["manager"])
    outsider = UserFactory(username="outsider", role="sales", team_name="APAC")
    return {**sellers, "manager": users["sales"], "director": director, "outsider": outsider,
            "revops": users["revops"], "marketing": users["marketing"], "viewer": users["viewer"]}


def _owned_mql(make_lead) -> tuple[Contact, Any]:
    lead = make_lead()
    result = mql_qualify(contact=lead)
    assert result.assignment is not None and result.assignment.owner is not None
    return lead, result.assignment.owner


def _peer(team: dict[str, Any], owner: Any) -> Any:
    return team["emea_a"] if owner != team["emea_a"] else team["emea_b"]


@pytest.mark.parametrize("decide", [
    lambda c, u: handoff_accept(contact=c, user=u),
    lambda c, u: handoff_reject(contact=c, user=u, reason_key="no_need"),
    lambda c, u: handoff_recycle(contact=c, user=u),
], ids=["accept", "reject", "recycle"])
def test_another_rep_cannot_decide_and_nothing_is_written(active_playbook, team, now, make_lead, decide):
    # given an MQL routed to one EMEA seller
    lead, owner = _owned_mql(make_lead)
    changes = StageChange.objects.count()
    # when a peer of the owner (and a rep of another team) tries to decide on it
    for intruder in (_peer(team, owner), team["outsider"]):
        with pytest.raises(PermissionDenied) as exc:
            decide(lead, intruder)
        # then the refusal names the owner and the intruder, and nothing was written
        assert owner.username in exc.value.message and intruder.username in exc.value.message
        assert exc.value.field == "owner" and exc.value.record == f"contact:{lead.pk}"
    assert StageChange.objects.count() == changes and HandoffDecision.objects.count() == 0
    assert Contact.objects.get(pk=lead.pk).lifecycle_stage == "mql"


@pytest.mark.parametrize("who", ["owner", "manager", "director", "revops"])
def test_the_owner_their_managers_and_revops_decide(active_playbook, team, now, make_lead, who):
    # given an MQL routed to an EMEA seller
    lead, owner = _owned_mql(make_lead)
    decider = owner if who == "owner" else team[who]
    # when they accept it
    decision = handoff_accept(contact=lead, user=decider)
    # then it is recorded as theirs
    assert decision.decided_by == decider and Contact.objects.get(pk=lead.pk).lifecycle_stage == "sal"


@pytest.mark.parametrize("role", ["marketing", "viewer"])
def test_roles_that_never_decide_are_refused_before_anything_is_read(active_playbook, team, now, make_lead, role):
    lead, _ = _owned_mql(make_lead)
    with pytest.raises(PermissionDenied) as exc:
        handoff_accept(contact=lead, user=team[role])
    assert exc.value.field == "role"


def test_an_unassigned_mql_is_for_revops_to_route_before_sales_decides(active_playbook, users, now, make_lead):
    # given an MQL routing found nobody for (no seller has capacity)
    lead = make_lead()
    result = mql_qualify(contact=lead)
    assert result.assignment is not None and result.assignment.owner_id is None
    # then sales cannot decide on it, RevOps can
    with pytest.raises(PermissionDenied, match="no owner"):
        handoff_accept(contact=lead, user=users["sales"])
    assert handoff_accept(contact=lead, user=users["revops"]).decided_by == users["revops"]


# ------------------------------------------------------------------------------------ queue, API and web

def test_the_queue_tells_each_viewer_whether_they_may_decide(active_playbook, team, now, make_lead):
    # given two MQLs routed to the two EMEA sellers (capacity decides who gets which)
    leads = [_owned_mql(make_lead) for _ in range(2)]
    owners = {lead.pk: owner for lead, owner in leads}
    assert len(set(owners.values())) == 2
    # then each seller may decide on their own row only; their manager, the director and RevOps on both
    for seller in (team["emea_a"], team["emea_b"]):
        rows = handoff_queue_rows(viewer=seller, explain=False)
        assert {r.contact.pk: r.can_decide for r in rows} == {pk: owners[pk] == seller for pk in owners}
    for who in ("manager", "director", "revops"):
        assert all(r["can_decide"] for r in handoff_queue(viewer=team[who]))
    for who in ("outsider", "marketing", "viewer"):
        assert not any(r["can_decide"] for r in handoff_queue(viewer=team[who]))
    assert not any(r["can_decide"] for r in handoff_queue())  # nobody asking: nobody may


def test_the_api_refuses_another_reps_mql_with_403_in_the_error_shape(api, active_playbook, team, now, make_lead):
    # given an MQL routed to a seller, and API tokens for the seller's peer and the owner
    from smarketing.team.services import api_token_create

    lead, owner = _owned_mql(make_lead)
    api.tokens["peer"] = api_token_create(user=_peer(team, owner), name="t")[1]
    api.tokens["owner"] = api_token_create(user=owner, name="t")[1]
    # when the peer accepts it
    refused = api.post(f"{BASE}/handoff/{lead.pk}/accept", {"to_stage": "sal"}, role="peer")
    # then 403 forbidden naming the owner, in the documented shape, and the queue says the peer may not
    assert refused.status_code == 403
    body = refused.json()
    assert body["code"] == "forbidden" and body["field"] == "owner" and owner.username in body["message"]
    assert set(body) <= {"code", "message", "field", "record", "details"}
    [row] = api.get(f"{BASE}/handoff/queue", role="peer").json()
    assert row["can_decide"] is False and row["owner_id"] == owner.pk
    # and the owner decides
    [mine] = api.get(f"{BASE}/handoff/queue", role="owner", mine="true").json()
    assert mine["can_decide"] is True
    assert api.post(f"{BASE}/handoff/{lead.pk}/accept", {"to_stage": "sal"}, role="owner").status_code == 200


def test_the_api_documents_who_decides_and_the_403():
    from smarketing.api import api

    paths = api.get_openapi_schema()["paths"]
    for action in ("accept", "reject", "recycle"):
        op = paths[f"/api/lifecycle/handoff/{{contact_id}}/{action}"]["post"]
        assert "403" in {str(code) for code in op["responses"]} and "owner" in op["description"]


@pytest.fixture
def web_login(users):
    from django.test import Client

    def make(user: Any) -> Client:
        client = Client()
        client.force_login(user)
        return client

    return make


def test_the_web_queue_hides_the_buttons_and_refuses_the_post(active_playbook, team, now, make_lead, web_login,
                                                             settings):
    settings.SMARKETING_WEB_WARM = False
    # given an MQL routed to a seller
    lead, owner = _owned_mql(make_lead)
    peer = _peer(team, owner)
    action = f"/handoff/{lead.pk}/accept/"
    # then the owner sees the buttons, the peer sees whose it is instead
    assert action in web_login(owner).get("/handoff/", {"scope": "all"}).content.decode()
    page = web_login(peer).get("/handoff/", {"scope": "all"}).content.decode()
    assert action not in page and f"Assigned to {owner}" in page
    # when the peer posts the decision anyway, as a form and through htmx
    plain = web_login(peer).post(action)
    htmx = web_login(peer).post(action, HTTP_HX_REQUEST="true")
    # then both are 403: the page keeps the layout, the partial says why and asks to be swapped in
    assert plain.status_code == 403 and "<nav" in plain.content.decode() and owner.username in plain.content.decode()
    assert htmx.status_code == 403 and htmx["X-Swap-Refusal"] == "true" and owner.username in htmx.content.decode()
    assert Contact.objects.get(pk=lead.pk).lifecycle_stage == "mql"
    # and the owner's manager decides through the page
    done = web_login(team["manager"]).post(action, HTTP_HX_REQUEST="true")
    assert done.status_code == 200 and "accepted" in done.content.decode()
