"""The webhook endpoints API at /api/lifecycle/webhooks (revops only)."""

from __future__ import annotations

BASE = "/api/lifecycle"


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
