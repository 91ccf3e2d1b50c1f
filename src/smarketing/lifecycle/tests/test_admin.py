"""Admin actions: accept / reject / recycle selected MQLs, run the SLA check."""

from __future__ import annotations

from datetime import timedelta

from django.test import Client

from smarketing.core import clock
from smarketing.lifecycle.models import HandoffDecision, SlaClock, SlaEvent
from smarketing.lifecycle.services_handoff import mql_qualify

QUEUE = "/admin/lifecycle/mqlawaitingdecision/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_admin_queue_accepts_and_rejects_selected_mqls(users, active_playbook, sellers, now, make_lead):
    leads = [make_lead() for _ in range(3)]
    for lead in leads:
        mql_qualify(contact=lead)
    client = _client(users["revops"])
    page = client.get(QUEUE)
    assert page.status_code == 200 and b"Reject selected MQLs: No budget" in page.content
    client.post(QUEUE, {"action": "accept_selected", "_selected_action": [leads[0].pk]})
    client.post(QUEUE, {"action": "reject_no_need", "_selected_action": [leads[1].pk, leads[2].pk]})
    decisions = dict(HandoffDecision.objects.values_list("contact_id", "decision"))
    assert decisions == {leads[0].pk: "accept", leads[1].pk: "reject", leads[2].pk: "reject"}
    assert set(HandoffDecision.objects.filter(decision="reject").values_list("reason_key", flat=True)) == {"no_need"}
    # decided contacts leave the queue
    assert client.get(QUEUE).context["cl"].result_count == 0


def test_admin_runs_the_sla_check(users, active_playbook, sellers, now, make_lead):
    mql_qualify(contact=make_lead())
    clock.freeze(now + timedelta(hours=5))
    client = _client(users["revops"])
    response = client.post("/admin/lifecycle/slaclock/", {"action": "run_sla_check",
                                                          "_selected_action": [SlaClock.objects.first().pk]},
                           follow=True)
    assert response.status_code == 200 and b"1 breach(es) recorded" in response.content
    assert SlaEvent.objects.filter(kind="breached").count() == 1


def test_admin_shows_sla_status_and_the_closed_loop_report(users, active_playbook, sellers, now, make_lead):
    # given two MQLs, one rejected, and a breach of the other's first-touch clock
    leads = [make_lead() for _ in range(2)]
    for lead in leads:
        mql_qualify(contact=lead)
    client = _client(users["revops"])
    client.post(QUEUE, {"action": "reject_no_need", "_selected_action": [leads[0].pk]})
    clock.freeze(now + timedelta(hours=5))
    client.post("/admin/lifecycle/slaclock/", {"action": "run_sla_check",
                                               "_selected_action": [SlaClock.objects.first().pk]})
    event = SlaEvent.objects.first()
    decision = HandoffDecision.objects.get()
    # when revops asks the admin for SLA status and the closed-loop report
    status = client.post("/admin/lifecycle/slaevent/", {"action": "sla_status", "_selected_action": [event.pk]},
                         follow=True)
    report = client.post("/admin/lifecycle/handoffdecision/",
                         {"action": "closed_loop_report", "_selected_action": [decision.pk]}, follow=True)
    # then both read from the recorded history
    text = status.content.decode()
    assert "open SLA clock(s)" in text and "recent breach(es)" in text
    assert "1 recent breach(es)" in text or "2 recent breach(es)" in text
    report_text = report.content.decode()
    assert "All MQLs: 2, decided 1" in report_text
    assert "no_need" in report_text
