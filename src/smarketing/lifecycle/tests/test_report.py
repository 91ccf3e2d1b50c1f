"""The closed-loop report per scoring rule and per campaign, from handoff decisions and from plain history."""

from __future__ import annotations

from datetime import timedelta

from smarketing.campaigns.models import Touchpoint
from smarketing.lifecycle.selectors_report import handoff_report
from smarketing.lifecycle.selectors_sla import sla_compliance
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_recycle, handoff_reject, mql_qualify
from smarketing.testing.factories import CampaignFactory, ContactFactory


def test_rules_and_campaigns_that_produce_rejected_leads_stand_out(active_playbook, sellers, now, make_lead):
    # given webinar leads that sales accepts and paid-social leads (free-mail students) that sales rejects
    webinar, social, late = CampaignFactory(name="Webinar"), CampaignFactory(name="Paid social"), CampaignFactory()
    good = [make_lead(campaign=webinar) for _ in range(3)]
    bad = [make_lead(campaign=social, email=f"student{i}@gmail.example") for i in range(2)]
    for lead in good + bad:
        mql_qualify(contact=lead)
    # a campaign touch after the MQL does not count for that campaign
    Touchpoint.objects.create(contact=good[0], account=good[0].account, campaign=late, channel="email",
                              kind="email_click", occurred_at=now + timedelta(hours=1))
    manager = sellers["emea_a"].manager  # the sellers' manager decides on any of their MQLs
    for lead in good[:2]:
        handoff_accept(contact=lead, user=manager)
    handoff_recycle(contact=good[2], user=manager)
    for lead in bad:
        handoff_reject(contact=lead, user=manager, reason_key="student_or_job_seeker")

    report = handoff_report()
    # then per rule: the free-mail fit rule only fired on rejected leads
    rules = {r["rule_id"]: r for r in report["rules"]}
    assert rules["fit-free-email"]["mqls"] == 2 and rules["fit-free-email"]["rejection_rate"] == 1.0
    assert rules["fit-free-email"]["reasons"] == {"student_or_job_seeker": 2}
    assert rules["fit-free-email"]["avg_points"] == -10
    assert rules["eng-demo-request"]["mqls"] == 5 and rules["eng-demo-request"]["acceptance_rate"] == 0.4
    assert report["rules"][0]["rule_id"] == "fit-free-email"  # worst first
    # and per campaign
    campaigns = {r["campaign"]: r for r in report["campaigns"]}
    assert (campaigns["Webinar"]["accepted"], campaigns["Webinar"]["recycled"]) == (2, 1)
    assert campaigns["Paid social"]["rejection_rate"] == 1.0
    assert late.name not in campaigns
    assert report["overall"] == {"mqls": 5, "decided": 5, "pending": 0, "accepted": 2, "rejected": 2,
                                 "recycled": 1, "acceptance_rate": 0.4, "rejection_rate": 0.6,
                                 "reasons": {"student_or_job_seeker": 2, "(not recorded)": 1}}


def test_imported_history_without_decisions_counts_by_the_next_stage(active_playbook, sellers, now):
    # given MQLs recorded by an import, followed by sal / disqualified / nothing yet
    people = [ContactFactory() for _ in range(3)]
    for person in people:
        stage_change_record(contact=person, to_stage="mql", occurred_at=now, actor_kind="import")
    stage_change_record(contact=people[0], to_stage="sal", occurred_at=now + timedelta(days=1), actor_kind="import")
    stage_change_record(contact=people[1], to_stage="disqualified", occurred_at=now + timedelta(days=1),
                        actor_kind="import")
    # then the report and marketing's acceptance rate use those outcomes
    overall = handoff_report()["overall"]
    assert (overall["accepted"], overall["rejected"], overall["pending"]) == (1, 1, 1)
    marketing = sla_compliance(period_key="2026-11", now=now)["marketing"]
    assert (marketing["mql_volume"], marketing["acceptance_rate"]) == (3, 0.5)
