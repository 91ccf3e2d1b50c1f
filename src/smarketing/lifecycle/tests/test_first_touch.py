"""Whose sales touch stops the first-touch clock: the owner's at the touch's time, or one that names no rep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smarketing.campaigns.services import touchpoint_record
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockState, SlaEventKind
from smarketing.lifecycle.models import Assignment, SlaClock, SlaEvent
from smarketing.lifecycle.selectors_queue import handoff_queue
from smarketing.lifecycle.selectors_sla import sla_compliance
from smarketing.lifecycle.services_handoff import mql_qualify
from smarketing.lifecycle.services_sla_clocks import first_touch_detect

FIRST_TOUCH_DUE = datetime(2026, 11, 24, 19, tzinfo=UTC)  # Tue 14:00 New York, 4 business hours after T0


@pytest.fixture
def touch(django_capture_on_commit_callbacks):
    """Record a sales touch as the API does, with the touchpoint hooks run on commit."""

    def record(lead, *, at, actor=None, kind="sales_call", **extra):
        with django_capture_on_commit_callbacks(execute=True):
            tp, _ = touchpoint_record(contact=lead, channel="sales", kind=kind, occurred_at=at, actor=actor, **extra)
        return tp

    return record


def _other_seller(sellers, owner):
    return next(s for s in (sellers["emea_a"], sellers["emea_b"]) if s != owner)


def _first_touch(lead, generation=0):
    return SlaClock.objects.get(contact=lead, kind="first_touch", generation=generation)


@pytest.mark.parametrize(("actor_id", "owner_id", "by", "stops"), [
    (7, 7, sla_rules.OWNER_TOUCH, True),
    (8, 7, sla_rules.OTHER_TOUCH, False),
    (None, 7, sla_rules.UNATTRIBUTED_TOUCH, True),
    (None, None, sla_rules.UNATTRIBUTED_TOUCH, True),
    (8, None, sla_rules.OTHER_TOUCH, False),  # an unrouted lead has no owner whose touch could count
])
def test_first_touch_rule(actor_id, owner_id, by, stops):
    assert sla_rules.first_touch_by(actor_id=actor_id, owner_at_touch_id=owner_id) == by
    assert sla_rules.first_touch_stops_clock(by) is stops


def test_the_owners_touch_stops_the_clock(active_playbook, sellers, now, make_lead, touch):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    # when the owner calls an hour later
    tp = touch(lead, at=now + timedelta(hours=1), actor=owner)
    # then the clock is met at the call, and the event names the touch and who made it
    clock_row = _first_touch(lead)
    assert (clock_row.state, clock_row.resolved_at) == (ClockState.MET, now + timedelta(hours=1))
    met = SlaEvent.objects.get(clock=clock_row, kind=SlaEventKind.MET)
    assert met.touchpoint == tp and met.owner == owner
    assert met.details == {"touchpoint_id": tp.pk, "touch_kind": "sales_call", "touched_by": "owner",
                           "actor_id": owner.pk, "actor": owner.username}


def test_another_reps_touch_does_not_stop_the_clock_and_is_shown(active_playbook, sellers, now, make_lead, touch):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    colleague = _other_seller(sellers, owner)
    # when a colleague calls and then emails the owner's lead
    call = touch(lead, at=now + timedelta(hours=1), actor=colleague)
    email = touch(lead, at=now + timedelta(hours=2), actor=colleague, kind="sales_email")
    # then the owner's clock still runs
    clock_row = _first_touch(lead)
    assert clock_row.state == ClockState.OPEN and clock_row.resolved_at is None
    # and each touch is an SLA event on the clock, naming the colleague and the owner at the time
    others = list(SlaEvent.objects.filter(clock=clock_row, kind=SlaEventKind.OTHER_TOUCH).order_by("occurred_at"))
    assert [e.touchpoint for e in others] == [call, email]
    assert others[0].details == {"touchpoint_id": call.pk, "touch_kind": "sales_call", "touched_by": "someone_else",
                                 "actor_id": colleague.pk, "actor": colleague.username, "owner_at_touch_id": owner.pk}
    assert others[0].owner == owner and others[0].occurred_at == now + timedelta(hours=1)
    # and the handoff queue shows the lead as touched by someone else
    row = next(r for r in handoff_queue(now=now + timedelta(hours=3)) if r["contact_id"] == lead.pk)
    assert [(t["actor"], t["touch_kind"]) for t in row["touched_by_others"]] == [
        (colleague.username, "sales_call"), (colleague.username, "sales_email")]
    assert row["sla"]["first_touch"]["state"] == "open"
    # and they do not count as measured in compliance
    ft = sla_compliance(period_key="2026-11", now=now + timedelta(hours=3))["sales"]["overall"]["first_touch"]
    assert (ft["met"], ft["breached"], ft["open"]) == (0, 0, 1)
    # when the owner calls later, the clock is met at the owner's call
    touch(lead, at=now + timedelta(hours=3), actor=owner)
    clock_row.refresh_from_db()
    assert (clock_row.state, clock_row.resolved_at) == (ClockState.MET, now + timedelta(hours=3))


def test_another_reps_touch_is_recorded_once_however_often_it_is_detected(active_playbook, sellers, now, make_lead,
                                                                          touch):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    tp = touch(lead, at=now + timedelta(hours=1), actor=_other_seller(sellers, owner))
    # when detection runs again for the same touch (a retried hook)
    assert first_touch_detect(touchpoint_id=tp.pk) is None
    assert SlaEvent.objects.filter(kind=SlaEventKind.OTHER_TOUCH, touchpoint=tp).count() == 1


def test_only_other_reps_touches_end_in_a_breach(sla_pass, active_playbook, sellers, now, make_lead, touch):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    touch(lead, at=now + timedelta(hours=1), actor=_other_seller(sellers, owner))
    sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1))
    assert _first_touch(lead).state == ClockState.BREACHED


def test_a_touch_without_an_actor_stops_the_clock_as_before(active_playbook, sellers, now, make_lead, touch):
    lead = make_lead()
    mql_qualify(contact=lead)
    # when an import that does not know the rep records a call
    tp = touch(lead, at=now + timedelta(hours=1))
    # then it meets the clock, as any sales touch did before touches named their rep
    clock_row = _first_touch(lead)
    assert (clock_row.state, clock_row.resolved_at) == (ClockState.MET, now + timedelta(hours=1))
    met = SlaEvent.objects.get(clock=clock_row, kind=SlaEventKind.MET)
    assert met.details == {"touchpoint_id": tp.pk, "touch_kind": "sales_call", "touched_by": "unattributed"}


def test_after_a_reassignment_the_clock_is_the_new_owners(sla_pass, playbook_with, sellers, now, make_lead, touch):
    # given a lead reassigned after its first owner breached the first touch
    playbook_with(lambda d: d["sla"]["sales"]["on_breach"].update({"reassign": True}))
    lead = make_lead()
    first_owner = mql_qualify(contact=lead).assignment.owner
    reassigned_at = FIRST_TOUCH_DUE + timedelta(minutes=1)
    sla_pass(now=reassigned_at)
    new_owner = Assignment.objects.filter(contact=lead).order_by("-assigned_at", "-id").first().owner
    assert new_owner not in (None, first_owner)
    new_clock = _first_touch(lead, generation=1)
    assert (new_clock.owner, new_clock.started_at, new_clock.state) == (new_owner, reassigned_at, ClockState.OPEN)
    # when the former owner calls after the reassignment, it is someone else's touch
    late_call = touch(lead, at=reassigned_at + timedelta(minutes=30), actor=first_owner)
    new_clock.refresh_from_db()
    assert new_clock.state == ClockState.OPEN
    other = SlaEvent.objects.get(clock=new_clock, kind=SlaEventKind.OTHER_TOUCH)
    assert other.touchpoint == late_call and other.details["owner_at_touch_id"] == new_owner.pk
    # and the former owner's clock, cancelled at the reassignment, stays as it was
    assert _first_touch(lead, generation=0).state == ClockState.BREACHED
    # when the new owner calls, the new clock is met
    touch(lead, at=reassigned_at + timedelta(hours=1), actor=new_owner)
    new_clock.refresh_from_db()
    assert (new_clock.state, new_clock.resolved_at) == (ClockState.MET, reassigned_at + timedelta(hours=1))


def test_a_touch_made_before_a_reassignment_does_not_stop_the_new_owners_clock(sla_pass, playbook_with, sellers, now,
                                                                               make_lead, touch):
    # given a reassigned lead, and a call by the new owner recorded late, dated before they owned it
    playbook_with(lambda d: d["sla"]["sales"]["on_breach"].update({"reassign": True}))
    lead = make_lead()
    mql_qualify(contact=lead)
    sla_pass(now=FIRST_TOUCH_DUE + timedelta(minutes=1))
    new_clock = _first_touch(lead, generation=1)
    touch(lead, at=now + timedelta(hours=1), actor=new_clock.owner)
    # then the new owner's clock, which started after it, still runs
    new_clock.refresh_from_db()
    assert new_clock.state == ClockState.OPEN
    assert not SlaEvent.objects.filter(clock=new_clock, kind__in=["met", "other_touch"]).exists()


def test_the_api_records_the_owners_touch_and_meets_the_clock(active_playbook, api, sellers, now, make_lead,
                                                              django_capture_on_commit_callbacks):
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    colleague = _other_seller(sellers, owner)
    base = {"contact_id": lead.pk, "channel": "sales", "kind": "sales_call"}
    with django_capture_on_commit_callbacks(execute=True):
        other = api.post("/api/touchpoints", {**base, "occurred_at": "2026-11-24T16:00:00Z", "actor_id": colleague.pk})
    assert other.status_code == 201, other.json()
    assert _first_touch(lead).state == ClockState.OPEN
    queue = api.get("/api/lifecycle/handoff/queue").json()
    row = next(r for r in queue if r["contact_id"] == lead.pk)
    assert [t["actor_id"] for t in row["touched_by_others"]] == [colleague.pk]
    with django_capture_on_commit_callbacks(execute=True):
        mine = api.post("/api/touchpoints", {**base, "occurred_at": "2026-11-24T17:00:00Z", "actor_id": owner.pk})
    assert mine.status_code == 201, mine.json()
    assert _first_touch(lead).state == ClockState.MET
    events = api.get("/api/lifecycle/sla/events", contact_id=lead.pk, kind="met").json()
    assert [e["touchpoint_id"] for e in events] == [mine.json()["id"]]


def test_a_csv_import_applies_the_same_rule(active_playbook, sellers, now, make_lead, tmp_path,
                                            django_capture_on_commit_callbacks):
    from smarketing.ingest.touchpoints import touchpoints_import

    # given a dialer export with a colleague's call, then the owner's (named by email)
    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    owner.email = f"{owner.username}@sales.test"
    owner.save(update_fields=["email"])
    colleague = _other_seller(sellers, owner)
    path = tmp_path / "calls.csv"
    path.write_text("contact_id,channel,kind,occurred_at,actor,source_id\n"
                    f"{lead.pk},sales,sales_call,2026-11-24T16:00:00Z,{colleague.username},call-1\n"
                    f"{lead.pk},sales,sales_call,2026-11-24T17:30:00Z,{owner.email.upper()},call-2\n")
    # when it is imported
    with django_capture_on_commit_callbacks(execute=True):
        touchpoints_import(path=path, source="dialer")
    # then the colleague's call is recorded beside the clock and the owner's meets it
    clock_row = _first_touch(lead)
    assert (clock_row.state, clock_row.resolved_at) == (ClockState.MET, datetime(2026, 11, 24, 17, 30, tzinfo=UTC))
    kinds = {e.touchpoint.source_id: e.kind for e in SlaEvent.objects.filter(clock=clock_row, touchpoint__isnull=False)}
    assert kinds == {"call-1": SlaEventKind.OTHER_TOUCH, "call-2": SlaEventKind.MET}
