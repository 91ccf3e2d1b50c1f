"""SLA breaches recorded exactly once by the check, with notifications, escalation, reassignment and compliance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smarketing.core import clock
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockState, SlaEventKind, Stage
from smarketing.lifecycle.models import Assignment, Notification, SlaClock, SlaEvent
from smarketing.lifecycle.selectors_queue import handoff_queue
from smarketing.lifecycle.selectors_sla import sla_compliance, sla_status
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_reject, mql_qualify
from smarketing.playbook.schema import MarketingSLA

FIRST_TOUCH_DUE = datetime(2026, 11, 24, 19, tzinfo=UTC)  # Tue 14:00 New York


def test_nothing_is_breached_before_the_deadline(sla_pass, active_playbook, sellers, now, make_lead):
    mql_qualify(contact=make_lead())
    result = sla_pass(now=FIRST_TOUCH_DUE - timedelta(seconds=1))
    assert result.breached == 0 and not SlaEvent.objects.filter(kind="breached").exists()


def test_due_clock_is_breached_once_with_notifications_and_escalation(sla_pass, active_playbook, users, sellers, now, make_lead):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    # when the check runs after the first-touch deadline, twice
    first = sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1))
    second = sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=2))
    # then exactly one breach, at the deadline, for the owner
    assert (first.breached, second.breached) == (1, 0)
    breach = SlaEvent.objects.get(kind=SlaEventKind.BREACHED)
    assert breach.clock_kind == "first_touch" and breach.owner == owner and breach.occurred_at == FIRST_TOUCH_DUE
    assert SlaClock.objects.get(contact=lead, kind="first_touch").state == ClockState.BREACHED
    # the owner is notified in-app and revops gets the escalation the playbook asks for
    assert Notification.objects.filter(user=owner, kind="sla_breach").count() == 1
    assert SlaEvent.objects.filter(kind=SlaEventKind.ESCALATED).count() == 1
    assert Notification.objects.filter(user=users["revops"], kind="escalation").count() == 1
    # the decision clock is not due yet
    assert SlaClock.objects.get(contact=lead, kind="decision").state == ClockState.OPEN


def test_a_breach_is_recorded_now_and_acted_on_by_a_task_after_commit(active_playbook, users, sellers, now, make_lead,
                                                                       run_breach_acts,
                                                                       django_capture_on_commit_callbacks):
    from smarketing.lifecycle.services_sla_check import sla_check_run

    owner = mql_qualify(contact=make_lead()).assignment.owner
    # when the check's transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        result = sla_check_run(now=FIRST_TOUCH_DUE + timedelta(minutes=1))
    # then the breach is recorded but nobody is told yet: the response waits on the queue
    assert result.breached == 1 and SlaEvent.objects.filter(kind=SlaEventKind.BREACHED).count() == 1
    assert not Notification.objects.filter(kind__in=["sla_breach", "escalation"]).exists()
    assert not SlaEvent.objects.filter(kind=SlaEventKind.ESCALATED).exists()
    # when the queued task runs, twice (a retry), the playbook's response happens once
    assert run_breach_acts() == 1
    assert run_breach_acts() == 1
    assert Notification.objects.filter(user=owner, kind="sla_breach").count() == 1
    assert Notification.objects.filter(user=users["revops"], kind="escalation").count() == 1
    assert SlaEvent.objects.filter(kind=SlaEventKind.ESCALATED).count() == 1


def test_a_response_that_died_with_its_worker_is_queued_again_once(active_playbook, users, sellers, now, make_lead,
                                                                    run_breach_acts,
                                                                    django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    from smarketing.lifecycle.services_sla_check import sla_check_run
    from smarketing.lifecycle.tasks import BREACH_ACT_STALE, sla_breach_act, sla_breach_acts_redrive

    owner = mql_qualify(contact=make_lead()).assignment.owner
    with django_capture_on_commit_callbacks(execute=True):
        [event_id] = sla_check_run(now=FIRST_TOUCH_DUE + timedelta(minutes=1)).breach_event_ids
    # given the response task claimed by a worker that was killed a while ago (left RUNNING)
    started = clock.now()
    DBTaskResult.objects.filter(task_path=sla_breach_act.module_path).update(status="RUNNING", started_at=started)
    # when the check looks before and after the response could have finished
    assert sla_breach_acts_redrive(now=started + timedelta(seconds=30)) == []
    assert sla_breach_acts_redrive(now=started + BREACH_ACT_STALE + timedelta(seconds=1)) == [event_id]
    # then it is queued once, not on every pass, and running it responds to the breach
    assert sla_breach_acts_redrive(now=started + 2 * BREACH_ACT_STALE) == []
    assert run_breach_acts() == 1
    assert Notification.objects.filter(user=owner, kind="sla_breach").count() == 1


def test_the_database_refuses_a_second_breach_of_the_same_clock(sla_pass, active_playbook, sellers, now, make_lead):
    from django.db import IntegrityError, transaction

    mql_qualify(contact=make_lead())
    sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1))
    breach = SlaEvent.objects.get(kind="breached")
    with pytest.raises(IntegrityError), transaction.atomic():
        SlaEvent.objects.create(clock=breach.clock, kind="breached", side="sales", clock_kind="first_touch",
                                occurred_at=breach.occurred_at)


def test_breach_reassigns_when_the_playbook_says_so(sla_pass, playbook_with, sellers, now, make_lead):
    playbook_with(lambda d: d["sla"]["sales"]["on_breach"].update({"reassign": True}))
    lead = make_lead()
    first_owner = mql_qualify(contact=lead).assignment.owner
    sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1))
    # a new assignment to someone else, new clocks for them, the old ones closed
    latest = Assignment.objects.filter(contact=lead).order_by("-id").first()
    assert latest.owner != first_owner and latest.previous is not None
    assert latest.reason.startswith("reassigned after an SLA breach")
    assert SlaEvent.objects.filter(kind=SlaEventKind.REASSIGNED).count() == 1
    open_clocks = SlaClock.objects.filter(contact=lead, state=ClockState.OPEN)
    assert {c.owner for c in open_clocks} == {latest.owner} and {c.generation for c in open_clocks} == {1}
    lead.refresh_from_db()
    assert lead.owner == latest.owner
    assert Notification.objects.filter(user=first_owner, kind="reassigned").count() == 1
    assert Notification.objects.filter(user=latest.owner, kind="assigned").count() >= 1
    # the next check does not reassign again
    sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=2))
    assert Assignment.objects.filter(contact=lead).count() == 2


def test_check_works_in_batches_and_reports_what_remains(sla_pass, active_playbook, sellers, now, make_lead):
    for _ in range(5):
        mql_qualify(contact=make_lead())
    result = sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1), limit=3)
    assert (result.breached, result.remaining_due) == (3, 2)
    result = sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1), limit=3)
    assert (result.breached, result.remaining_due) == (2, 0)


def test_compliance_per_team_and_person_from_recorded_events(sla_pass, active_playbook, sellers, now, make_lead,
                                                              django_capture_on_commit_callbacks):
    from smarketing.campaigns.services import touchpoint_record

    leads = [make_lead() for _ in range(3)]
    owners = [mql_qualify(contact=lead).assignment.owner for lead in leads]
    # two get a call in time, one is breached; two are decided in time
    with django_capture_on_commit_callbacks(execute=True):
        for lead in leads[:2]:
            touchpoint_record(contact=lead, channel="sales", kind="sales_call", occurred_at=now + timedelta(hours=1))
    handoff_accept(contact=leads[0], user=owners[0])
    handoff_reject(contact=leads[1], user=owners[1], reason_key="no_need")
    sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1))
    report = sla_compliance(period_key="2026-11", now=now + timedelta(hours=5))
    ft = report["sales"]["overall"]["first_touch"]
    assert (ft["met"], ft["breached"], ft["within_sla_rate"]) == (2, 1, pytest.approx(0.6667, abs=1e-3))
    dec = report["sales"]["overall"]["decision"]
    assert (dec["met"], dec["breached"], dec["open"]) == (2, 0, 1)
    emea = next(t for t in report["sales"]["teams"] if t["team"] == "EMEA")
    assert emea["first_touch"]["measured"] == 3
    per_person = {p["name"]: p["first_touch"]["measured"] for p in report["sales"]["people"]}
    assert sum(per_person.values()) == 3
    # marketing: 3 MQLs this month against 120 committed; 1 of 2 decided accepted against 60 %
    mk = report["marketing"]
    assert (mk["mql_volume"], mk["mql_target"], mk["accepted"], mk["rejected"]) == (3, 120, 1, 1)
    assert mk["acceptance_rate"] == 0.5 and mk["acceptance_met"] is False and mk["volume_met"] is False


def test_marketing_verdicts_are_recorded_once_after_the_period_closes(sla_pass, active_playbook, users, sellers, now,
                                                                      make_lead):
    # given November's MQLs: one accepted, one rejected (50 % against a 60 % commitment)
    leads = [make_lead() for _ in range(2)]
    owners = [mql_qualify(contact=lead).assignment.owner for lead in leads]
    handoff_accept(contact=leads[0], user=owners[0])
    handoff_reject(contact=leads[1], user=owners[1], reason_key="no_need")
    # when the check runs on 1 December: the volume is judged, acceptance waits for the decision window
    december = datetime(2026, 12, 1, 15, tzinfo=UTC)
    clock.freeze(december)
    first = sla_pass(now=december)
    again = sla_pass(now=december + timedelta(hours=1))
    assert first.marketing_verdicts == ["2026-11 mql_volume: breached"] and again.marketing_verdicts == []
    volume = SlaEvent.objects.get(side="marketing", clock_kind="mql_volume")
    assert volume.period == "2026-11" and volume.details["mql_volume"] == 2
    # two business days after the close (Tue 1 Dec 00:00 New York + 2 days = Wed 17:00) acceptance is judged
    later = sla_pass(now=datetime(2026, 12, 3, 23, tzinfo=UTC))
    assert later.marketing_verdicts == ["2026-11 acceptance_rate: breached"]
    assert SlaEvent.objects.get(clock_kind="acceptance_rate").details["acceptance_rate"] == 0.5
    assert Notification.objects.filter(user=users["marketing"], kind="sla_breach").count() == 2


@pytest.mark.parametrize(("volume", "accepted", "rejected", "recycled", "volume_met", "acceptance_met"), [
    (120, 60, 40, 0, True, True),
    (119, 60, 40, 0, False, True),
    (150, 50, 30, 20, True, False),  # recycles count against acceptance
    (10, 0, 0, 0, False, None),  # nothing decided yet: no verdict on acceptance
])
def test_marketing_verdict(volume, accepted, rejected, recycled, volume_met, acceptance_met):
    commitment = MarketingSLA(period="month", mql_volume=120, min_acceptance_rate=0.6)
    period = sla_rules.period_parse("month", "2026-11")
    verdict = sla_rules.marketing_verdict(commitment, period, mql_volume=volume, accepted=accepted,
                                          rejected=rejected, recycled=recycled, today=period.end)
    assert (verdict.volume_met, verdict.acceptance_met, verdict.closed) == (volume_met, acceptance_met, True)


@pytest.mark.parametrize(("kind", "day", "key"), [("week", datetime(2026, 11, 26).date(), "2026-W48"),
                                                  ("month", datetime(2026, 12, 31).date(), "2026-12"),
                                                  ("quarter", datetime(2026, 11, 26).date(), "2026-Q4")])
def test_periods_round_trip(kind, day, key):
    period = sla_rules.period_of(kind, day)
    assert period.key == key and period.contains(day) and sla_rules.period_parse(kind, key) == period


def test_queue_lists_undecided_mqls_most_urgent_first_with_countdowns(active_playbook, sellers, now, make_lead):
    early = make_lead()
    mql_qualify(contact=early)
    late = make_lead()
    mql_qualify(contact=late, at=now + timedelta(hours=1))
    decided = make_lead()
    owner = mql_qualify(contact=decided).assignment.owner
    handoff_accept(contact=decided, user=owner)
    rows = handoff_queue(now=now + timedelta(hours=2))
    assert [r["contact_id"] for r in rows] == [early.pk, late.pk]
    ft = rows[0]["sla"]["first_touch"]
    assert ft["state"] == "open" and ft["business_hours_left"] == 2.0
    assert rows[0]["routing_reason"] and rows[0]["score_total"] == 85
    status = sla_status(now=now + timedelta(hours=2))
    assert status["open_clocks"] == 5 and status["overdue_unprocessed"] == 0


def test_stage_after_breach_is_untouched(sla_pass, active_playbook, sellers, now, make_lead):
    lead = make_lead()
    mql_qualify(contact=lead)
    sla_pass(now=FIRST_TOUCH_DUE + timedelta(days=5))
    lead.refresh_from_db()
    assert lead.lifecycle_stage == Stage.MQL
    assert SlaEvent.objects.filter(kind="breached").count() == 2  # first touch and decision
