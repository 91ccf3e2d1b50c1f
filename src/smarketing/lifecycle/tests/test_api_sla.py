"""The SLA API at /api/lifecycle: the check, status, compliance, events and in-app notifications."""

from __future__ import annotations

from datetime import timedelta

from smarketing.core import clock
from smarketing.lifecycle.models import Notification

BASE = "/api/lifecycle"


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
