"""After seeding, the product's own reports show real figures: SLA compliance on both sides, the closed-loop report,
recycle loops in journeys, briefs with sign-offs and outreach whose consistency spreads; every page renders.
The seeded handoff history has the shape the lifecycle services write."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from scipy.stats import spearmanr

from smarketing.campaigns.brief_selectors import (
    brief_list,
    brief_signed_off,
    campaign_consistency_list,
    rep_consistency_list,
)
from smarketing.campaigns.models import Outreach, Touchpoint
from smarketing.core import clock
from smarketing.crm.models import Contact
from smarketing.demo.services import demo_seed
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.models import (
    Assignment,
    HandoffDecision,
    Notification,
    SlaClock,
    SlaEvent,
    StageChange,
)
from smarketing.lifecycle.selectors_report import handoff_report
from smarketing.lifecycle.selectors_sla import sla_compliance
from smarketing.team.models import User
from smarketing.testing.factories import AccountFactory, CampaignFactory, ContactFactory

pytestmark = pytest.mark.slow
AS_OF = datetime(2026, 11, 23, 20, tzinfo=UTC)
YEAR_END = datetime(2026, 11, 24, tzinfo=UTC)  # the end of the simulated year


@pytest.fixture
def seeded(db):
    return demo_seed(size="small", seed=1)


def test_sla_compliance_shows_both_sides_with_breaches(seeded):
    # when the lifecycle's compliance report looks at months of the demo year
    months = [sla_compliance(period_kind="month", period_key=f"2026-{m:02d}", now=AS_OF) for m in range(1, 11)]
    # then sales was measured every month, mostly within the SLA, with breaches of both clocks
    for kind, lo, hi in (("first_touch", 0.6, 0.97), ("decision", 0.7, 0.99)):
        met = sum(m["sales"]["overall"][kind]["met"] for m in months)
        breached = sum(m["sales"]["overall"][kind]["breached"] for m in months)
        assert breached > 0 and lo < met / (met + breached) < hi, kind
        assert all(m["sales"]["overall"][kind]["measured"] > 0 for m in months)
    # and people differ: not every seller has the same compliance
    rates = {p["name"]: p["first_touch"]["within_sla_rate"] for m in months[-4:] for p in m["sales"]["people"]}
    assert len({r for r in rates.values() if r is not None}) >= 3
    # and marketing met its volume commitment in some months and missed it in others
    assert {m["marketing"]["volume_met"] for m in months} == {True, False}
    assert all(m["marketing"]["acceptance_rate"] for m in months)
    # and the monthly verdicts were recorded as marketing SLA events, as the worker records them
    verdicts = SlaEvent.objects.filter(side="marketing", clock__isnull=True)
    assert verdicts.filter(clock_kind="mql_volume").count() >= 10
    assert {"met", "breached"} <= set(verdicts.values_list("kind", flat=True))


def test_the_closed_loop_report_has_decisions_reasons_rules_and_campaigns(seeded):
    report = handoff_report()
    overall = report["overall"]
    # then nearly every MQL was decided by a recorded handoff decision, most accepted, rejections with reasons
    assert overall["decided"] == HandoffDecision.objects.count() and overall["pending"] <= 10
    assert 0.6 < overall["acceptance_rate"] < 0.9
    assert {"no_budget", "bad_timing", "no_need", "no_authority"} <= set(overall["reasons"])
    assert "(not recorded)" not in overall["reasons"]
    # and scoring rules and campaigns are compared by what sales did with their MQLs
    assert len(report["rules"]) >= 8 and len(report["campaigns"]) >= 10
    rates = [r["acceptance_rate"] for r in report["rules"] if r["mqls"] >= 10]
    assert max(rates) - min(rates) > 0.1
    # and each rejection reached the feedback loop, each recycle-to-nurture has a date
    rejects = HandoffDecision.objects.filter(decision="reject")
    assert FeedbackItem.objects.filter(source="handoff_rejection", kind="rejection_reason").count() == rejects.count()
    assert not HandoffDecision.objects.filter(to_stage="recycled", recycle_until__isnull=True).exists()


def test_recycled_contacts_requalify_and_their_journey_shows_the_loop(seeded):
    again = StageChange.objects.filter(to_stage="mql", from_stage="recycled", contact__isnull=False)
    assert again.count() >= 20
    # then after each recycle-with-a-date the next MQL comes on or after that date (the product's rule)
    for change in again[:30]:
        before = (HandoffDecision.objects.filter(contact_id=change.contact_id, decided_at__lt=change.occurred_at,
                                                 recycle_until__isnull=False).order_by("-decided_at").first())
        if before is not None:
            assert change.occurred_at.date() >= before.recycle_until
        # and it has its own handoff: an assignment and two SLA clocks
        assert Assignment.objects.filter(mql_change=change).count() == 1
        assert SlaClock.objects.filter(mql_change=change).count() == 2
    # and some came back by themselves (campaign-less visits) before qualifying again
    came_back = Touchpoint.objects.filter(contact_id__in=again.values("contact_id"), campaign__isnull=True,
                                          kind="pricing_view", channel__in=["direct", "organic_search"])
    assert came_back.values("contact_id").distinct().count() >= 10
    # and some re-qualified contacts went on to an opportunity
    converted = StageChange.objects.filter(contact_id__in=again.values("contact_id"), to_stage="opportunity")
    assert converted.exists()


def test_briefs_have_talk_tracks_some_signed_some_pending_and_outreach_spreads(seeded):
    briefs = list(brief_list())
    assert len(briefs) >= 8 and all(b.talk_track and b.proof_points for b in briefs)
    signed = [b for b in briefs if brief_signed_off(b)]
    assert 5 <= len(signed) < len(briefs)
    assert all(b.launched_at is not None for b in signed)
    # one brief was changed after sales signed it, so it waits for a new sign-off
    assert any(b.signoffs.exists() and not brief_signed_off(b) for b in briefs)
    assert any(b.comments.exists() for b in briefs)
    # then outreach was written by sellers to contacts, in the simulated year
    assert Outreach.objects.count() >= 100
    assert set(Outreach.objects.values_list("rep__role", flat=True)) == {"sales"}
    assert not Outreach.objects.filter(sent_at__gte=YEAR_END).exists()
    # and the consistency score spreads across campaigns, with one campaign that has outreach but no brief
    rows = campaign_consistency_list()
    scores = [c.score for c in rows if c.score is not None]
    assert len(scores) >= 7 and max(scores) - min(scores) > 0.2
    assert any(not c.has_brief and c.outreach for c in rows)
    # and reps who follow talk tracks more (planted) score higher
    planted = seeded.truth.handoff["sellers"]
    reps = [r for r in rep_consistency_list() if r.outreach >= 5]
    assert len(reps) >= 4
    assert spearmanr([planted[r.rep]["talk_track_adherence"] for r in reps], [r.score for r in reps]).statistic > 0.5


def test_seeded_handoffs_have_the_shape_the_lifecycle_services_write(seeded):
    from smarketing.lifecycle.services_handoff import handoff_reject, mql_qualify

    # given a contact handled by the product's own services at the end of the demo year
    clock.freeze(datetime(2026, 11, 24, 15, tzinfo=UTC))
    person = ContactFactory(account=AccountFactory(region="EMEA"))
    Touchpoint.objects.create(contact=person, account=person.account, campaign=CampaignFactory(), channel="webinar",
                              kind="demo_request", occurred_at=clock.now())
    result = mql_qualify(contact=person)
    assert result.qualified
    owner = result.assignment.owner
    live = handoff_reject(contact=person, user=owner, reason_key="no_budget", note="call next year")
    seeded_rejects = HandoffDecision.objects.filter(decision="reject", reason_key="no_budget").exclude(pk=live.pk)
    seeded_one = seeded_rejects.select_related("mql_change", "stage_change", "decided_by").first()
    # then the MQL stage changes carry the same details and reasons
    for change in (seeded_one.mql_change, live.mql_change):
        assert set(change.details) == {"score", "threshold", "playbook_version"}
        assert set(change.details["score"]) == {"fit", "engagement", "total", "explanation"}
        assert {frozenset(line) for line in change.details["score"]["explanation"]} == {
            frozenset({"rule_id", "description", "points", "count", "source", "playbook_points", "decay", "weight",
                       "summary"})}
        # and each line says the playbook's points, the decay and the points after it in its summary
        for line in change.details["score"]["explanation"]:
            assert line["summary"].startswith(f"{line['description']}: ")
            if line["source"] == "engagement":
                assert line["summary"].startswith(f"{line['description']}: {line['playbook_points']:g} pts × "
                                                  f"{line['count']} × decay ")
                assert line["summary"].endswith(f"= {line['points']:.1f} pts")
        assert re.fullmatch(r"score \d+\.\d ≥ MQL threshold \d+ and entry criteria hold", change.reason)
        assert change.actor_kind == "rule"
    # and the decisions: the stage change, its details pointing at the MQL, the reason, the recycle date
    for d in (seeded_one, live):
        assert d.stage_change.details == {"handoff": "reject", "reason_key": "no_budget",
                                          "note": d.note, "mql_change_id": d.mql_change_id}
        assert d.stage_change.reason.startswith(f"rejected by {d.decided_by.username}: No budget")
        assert d.to_stage == "recycled" and (d.recycle_until - d.decided_at.date()).days == 90
        assert d.assignment.mql_change_id == d.mql_change_id
        assert FeedbackItem.objects.filter(source="handoff_rejection", source_id=f"handoff:{d.pk}").exists()
        # and the clocks: started with the same details, the decision clock resolved by the decision
        clocks = {c.kind: c for c in SlaClock.objects.filter(mql_change_id=d.mql_change_id)}
        assert set(clocks) == {"first_touch", "decision"}
        for c in clocks.values():
            started = c.events.get(kind="started")
            assert set(started.details) == {"assignment_id", "reason_code"}
            assert started.occurred_at == c.started_at == d.mql_change.occurred_at
        assert clocks["decision"].state in ("met", "breached")
        notice = Notification.objects.get(dedupe_key=f"assigned:{d.assignment_id}")
        assert notice.user_id == d.assignment.owner_id and notice.title.startswith("New MQL: ")
    # and a first touch by the owner meets the clock with the same details and the touch it came from
    from smarketing.campaigns.services import touchpoint_record
    from smarketing.lifecycle.services_sla_clocks import first_touch_detect

    other = ContactFactory(account=AccountFactory(region="AMER"))
    Touchpoint.objects.create(contact=other, account=other.account, campaign=CampaignFactory(), channel="webinar",
                              kind="demo_request", occurred_at=clock.now())
    rep = mql_qualify(contact=other).assignment.owner
    touch, _ = touchpoint_record(contact=other, channel="sales", kind="sales_email", occurred_at=clock.now(),
                                 actor=rep)
    live_met = first_touch_detect(touchpoint_id=touch.pk)
    seeded_met = (SlaEvent.objects.filter(clock_kind="first_touch", kind="met", touchpoint__actor__isnull=False)
                  .exclude(pk=live_met.pk).first())
    for met in (live_met, seeded_met):
        assert set(met.details) == {"touchpoint_id", "touch_kind", "touched_by", "actor_id", "actor"}
        assert met.details["touched_by"] == "owner" and met.touchpoint_id == met.details["touchpoint_id"]
        assert met.touchpoint.actor_id == met.owner_id == met.details["actor_id"]
        assert met.touchpoint.occurred_at == met.occurred_at == met.clock.resolved_at


def test_every_page_renders_with_the_demo_company(seeded):
    # given each demo login
    users = {u.role: u for u in User.objects.filter(username__in=[u for u, _ in seeded.logins])}
    briefed = next(b for b in brief_list() if brief_signed_off(b))
    pending = next(b for b in brief_list() if not brief_signed_off(b))
    pages = ["/", "/funnel/", "/handoff/?scope=all", "/campaigns/", "/journeys/", "/feedback/", "/playbook/",
             "/goals/", f"/campaigns/{briefed.campaign_id}/", f"/campaigns/{pending.campaign_id}/"]
    for role, user in users.items():
        client = Client()
        client.force_login(user)
        for path in pages:
            # when they open every page
            response = client.get(path)
            # then it renders
            assert response.status_code == 200, (role, path)
            assert "Traceback" not in response.content.decode()
    client = Client()
    client.force_login(users["sales"])
    assert "signed off by sales" in client.get(f"/campaigns/{briefed.campaign_id}/").content.decode()
    assert "awaiting sales sign-off" in client.get(f"/campaigns/{pending.campaign_id}/").content.decode()
    assert Contact.objects.filter(lifecycle_stage="mql").exists()


def test_seeding_in_several_chunks_links_each_handoff_row_to_its_own_contact(db, monkeypatch):
    from dataclasses import replace

    from django.db.models import F

    from smarketing.demo import simulator

    # given the small company simulated in three chunks (as the larger sizes are)
    monkeypatch.setitem(simulator.SIZES, "small", replace(simulator.SIZES["small"], chunk_accounts=150))
    result = demo_seed(size="small", seed=2)
    assert result.counts["handoff_decisions"] == HandoffDecision.objects.count() > 100
    # then every decision, assignment, clock and event points at stage changes of its own contact
    assert not HandoffDecision.objects.exclude(mql_change__contact_id=F("contact_id")).exists()
    assert not HandoffDecision.objects.exclude(stage_change__contact_id=F("contact_id")).exists()
    assert not HandoffDecision.objects.exclude(assignment__mql_change_id=F("mql_change_id")).exists()
    assert not Assignment.objects.exclude(mql_change__contact_id=F("contact_id")).exists()
    assert not SlaClock.objects.exclude(mql_change__contact_id=F("contact_id")).exists()
    assert not SlaEvent.objects.filter(clock__isnull=False).exclude(clock__contact_id=F("contact_id")).exists()
    # and each first touch that met a clock is the owner's own touch of that contact, at that moment
    met = SlaEvent.objects.filter(clock_kind="first_touch", kind="met")
    assert met.count() > 100
    assert not met.exclude(touchpoint__contact_id=F("contact_id")).exists()
    assert not met.exclude(touchpoint__actor_id=F("owner_id")).exclude(touchpoint__actor__isnull=True).exists()
    assert not met.filter(touchpoint__actor__isnull=True).exclude(details__touched_by="unattributed").exists()
    assert not met.exclude(touchpoint__occurred_at=F("occurred_at")).exists()
    pairs = HandoffDecision.objects.values_list("stage_change__details", "mql_change_id")
    assert all(details["mql_change_id"] == mql for details, mql in pairs)
    # and the product can go on writing history after the seeded ids
    person = ContactFactory(account=AccountFactory())
    from smarketing.lifecycle.services import stage_change_record

    assert stage_change_record(contact=person, to_stage="lead").pk > StageChange.objects.exclude(
        contact=person).order_by("-pk").first().pk


def test_the_revenue_goal_is_a_stretch_on_what_the_company_wins(seeded):
    from django.db.models import Sum

    from smarketing.analytics.queries.goals import GoalsQuery
    from smarketing.analytics.registry import run_query
    from smarketing.crm.models import Opportunity
    from smarketing.playbook.selectors import playbook_active_terms

    # given what the small company won in its simulated year
    won = float(Opportunity.objects.filter(outcome="won").aggregate(v=Sum("amount"))["v"])
    _, terms = playbook_active_terms()
    goals = {g.period: g.revenue for g in terms.goals}
    # when the goals query plans the year from the playbook's goal
    result = run_query(GoalsQuery(period="2026", as_of=AS_OF.date()))
    # then the goal is the v2 year goal, a stretch of 10–18 % over the wins (not the shipped 12 M)
    assert result.revenue == goals["2026"]
    assert 1.10 * won - 10_000 <= result.revenue <= 1.18 * won + 10_000
    # and the quarters keep their share of the year
    assert goals["2026-Q4"] / goals["2026"] == pytest.approx(3.3 / 12, abs=0.001)
    # and revenue pacing reads slightly behind or on pace, not absurd
    revenue = next(p for p in result.pacing if p.stage == "revenue")
    assert revenue.status in {"behind_pace", "on_pace"} and 0.8 <= revenue.pacing <= 1.02
    assert revenue.status == ("on_pace" if revenue.actual_to_date >= revenue.target_to_date else "behind_pace")


def test_a_few_mqls_are_touched_by_someone_else_and_the_queue_flags_it(seeded):
    from smarketing.campaigns.services import touchpoint_record
    from smarketing.lifecycle import sla as sla_rules
    from smarketing.lifecycle.selectors_queue import handoff_queue
    from smarketing.lifecycle.services_handoff import mql_qualify
    from smarketing.lifecycle.services_sla_clocks import first_touch_detect

    # given the seeded year's touches by someone other than the lead's owner
    others = list(SlaEvent.objects.filter(kind="other_touch").select_related("clock", "touchpoint"))
    first_touch_clocks = SlaClock.objects.filter(kind="first_touch").count()
    # then a few percent of the MQLs have one
    assert 0.01 * first_touch_clocks <= len(others) <= 0.08 * first_touch_clocks
    for e in others:
        owner_then = (Assignment.objects.filter(mql_change_id=e.clock.mql_change_id, assigned_at__lte=e.occurred_at)
                      .order_by("-assigned_at", "-id").first().owner_id)
        # and each is a sales touch by another seller, while the owner's first-touch clock was still open
        tp = e.touchpoint
        assert tp.channel == "sales" and tp.kind in {"sales_call", "sales_email"} and tp.contact_id == e.contact_id
        assert tp.actor_id is not None and tp.actor_id != owner_then == e.owner_id == e.clock.owner_id
        assert sla_rules.first_touch_by(actor_id=tp.actor_id, owner_at_touch_id=owner_then) == sla_rules.OTHER_TOUCH
        assert tp.occurred_at == e.occurred_at and e.clock.started_at < e.occurred_at < YEAR_END
        assert e.clock.resolved_at is None or e.occurred_at < e.clock.resolved_at
        # and the clock kept running: a later owner touch (or the deadline) resolved it, not this one
        assert not e.clock.events.filter(kind="met", touchpoint_id=tp.pk).exists()
        assert e.details == {"touchpoint_id": tp.pk, "touch_kind": tp.kind, "touched_by": "someone_else",
                             "actor_id": tp.actor_id, "actor": tp.actor.username, "owner_at_touch_id": owner_then}
    # and the product records a live one the same way
    clock.freeze(datetime(2026, 11, 24, 15, tzinfo=UTC))
    lead = ContactFactory(account=AccountFactory(region="AMER"))
    Touchpoint.objects.create(contact=lead, account=lead.account, campaign=CampaignFactory(), channel="webinar",
                              kind="demo_request", occurred_at=clock.now())
    rep = mql_qualify(contact=lead).assignment.owner
    colleague = User.objects.filter(role="sales").exclude(pk=rep.pk).first()
    touch, _ = touchpoint_record(contact=lead, channel="sales", kind="sales_call", occurred_at=clock.now(),
                                 actor=colleague)
    live = first_touch_detect(touchpoint_id=touch.pk)
    assert live.kind == "other_touch" and set(live.details) == set(others[0].details)
    # and at least one MQL still waiting for a decision at the end of the year shows the flag in the queue
    queue = handoff_queue(now=AS_OF, limit=10_000)
    flagged = [r for r in queue if r["touched_by_others"] and r["contact_id"] != lead.pk]
    assert flagged
    assert all(t["actor_id"] != r["owner_id"] and t["actor"] for r in flagged for t in r["touched_by_others"])
