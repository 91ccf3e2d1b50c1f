"""Qualification → routing → handoff decisions, with the history each step records."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from smarketing.campaigns.services import touchpoint_record
from smarketing.core import clock
from smarketing.core.errors import Conflict, PermissionDenied, ValidationFailed
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.enums import ClockState, SlaEventKind, Stage
from smarketing.lifecycle.models import (
    Assignment,
    HandoffDecision,
    Notification,
    SlaClock,
    SlaEvent,
    StageChange,
)
from smarketing.lifecycle.services_handoff import (
    handoff_accept,
    handoff_recycle,
    handoff_reject,
    mql_qualify,
)
from smarketing.lifecycle.tests.conftest import T0
from smarketing.testing.factories import UserFactory

NY_10AM_TUE = T0


def test_qualifying_contact_becomes_mql_with_explanation_then_is_routed_and_clocked(active_playbook, sellers, now,
                                                                                      make_lead):
    # given a decision maker at a mid-size software company in EMEA who asked for a demo
    lead = make_lead()
    # when qualification runs
    result = mql_qualify(contact=lead)
    # then the stage change records the score explanation and the playbook version
    assert result.qualified and not result.unmet
    change = StageChange.objects.get(contact=lead, to_stage=Stage.MQL)
    assert change.playbook_version == active_playbook
    rules = {line["rule_id"]: line["points"] for line in change.details["score"]["explanation"]}
    assert rules == {"fit-industry": 15, "fit-size-mid": 15, "fit-decision-maker": 20, "eng-demo-request": 35}
    assert change.details["score"]["total"] == 85
    # and the EMEA rule routed it by capacity to an EMEA seller, with the reason recorded
    assignment = Assignment.objects.get(contact=lead)
    assert assignment.owner in (sellers["emea_a"], sellers["emea_b"])
    assert assignment.reason_code == "rule" and "route-emea" in assignment.reason
    lead.refresh_from_db()
    assert lead.lifecycle_stage == Stage.MQL and lead.owner == assignment.owner
    # and both sales clocks started with business-hour deadlines (Tue 10:00 NY + 4 h; + 2 business days)
    clocks = {c.kind: c for c in SlaClock.objects.filter(contact=lead)}
    assert clocks["first_touch"].deadline == datetime(2026, 11, 24, 19, tzinfo=UTC)
    assert clocks["decision"].deadline == datetime(2026, 11, 27, 15, tzinfo=UTC)  # Thanksgiving skipped
    assert SlaEvent.objects.filter(contact=lead, kind=SlaEventKind.STARTED).count() == 2
    assert Notification.objects.filter(user=assignment.owner, kind="assigned").count() == 1


def test_contact_below_threshold_is_not_qualified_and_nothing_is_written(active_playbook, sellers, now, make_lead):
    lead = make_lead(qualifies=False)
    result = mql_qualify(contact=lead)
    assert not result.qualified
    assert any("below the MQL threshold" in u for u in result.unmet)
    assert not StageChange.objects.filter(contact=lead).exists() and not Assignment.objects.exists()


def test_an_mql_cannot_qualify_twice(active_playbook, sellers, now, make_lead):
    lead = make_lead()
    mql_qualify(contact=lead)
    again = mql_qualify(contact=lead)
    assert not again.qualified and "only lead or recycled" in again.unmet[0]
    assert StageChange.objects.filter(contact=lead, to_stage=Stage.MQL).count() == 1


def test_account_owner_gets_the_lead_first(active_playbook, sellers, now, make_lead):
    lead = make_lead(owner=sellers["inbound"])
    assignment = mql_qualify(contact=lead).assignment
    assert assignment is not None
    assert assignment.owner == sellers["inbound"] and assignment.reason_code == "account_owner"


def test_routing_over_many_leads_follows_capacity_and_skips_out_of_office(active_playbook, sellers, now, make_lead):
    # given a third EMEA seller who is out of office
    away = UserFactory(username="away", role="sales", team_name="EMEA", capacity_per_week=50,
                       out_of_office_until=date(2026, 11, 30))
    # when 30 EMEA leads qualify this week
    for _ in range(30):
        mql_qualify(contact=make_lead())
    # then the 10/20 capacities split them 10/20 and the out-of-office seller got none
    counts = {u: Assignment.objects.filter(owner=u).count() for u in (sellers["emea_a"], sellers["emea_b"], away)}
    assert counts == {sellers["emea_a"]: 10, sellers["emea_b"]: 20, away: 0}


def test_accept_moves_to_sal_and_meets_the_decision_clock(active_playbook, sellers, now, make_lead):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    clock.freeze(now + timedelta(hours=2))
    decision = handoff_accept(contact=lead, user=owner, note="good fit")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == Stage.SAL and decision.to_stage == Stage.SAL
    assert decision.playbook_version == active_playbook and decision.decided_by == owner
    states = dict(SlaClock.objects.filter(contact=lead).values_list("kind", "state"))
    # the first touch is still owed after accepting
    assert states == {"decision": ClockState.MET, "first_touch": ClockState.OPEN}
    assert SlaEvent.objects.filter(contact=lead, kind=SlaEventKind.MET, clock_kind="decision").count() == 1


def test_accept_straight_to_sql(active_playbook, sellers, now, make_lead):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    assert handoff_accept(contact=lead, user=owner, to_stage="sql").to_stage == Stage.SQL
    with pytest.raises(ValidationFailed):
        handoff_accept(contact=make_lead(), user=owner, to_stage="customer")


@pytest.mark.parametrize(("reason", "stage"), [("no_need", Stage.DISQUALIFIED),
                                               ("student_or_job_seeker", Stage.DISQUALIFIED),
                                               ("bad_timing", Stage.RECYCLED), ("no_budget", Stage.RECYCLED)])
def test_reject_with_a_playbook_reason_disqualifies_or_recycles_and_feeds_the_loop(active_playbook, sellers, now,
                                                                                  make_lead, reason, stage):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    decision = handoff_reject(contact=lead, user=owner, reason_key=reason, note="talked to them")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == stage and decision.reason_key == reason
    assert (decision.recycle_until is not None) == (stage == Stage.RECYCLED)
    # the rejection reaches the feedback loop as a rejection_reason item
    item = FeedbackItem.objects.get(source="handoff_rejection", source_id=f"handoff:{decision.pk}")
    assert item.kind == "rejection_reason" and item.contact == lead and "talked to them" in item.text
    # rejecting ends the first-touch obligation
    assert SlaClock.objects.get(contact=lead, kind="first_touch").state == ClockState.CANCELLED


@pytest.mark.parametrize(("reason", "disposition"), [("bad_timing", Stage.DISQUALIFIED),
                                                     ("no_need", Stage.RECYCLED)])
def test_reject_follows_the_disposition_the_playbook_states_not_the_reason_key(playbook_with, sellers, now,
                                                                              make_lead, reason, disposition):
    # given a playbook whose teams agreed the opposite of what the reason's key suggests
    def restate(data: dict) -> None:
        for r in data["handoff"]["rejection_reasons"]:
            if r["key"] == reason:
                r["disposition"] = disposition.value

    playbook_with(restate)
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    # when sales rejects with that reason
    decision = handoff_reject(contact=lead, user=owner, reason_key=reason)
    # then the lead goes where the playbook says
    lead.refresh_from_db()
    assert lead.lifecycle_stage == disposition == decision.to_stage
    assert (decision.recycle_until is not None) == (disposition == Stage.RECYCLED)


def test_reject_with_an_unknown_reason_names_the_field_and_lists_the_valid_ones(active_playbook, sellers, now,
                                                                             make_lead):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    with pytest.raises(ValidationFailed) as exc:
        handoff_reject(contact=lead, user=owner, reason_key="too_ugly")
    assert exc.value.field == "reason_key" and "no_budget" in exc.value.message
    lead.refresh_from_db()
    assert lead.lifecycle_stage == Stage.MQL and not HandoffDecision.objects.exists()


def test_recycle_goes_back_to_nurture_until_a_date_then_can_requalify(active_playbook, sellers, now, make_lead):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    decision = handoff_recycle(contact=lead, user=owner, until=date(2027, 1, 15), note="call back after budget")
    lead.refresh_from_db()
    assert lead.lifecycle_stage == Stage.RECYCLED and decision.recycle_until == date(2027, 1, 15)
    # before the date the contact stays in nurture even with a fresh demo request
    touchpoint_record(contact=lead, channel="direct", kind="demo_request", occurred_at=now + timedelta(days=1))
    assert not mql_qualify(contact=lead, at=now + timedelta(days=2)).qualified
    # after the date, a new MQL (with its own decision to come)
    later = datetime(2027, 1, 20, 15, tzinfo=UTC)
    touchpoint_record(contact=lead, channel="direct", kind="demo_request", occurred_at=later)
    assert mql_qualify(contact=lead, at=later).qualified
    assert StageChange.objects.filter(contact=lead, to_stage=Stage.MQL).count() == 2


def test_recycle_date_defaults_from_the_playbook_and_must_be_in_the_future(active_playbook, sellers, now, make_lead):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    with pytest.raises(ValidationFailed) as exc:
        handoff_recycle(contact=lead, user=owner, until=date(2026, 1, 1))
    assert exc.value.field == "until"
    assert handoff_recycle(contact=lead, user=owner).recycle_until == date(2027, 2, 22)  # +90 days


def test_decisions_need_an_open_mql_and_a_sales_or_revops_user(active_playbook, users, sellers, now, make_lead):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    with pytest.raises(PermissionDenied):
        handoff_accept(contact=lead, user=users["marketing"])
    handoff_accept(contact=lead, user=users["revops"])
    with pytest.raises(Conflict):
        handoff_reject(contact=lead, user=owner, reason_key="no_need")
    assert HandoffDecision.objects.filter(contact=lead).count() == 1


def test_a_sales_call_by_the_owner_meets_the_first_touch_clock(active_playbook, sellers, now, make_lead,
                                                               django_capture_on_commit_callbacks):
    lead = make_lead()
    mql_qualify(contact=lead)
    with django_capture_on_commit_callbacks(execute=True):
        touchpoint_record(contact=lead, channel="sales", kind="sales_call", occurred_at=now + timedelta(hours=1))
    ft = SlaClock.objects.get(contact=lead, kind="first_touch")
    assert ft.state == ClockState.MET and ft.resolved_at == now + timedelta(hours=1)


def test_a_late_first_touch_is_a_breach_not_a_met(active_playbook, sellers, now, make_lead, run_breach_acts,
                                                  django_capture_on_commit_callbacks):
    lead = make_lead()
    mql_qualify(contact=lead)
    with django_capture_on_commit_callbacks(execute=True):
        touchpoint_record(contact=lead, channel="sales", kind="sales_email", occurred_at=now + timedelta(days=1))
    ft = SlaClock.objects.get(contact=lead, kind="first_touch")
    assert ft.state == ClockState.BREACHED
    assert set(SlaEvent.objects.filter(clock=ft).values_list("kind", flat=True)) == {"started", "breached"}
    # the playbook's escalation follows when the queued breach task runs
    assert run_breach_acts() == 1
    kinds = set(SlaEvent.objects.filter(clock=ft).values_list("kind", flat=True))
    assert kinds == {"started", "breached", "escalated"}


def test_marketing_touches_do_not_count_as_first_touch(active_playbook, sellers, now, make_lead,
                                                       django_capture_on_commit_callbacks):
    lead = make_lead()
    mql_qualify(contact=lead)
    with django_capture_on_commit_callbacks(execute=True):
        touchpoint_record(contact=lead, channel="email", kind="email_click", occurred_at=now + timedelta(hours=1))
    assert SlaClock.objects.get(contact=lead, kind="first_touch").state == ClockState.OPEN


def test_a_rescore_that_crosses_the_threshold_qualifies_the_contact(active_playbook, sellers, now, make_lead,
                                                                    django_capture_on_commit_callbacks):
    scoring = pytest.importorskip("smarketing.scoring.services")
    # given a lead that was cold and just asked for a demo
    lead = make_lead(qualifies=False)
    touchpoint_record(contact=lead, channel="direct", kind="demo_request", occurred_at=now)
    # when scoring rescores it (the incremental path after new touchpoints)
    with django_capture_on_commit_callbacks(execute=True):
        scoring.contacts_rescore(contact_ids=[lead.pk], as_of=now)
    # then the lifecycle engine's hook made it an MQL and routed it
    lead.refresh_from_db()
    assert lead.lifecycle_stage == Stage.MQL and Assignment.objects.filter(contact=lead).count() == 1


def test_with_every_seller_away_the_mql_is_unrouted_and_revops_is_told(active_playbook, users, now, make_lead):
    UserFactory(username="away", role="sales", team_name="EMEA", capacity_per_week=10,
                out_of_office_until=date(2026, 12, 31))
    lead = make_lead()
    assignment = mql_qualify(contact=lead).assignment
    assert assignment.owner is None and assignment.reason_code == "unassigned"
    assert Notification.objects.filter(user=users["revops"], title__startswith="Unrouted MQL").count() == 1
    # the clocks still run, owned by nobody, so a breach escalates
    assert SlaClock.objects.filter(contact=lead, owner__isnull=True).count() == 2


def test_routing_rules_can_use_the_score_at_qualification(playbook_with, sellers, now, make_lead):
    def fast_lane(d):
        d["routing"]["rules"].insert(0, {"id": "route-hot", "team": "Inbound",
                                         "when": [{"field": "score.total", "op": ">=", "value": 80}]})

    playbook_with(fast_lane)
    assignment = mql_qualify(contact=make_lead()).assignment  # total 85
    assert assignment.owner == sellers["inbound"] and assignment.details["rule_id"] == "route-hot"


def test_a_past_qualification_and_decision_are_judged_by_the_version_in_force_then(users, sellers, make_lead):
    # given v1 (MQL at 60) adopted a month before T0, and v2 (MQL at 90, "no_budget" dropped) a week after it
    import copy

    from smarketing.playbook.selectors import default_playbook_data
    from smarketing.playbook.services import playbook_bootstrap, playbook_draft_create, playbook_sign_off

    clock.freeze(NY_10AM_TUE - timedelta(days=30))
    v1 = playbook_bootstrap()
    clock.freeze(NY_10AM_TUE + timedelta(days=7))
    data = copy.deepcopy(default_playbook_data())
    data["scoring"]["mql_threshold"] = 90
    data["handoff"]["rejection_reasons"] = [r for r in data["handoff"]["rejection_reasons"] if r["key"] != "no_budget"]
    v2 = playbook_draft_create(content=data)
    playbook_sign_off(version=v2, user=users["marketing"])
    playbook_sign_off(version=v2, user=users["sales"])
    lead, other = make_lead(), make_lead()
    # when a lead scoring 85 is qualified at T0, and sales decides on both a day later, all recorded today
    result = mql_qualify(contact=lead, at=NY_10AM_TUE)
    mql_qualify(contact=other, at=NY_10AM_TUE)
    accepted = handoff_accept(contact=lead, user=users["sales"], at=NY_10AM_TUE + timedelta(days=1))
    rejected = handoff_reject(contact=other, user=users["sales"], reason_key="no_budget",
                              at=NY_10AM_TUE + timedelta(days=1))
    # then v1's bar of 60 qualified it, and every row carries v1, the agreement of that time
    assert result.qualified and result.stage_change is not None and result.assignment is not None
    assert result.stage_change.details["threshold"] == 60 and result.stage_change.details["playbook_version"] == 1
    assert result.stage_change.playbook_version_id == v1.pk and result.assignment.playbook_version_id == v1.pk
    assert accepted.playbook_version_id == v1.pk and rejected.playbook_version_id == v1.pk
    assert rejected.reason_label == "No budget"
    # and a qualification today is judged by v2's bar of 90
    assert not mql_qualify(contact=make_lead()).qualified
