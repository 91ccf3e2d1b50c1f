"""`smarketing handoff qualify --all` in batches writes what qualifying each contact in turn writes: the same MQL
stage changes, assignments (the loads growing lead by lead across batches), owners, notifications, SLA clocks and
their start events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from smarketing.campaigns.models import Touchpoint
from smarketing.core import clock
from smarketing.crm.models import Contact
from smarketing.lifecycle.models import Assignment, Notification, SlaClock, SlaEvent, StageChange
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_bulk import mqls_qualify_bulk
from smarketing.lifecycle.services_handoff import QUALIFIABLE, handoff_recycle, mql_qualify
from smarketing.lifecycle.tests.conftest import T0
from smarketing.team.models import User


class _Rollback(Exception):
    pass


def _qualify_each() -> dict[str, int]:
    """The contact-by-contact path (what `qualify --all` did before): one transaction per contact, in id order."""
    ids = list(Contact.objects.filter(lifecycle_stage__in=QUALIFIABLE).order_by("id").values_list("id", flat=True))
    qualified = sum(mql_qualify(contact=Contact(pk=cid)).qualified for cid in ids)
    return {"checked": len(ids), "qualified": qualified}


def _written(since: dict[str, int]) -> dict[str, Any]:
    """Everything qualification wrote after the marks, as plain data keyed by contact (not by row id)."""
    changes = StageChange.objects.filter(pk__gt=since["changes"])
    change_of = {c.pk: (c.contact_id, c.to_stage) for c in changes}
    assignments = {a.pk: a for a in Assignment.objects.filter(pk__gt=since["assignments"])}
    contact_of = {pk: a.contact_id for pk, a in assignments.items()}
    events = []
    for e in SlaEvent.objects.filter(pk__gt=since["events"]):
        details = dict(e.details)
        details["assignment_contact"] = contact_of[details.pop("assignment_id")]
        events.append((e.contact_id, e.owner_id, e.team, e.kind, e.side, e.clock_kind, e.deadline, e.occurred_at,
                       e.playbook_version_id, sorted(details.items())))
    return {
        "changes": sorted((c.contact_id, c.from_stage, c.to_stage, c.occurred_at, c.actor_id, c.actor_kind, c.reason,
                           repr(c.details), c.playbook_version_id) for c in changes),
        "assignments": sorted((a.contact_id, change_of.get(a.mql_change_id or 0), a.owner_id, a.team,
                               a.reason_code, a.reason, repr(a.details), a.assigned_at, a.actor_id, a.previous_id,
                               a.playbook_version_id) for a in assignments.values()),
        "clocks": sorted((c.contact_id, change_of[c.mql_change_id], contact_of.get(c.assignment_id or 0), c.owner_id,
                          c.team, c.kind, c.side, c.generation, c.started_at, c.deadline, c.state, c.resolved_at,
                          c.playbook_version_id) for c in SlaClock.objects.filter(pk__gt=since["clocks"])),
        "events": sorted(events, key=repr),
        "notifications": sorted((n.user_id, n.kind, n.title, n.body, n.contact_id, n.created_at, n.read_at,
                                 n.dedupe_key.split(":")[0]) for n in Notification.objects.filter(
                                     pk__gt=since["notifications"])),
        "contacts": sorted(Contact.objects.values_list("id", "owner_id", "lifecycle_stage")),
    }


def _marks() -> dict[str, int]:
    def last(model: Any) -> int:
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    return {"changes": last(StageChange), "assignments": last(Assignment), "clocks": last(SlaClock),
            "events": last(SlaEvent), "notifications": last(Notification)}


def _both_ways(run_bulk: Callable[[], dict[str, int]]) -> tuple[Any, Any]:
    """Qualify the same data both ways (the first run rolled back) and return what each wrote and counted."""
    marks = _marks()
    try:
        with transaction.atomic():
            each = (_qualify_each(), _written(marks))
            raise _Rollback
    except _Rollback:
        pass
    bulk = (run_bulk(), _written(marks))
    return each, bulk


@pytest.fixture
def floor(active_playbook, users, sellers, make_lead) -> dict[str, Any]:
    """Leads of every kind at T0 (Tuesday 10:00 in New York): qualifying ones in three regions (more EMEA leads than
    the first EMEA seller's weekly capacity), one owned by an account owner, one below the threshold, one recycled
    and still in nurture, one recycled whose nurture ended, one whose history already goes past now, and an MQL."""
    clock.freeze(T0 - timedelta(days=60))
    ended, nurturing = make_lead(at=T0 - timedelta(days=60)), make_lead(at=T0 - timedelta(days=60))
    for lead, until in ((ended, (T0 - timedelta(days=5)).date()), (nurturing, (T0 + timedelta(days=10)).date())):
        mql_qualify(contact=lead)
        handoff_recycle(contact=lead, user=users["revops"], until=until)
    clock.freeze(T0)
    for lead in (ended, nurturing):  # a fresh demo request brings them back
        Touchpoint.objects.create(contact=lead, account=lead.account, channel="web", kind="demo_request",
                                  occurred_at=T0 - timedelta(hours=1))
    leads = [make_lead(region=region, at=T0 - timedelta(hours=i % 5)) for i, region in
             enumerate(["EMEA"] * 14 + ["AMER"] * 3 + ["APAC"] * 3)]
    owned = make_lead(owner=sellers["emea_a"])
    below = make_lead(qualifies=False)
    later = make_lead()
    stage_change_record(contact=later, to_stage="lead", occurred_at=T0 + timedelta(days=1))
    already = make_lead()
    mql_qualify(contact=already)
    return {"leads": leads, "owned": owned, "below": below, "later": later, "ended": ended, "nurturing": nurturing}


@pytest.mark.parametrize("batch_size", [4, 2000])
@pytest.mark.parametrize("staffing", ["staffed", "everyone away"])
def test_batches_write_what_qualifying_each_contact_writes(floor, sellers, batch_size, staffing):
    # given the floor of leads, and either the sales floor at work or every seller out of office (unrouted MQLs
    # notify revops)
    if staffing == "everyone away":
        User.objects.filter(role="sales").update(out_of_office_until=(T0 + timedelta(days=30)).date())
    # when qualification runs contact by contact, and (on the same data) in batches
    each, bulk = _both_ways(lambda: mqls_qualify_bulk(batch_size=batch_size))
    # then it counts the same and writes the same rows
    assert bulk[0] == each[0]
    for part in ("changes", "assignments", "clocks", "events", "notifications", "contacts"):
        assert bulk[1][part] == each[1][part], part
    # and the floor was really exercised: 20 regional leads, the owned one, the one whose nurture ended and the one
    # with later history became MQLs; the nurtured one and the one below the threshold did not
    counts = bulk[0]
    assert counts == {"checked": 25, "qualified": 23}
    written = bulk[1]
    assert {c[0] for c in written["changes"]} >= {floor["owned"].pk, floor["ended"].pk, floor["later"].pk}
    assert floor["nurturing"].pk not in {c[0] for c in written["changes"]}
    assert len(written["clocks"]) == 2 * counts["qualified"] == len(written["events"])
    later = next(c for c in written["changes"] if c[0] == floor["later"].pk)
    assert later[1] == "" and Contact.objects.get(pk=floor["later"].pk).lifecycle_stage == "lead"
    codes = {a[4] for a in written["assignments"]}
    if staffing == "staffed":
        # the EMEA leads were spread by capacity across both EMEA sellers, the owned one went to its owner
        emea = {a[2] for a in written["assignments"] if a[3] == "EMEA"}
        assert emea == {sellers["emea_a"].pk, sellers["emea_b"].pk} and "account_owner" in codes
        assert {n[1] for n in written["notifications"]} == {"assigned"}
    else:
        assert codes == {"unassigned"}
        assert {n[0] for n in written["notifications"]} == set(
            User.objects.filter(role="revops").values_list("id", flat=True))


def test_a_run_in_the_past_is_judged_at_that_moment(floor):
    # given a run asked for at a moment an hour before the clock
    at = T0 - timedelta(minutes=30)
    counts = mqls_qualify_bulk(at=at)
    # then every MQL it made, and its clocks, start then
    assert counts["qualified"] > 0
    made = StageChange.objects.filter(to_stage="mql", occurred_at=at)
    assert made.count() == counts["qualified"]
    assert set(SlaClock.objects.filter(mql_change__in=made).values_list("started_at", flat=True)) == {at}


def test_naive_time_is_refused(active_playbook):
    from smarketing.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as err:
        mqls_qualify_bulk(at=datetime(2026, 11, 24, 15))
    assert err.value.field == "at"


def test_the_command_qualifies_every_pending_contact_at_once(active_playbook, sellers, now, make_lead):
    import json

    from typer.testing import CliRunner

    from smarketing.cli import build_app

    # given two qualifying leads and one that is not
    hot, warm, cold = make_lead(), make_lead(region="AMER"), make_lead(qualifies=False)
    # when `smarketing handoff qualify --all` runs, in words and as JSON
    said = CliRunner().invoke(build_app(), ["handoff", "qualify", "--all"], catch_exceptions=False)
    again = CliRunner().invoke(build_app(), ["handoff", "qualify", "--all", "--json"], catch_exceptions=False)
    # then the two became routed MQLs with clocks, the third stays a lead, and a second run finds nothing new
    assert said.exit_code == 0 and said.output.strip() == "2 of 3 contacts became MQLs"
    assert json.loads(again.output) == {"checked": 1, "qualified": 0}
    assert set(Contact.objects.filter(lifecycle_stage="mql").values_list("id", flat=True)) == {hot.pk, warm.pk}
    assert Contact.objects.get(pk=cold.pk).lifecycle_stage == "lead"
    assert SlaClock.objects.filter(contact__in=[hot, warm]).count() == 4
