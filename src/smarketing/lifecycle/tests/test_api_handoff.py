"""The handoff API at /api/lifecycle/handoff: queue, decisions with roles, reasons, qualification, closed-loop report."""

from __future__ import annotations

import pytest

from smarketing.lifecycle.models import HandoffDecision
from smarketing.lifecycle.services_handoff import mql_qualify

BASE = "/api/lifecycle"


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


def test_closed_loop_report(api, mql):
    api.post(f"{BASE}/handoff/{mql.pk}/reject", {"reason_key": "no_need"}, role="sales")
    report = api.get(f"{BASE}/handoff/report").json()
    assert report["overall"]["rejected"] == 1
    rule = next(r for r in report["rules"] if r["rule_id"] == "eng-demo-request")
    assert rule["rejection_rate"] == 1.0 and rule["reasons"] == {"no_need": 1}
    assert report["campaigns"][0]["reasons"] == {"no_need": 1}
