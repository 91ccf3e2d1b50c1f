"""RevOps corrects a bad history row: a recorded, append-only reversal (who and why), never an in-place edit.
The corrected stage change or touchpoint stays, marked, and drops out of the figures; RevOps only; once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.analytics.datasets import load_from_django
from smarketing.campaigns.models import Touchpoint, TouchpointCorrection
from smarketing.core import clock
from smarketing.core.errors import PermissionDenied
from smarketing.lifecycle.models import StageChange, StageChangeCorrection
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_corrections import stage_change_correct
from smarketing.testing.factories import ContactFactory, TouchpointFactory

AT = datetime(2026, 10, 6, 14, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 15, tzinfo=UTC)


def _mqls_entered(api: Any) -> float:
    body = api.get("/api/metrics", period="2026-10", name="mqls_entered").json()
    [measure] = [m for m in body["measures"] if m["name"] == "mqls_entered"]
    return float(measure["value"])


def test_a_corrected_stage_change_drops_out_of_the_figures_and_the_contact_goes_back(api, active_playbook):
    # given two contacts that became MQLs in October, one of them by mistake
    clock.freeze(NOW)
    right: Any = ContactFactory()
    wrong: Any = ContactFactory()
    stage_change_record(contact=right, to_stage="mql", occurred_at=AT)
    mistake = stage_change_record(contact=wrong, to_stage="mql", occurred_at=AT)
    assert _mqls_entered(api) == 2

    # when RevOps corrects the mistaken change, saying why
    response = api.post(f"/api/stage-changes/{mistake.pk}/correction", {"reason": "wrong contact merged in"})

    # then the correction is recorded with who and why, the change itself is untouched
    assert response.status_code == 201
    body = response.json()
    assert (body["record"], body["reason"], body["corrected_by_username"]) == (
        f"stage_change:{mistake.pk}", "wrong contact merged in", "revops1")
    assert StageChange.objects.filter(pk=mistake.pk, to_stage="mql").exists()
    # and it counts no more; the contact is back in the stage it was in before
    assert _mqls_entered(api) == 1
    assert mistake.pk not in set(load_from_django("stage_changes").table.column("id").to_pylist())
    wrong.refresh_from_db()
    assert wrong.lifecycle_stage == "lead"
    # and the contact may now move to MQL for real
    assert stage_change_record(contact=wrong, to_stage="mql", occurred_at=NOW).from_stage == "lead"


def test_a_corrected_touchpoint_drops_out_of_the_touchpoint_dataset(api, active_playbook):
    kept: Any = TouchpointFactory(occurred_at=AT)
    bad: Any = TouchpointFactory(occurred_at=AT, value=1_000_000)

    response = api.post(f"/api/touchpoints/{bad.pk}/correction", {"reason": "test data from the sandbox"})

    assert response.status_code == 201 and response.json()["record"] == f"touchpoint:{bad.pk}"
    ids = set(load_from_django("touchpoints").table.column("id").to_pylist())
    assert kept.pk in ids and bad.pk not in ids
    assert Touchpoint.objects.filter(pk=bad.pk).exists()


@pytest.mark.parametrize("role", ["sales", "marketing"])
def test_only_revops_correct_history(api, active_playbook, role):
    contact: Any = ContactFactory()
    change = stage_change_record(contact=contact, to_stage="mql", occurred_at=AT)

    response = api.post(f"/api/stage-changes/{change.pk}/correction", {"reason": "I do not like it"}, role=role)

    assert response.status_code == 403
    assert not StageChangeCorrection.objects.exists()


def test_a_row_is_corrected_once_with_a_reason_and_must_exist(api, active_playbook):
    tp: Any = TouchpointFactory(occurred_at=AT)

    short = api.post(f"/api/touchpoints/{tp.pk}/correction", {"reason": "x"})
    first = api.post(f"/api/touchpoints/{tp.pk}/correction", {"reason": "duplicate of a CRM sync"})
    again = api.post(f"/api/touchpoints/{tp.pk}/correction", {"reason": "duplicate of a CRM sync"})
    missing = api.post("/api/touchpoints/999999/correction", {"reason": "does not exist"})

    assert short.status_code == 422 and short.json()["field"] == "reason"
    assert first.status_code == 201
    assert again.status_code == 409 and "already corrected by revops1" in again.json()["message"]
    assert missing.status_code == 404
    assert TouchpointCorrection.objects.count() == 1


def test_a_correction_is_never_edited(users, active_playbook):
    contact: Any = ContactFactory()
    change = stage_change_record(contact=contact, to_stage="mql", occurred_at=AT)
    correction = stage_change_correct(stage_change_id=change.pk, reason="wrong import file",
                                      corrected_by=users["revops"])

    correction.reason = "something else"
    with pytest.raises(TypeError, match="append-only"):
        correction.save()
    with pytest.raises(PermissionDenied):
        stage_change_correct(stage_change_id=change.pk, reason="wrong import file", corrected_by=users["viewer"])


def test_the_cli_corrects_a_stage_change_and_a_touchpoint(users, active_playbook):
    from smarketing.cli import build_app

    contact: Any = ContactFactory()
    change = stage_change_record(contact=contact, to_stage="mql", occurred_at=AT)
    tp: Any = TouchpointFactory(occurred_at=AT)
    runner = CliRunner()

    out1 = runner.invoke(build_app(), ["correct", "stage-change", str(change.pk), "--reason", "typo in the date",
                                       "--as", "revops1"])
    out2 = runner.invoke(build_app(), ["correct", "touchpoint", str(tp.pk), "--reason", "bot click",
                                       "--as", "revops1"])
    refused = runner.invoke(build_app(), ["correct", "touchpoint", str(tp.pk), "--reason", "bot click",
                                          "--as", "sales1"])

    assert out1.exit_code == 0 and f"stage change {change.pk} corrected by revops1" in out1.output
    assert out2.exit_code == 0 and f"touchpoint {tp.pk} corrected by revops1" in out2.output
    assert refused.exit_code != 0 and "only RevOps correct history" in str(refused.exception)
    assert StageChangeCorrection.objects.get().corrected_by == users["revops"]


@pytest.mark.django_db(transaction=True)
def test_the_history_store_leaves_corrected_rows_out_too(settings, tmp_path, users):
    import duckdb

    from smarketing.analytics.store import reader
    from smarketing.analytics.store.layout import TABLES, configured_lake, manifest_read
    from smarketing.analytics.store.sync import store_catch_up
    from smarketing.campaigns.services import touchpoint_correct

    # given a lake caught up with two touchpoints, then one of them corrected and the lake caught up again
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    kept: Any = TouchpointFactory(occurred_at=AT)
    bad: Any = TouchpointFactory(occurred_at=AT)
    store_catch_up()
    touchpoint_correct(touchpoint_id=bad.pk, reason="bot traffic", corrected_by=users["revops"])
    store_catch_up()

    # when DuckDB reads the touchpoints dataset from the lake
    lake = configured_lake()
    manifests = {name: manifest_read(lake, name) for name in TABLES}
    con = duckdb.connect()
    ids = {row[0] for row in con.execute(f"SELECT id FROM ({reader.dataset_sql(con, 'touchpoints', lake, manifests)})")
           .fetchall()}

    # then the corrected one is not there
    assert ids == {kept.pk}
