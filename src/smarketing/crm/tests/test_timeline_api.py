"""The timeline API: GET /api/{contacts,accounts,opportunities}/{id}/timeline, paged, with documented errors."""

from __future__ import annotations

import pytest

from smarketing.crm.timeline import account_timeline


@pytest.fixture
def paths(history) -> dict[str, str]:
    return {"contact": f"/api/contacts/{history['lead'].pk}/timeline",
            "account": f"/api/accounts/{history['account'].pk}/timeline",
            "opportunity": f"/api/opportunities/{history['deal'].pk}/timeline"}


def test_a_viewer_reads_a_contacts_timeline_with_versions_reps_and_records(api, history, active_playbook, paths):
    response = api.get(paths["contact"], role="viewer", limit=100)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["total"], body["limit"], body["offset"]) == (len(body["items"]), 100, 0)
    to_mql = next(i for i in body["items"] if i["kind"] == "stage_change" and i["actor"] == "playbook rule")
    assert to_mql["playbook_version"] == active_playbook.number
    assert to_mql["record"] == {"kind": "contact", "id": history["lead"].pk, "name": "Ada Lovelace"}
    call = next(i for i in body["items"] if i["kind"] == "touchpoint" and i["actor"])
    assert call["actor"] == "emea_a" and call["summary"].startswith("Sales call")
    assert set(body["items"][0]) == {"at", "kind", "summary", "actor", "playbook_version", "record"}


def test_the_api_pages_the_same_history_as_the_selector(api, history, paths):
    whole = account_timeline(account_id=history["account"].pk, limit=100)
    second = api.get(paths["account"], limit=3, offset=3).json()
    assert second["total"] == whole.total
    assert [(i["kind"], i["summary"]) for i in second["items"]] == [(e.kind, e.summary) for e in whole.items[3:6]]


def test_an_opportunitys_timeline_starts_with_its_close(api, history, paths):
    items = api.get(paths["opportunity"]).json()["items"]
    assert items[0]["kind"] == "opportunity_closed"
    assert items[0]["record"] == {"kind": "opportunity", "id": history["deal"].pk, "name": "Acme expansion"}


@pytest.mark.parametrize("kind", ["contact", "account", "opportunity"])
def test_timeline_errors(api, history, paths, kind):
    # no token: 401; a missing record: 404 naming it; a bad page size: 422 naming the field
    assert api.get(paths[kind], role=None).status_code == 401
    missing = api.get(f"/api/{'opportunities' if kind == 'opportunity' else kind + 's'}/999999/timeline")
    assert missing.status_code == 404 and missing.json()["record"] == f"{kind}:999999"
    bad = api.get(paths[kind], limit=0)
    assert bad.status_code == 422 and "limit" in {d["field"] for d in bad.json()["details"]}


def test_the_timeline_operations_document_their_errors(api):
    spec = api.get("/api/openapi.json").json()
    for path in ("/api/contacts/{contact_id}/timeline", "/api/accounts/{account_id}/timeline",
                 "/api/opportunities/{opportunity_id}/timeline"):
        assert {"200", "401", "404", "422"} <= set(spec["paths"][path]["get"]["responses"]), path
