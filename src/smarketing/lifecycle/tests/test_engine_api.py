"""The lifecycle engine API at /api/lifecycle: queue, decisions with roles, SLA, report, notifications, webhooks."""

from __future__ import annotations

from datetime import timedelta

import pytest

from smarketing.core import clock
from smarketing.lifecycle.models import HandoffDecision, Notification
from smarketing.lifecycle.services_handoff import mql_qualify

BASE = "/api/lifecycle"


@pytest.fixture
def mql(active_playbook, sellers, now, make_lead):
    lead = make_lead()
    mql_qualify(contact=lead)
    return lead


def test_queue_shows_the_mql_with_countdowns(api, mql):
    response = api.get(f"{BASE}/handoff/queue", role="viewer")
    assert response.status_code == 200
    [row] = response.json()
    assert row["contact_id"] == mql.pk and row["sla"]["first_touch"]["business_hours_left"] == 4.0
    assert row["sla"]["decision"]["state"] == "open" and row["routing_reason"]


def test_sales_accepts_through_the_api(api, mql):
    response = api.post(f"{BASE}/handoff/{mql.pk}/accept", {"to_stage": "sql", "note": "BANT confirmed"}, role="sales")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["to_stage"] == "sql" and body["decision"] == "accept" and body["playbook_version"] == 1
    # a second decision is a conflict
    again = api.post(f"{BASE}/handoff/{mql.pk}/reject", {"reason_key": "no_need"}, role="sales")
    assert again.status_code == 409 and again.json()["code"] == "conflict"


@pytest.mark.parametrize(("role", "status"), [("marketing", 403), ("viewer", 403), ("revops", 200), ("sales", 200)])
def test_only_sales_and_revops_decide(api, mql, role, status):
    response = api.post(f"{BASE}/handoff/{mql.pk}/reject", {"reason_key": "bad_data", "note": "bounced"}, role=role)
    assert response.status_code == status
    assert HandoffDecision.objects.count() == (1 if status == 200 else 0)


def test_reject_validates_the_reason_against_the_playbook(api, mql):
    response = api.post(f"{BASE}/handoff/{mql.pk}/reject", {"reason_key": "meh"}, role="sales")
    assert response.status_code == 422
    assert response.json()["field"] == "reason_key"
    reasons = api.get(f"{BASE}/handoff/reasons").json()
    assert {"key": "bad_timing", "label": "Timing: not this year", "disposition": "recycled"} in reasons


def test_reasons_and_rejections_follow_the_playbooks_stated_disposition(api, playbook_with, sellers, now, make_lead):
    # given a signed playbook that disqualifies on bad timing
    def restate(data: dict) -> None:
        next(r for r in data["handoff"]["rejection_reasons"] if r["key"] == "bad_timing")["disposition"] = (
            "disqualified")

    playbook_with(restate)
    lead = make_lead()
    mql_qualify(contact=lead)
    # when sales rejects an MQL for bad timing through the API
    response = api.post(f"{BASE}/handoff/{lead.pk}/reject", {"reason_key": "bad_timing"}, role="sales")
    # then it is disqualified, as the reasons endpoint announces
    assert response.status_code == 200, response.json()
    assert response.json()["to_stage"] == "disqualified"
    reasons = api.get(f"{BASE}/handoff/reasons").json()
    assert {"key": "bad_timing", "label": "Timing: not this year", "disposition": "disqualified"} in reasons


def test_recycle_with_a_date_and_unknown_fields_are_refused(api, mql):
    bad = api.post(f"{BASE}/handoff/{mql.pk}/recycle", {"until": "2027-02-01", "colour": "red"}, role="sales")
    assert bad.status_code == 422 and bad.json()["field"] == "colour"
    ok = api.post(f"{BASE}/handoff/{mql.pk}/recycle", {"until": "2027-02-01"}, role="sales")
    assert ok.status_code == 200 and ok.json()["recycle_until"] == "2027-02-01"


def test_qualify_endpoint_explains_why_not(api, active_playbook, sellers, now, make_lead):
    cold = make_lead(qualifies=False)
    body = api.post(f"{BASE}/handoff/{cold.pk}/qualify", {}, role="marketing").json()
    assert body["qualified"] is False and any("threshold" in u for u in body["unmet"])
    assert api.post(f"{BASE}/handoff/999999/qualify", {}, role="marketing").status_code == 404


def test_sla_check_status_compliance_events_and_notifications(api, users, mql, now):
    clock.freeze(now + timedelta(hours=5))
    assert api.post(f"{BASE}/sla/check", {}, role="sales").status_code == 403
    check = api.post(f"{BASE}/sla/check", {}, role="revops")
    assert check.status_code == 200 and check.json()["breached"] == 1
    status = api.get(f"{BASE}/sla/status").json()
    assert status["recent_breaches"][0]["contact_id"] == mql.pk
    compliance = api.get(f"{BASE}/sla/compliance", period="2026-11").json()
    assert compliance["sales"]["overall"]["first_touch"]["breached"] == 1
    assert compliance["marketing"]["mql_volume"] == 1
    assert api.get(f"{BASE}/sla/compliance", period="2026-13").status_code == 422
    events = api.get(f"{BASE}/sla/events", contact_id=mql.pk).json()
    assert {e["kind"] for e in events} == {"started", "breached", "escalated"}
    # revops got the escalation in-app; they can read and clear it
    mine = api.get(f"{BASE}/notifications", role="revops", unread="true").json()
    assert [n["kind"] for n in mine] == ["escalation"]
    read = api.post(f"{BASE}/notifications/{mine[0]['id']}/read", {}, role="revops")
    assert read.status_code == 200 and read.json()["read_at"]
    assert api.post(f"{BASE}/notifications/{mine[0]['id']}/read", {}, role="sales").status_code == 404
    assert Notification.objects.filter(user=users["revops"], read_at__isnull=True).count() == 0


def test_closed_loop_report(api, mql):
    api.post(f"{BASE}/handoff/{mql.pk}/reject", {"reason_key": "no_need"}, role="sales")
    report = api.get(f"{BASE}/handoff/report").json()
    assert report["overall"]["rejected"] == 1
    rule = next(r for r in report["rules"] if r["rule_id"] == "eng-demo-request")
    assert rule["rejection_rate"] == 1.0 and rule["reasons"] == {"no_need": 1}
    assert report["campaigns"][0]["reasons"] == {"no_need": 1}


def test_webhook_crud_is_for_revops(api, active_playbook, receiver):
    body = {"url": receiver.url, "secret": "0123456789abcdef", "event_types": ["sla.breached"]}
    assert api.post(f"{BASE}/webhooks", body, role="sales").status_code == 403
    created = api.post(f"{BASE}/webhooks", body, role="revops")
    assert created.status_code == 201 and "secret" not in created.json()
    wid = created.json()["id"]
    assert api.get(f"{BASE}/webhooks").json()[0]["id"] == wid
    patched = api.patch(f"{BASE}/webhooks/{wid}", {"active": False}, role="revops")
    assert patched.status_code == 200 and patched.json()["active"] is False
    assert api.patch(f"{BASE}/webhooks/{wid}", {"url": "ftp://x"}, role="revops").status_code == 422
    assert api.get(f"{BASE}/webhooks/{wid}/deliveries").json() == []
    api.patch(f"{BASE}/webhooks/{wid}", {"active": True}, role="revops")
    ping = api.post(f"{BASE}/webhooks/{wid}/ping", {}, role="revops").json()
    assert ping["status"] == "delivered" and ping["last_status_code"] == 200
    assert receiver.requests[-1]["headers"]["X-Smarketing-Event"] == "ping"
    assert len(api.get(f"{BASE}/webhooks/{wid}/deliveries").json()) == 1
    assert api.delete(f"{BASE}/webhooks/{wid}", role="revops").status_code == 204
    assert api.get(f"{BASE}/webhooks/{wid}").status_code == 404
