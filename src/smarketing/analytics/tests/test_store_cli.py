"""`smarketing store status | sync | rebuild` and the funnel's as-of stamp, through the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from smarketing.analytics.store.layout import configured_lake
from smarketing.testing.factories import ContactFactory, TouchpointFactory

T0 = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)


def run_cli(args: list[str]) -> int:
    from smarketing.cli import main

    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture
def lake(settings, tmp_path):
    settings.SMARKETING = {**settings.SMARKETING, "LAKE_URL": str(tmp_path / "lake"), "ANALYTICS_STORE": "lake"}
    return configured_lake()


def _status(capsys) -> dict[str, dict]:
    capsys.readouterr()
    assert run_cli(["store", "status", "--json"]) == 0
    return {row["table"]: row for row in json.loads(capsys.readouterr().out)}


@pytest.mark.django_db(transaction=True)
def test_status_sync_and_rebuild(lake, capsys):
    contact = ContactFactory()
    for i in range(3):
        TouchpointFactory(contact=contact, occurred_at=T0 + timedelta(days=35 * i))
    # given a store never caught up, status says how far behind each table is
    before = _status(capsys)
    assert before["touchpoints"]["behind"] == 3 and before["touchpoints"]["lake_rows"] == 0
    assert before["contacts"]["behind"] == 1 and before["touchpoints"]["synced_at"] is None
    # when it syncs, it copies them and says as of when
    assert run_cli(["store", "sync", "--json"]) == 0
    synced = json.loads(capsys.readouterr().out)
    assert synced["copied"]["touchpoints"] == 3 and synced["copied"]["contacts"] == 1 and synced["as_of"]
    after = _status(capsys)
    assert after["touchpoints"] == {**after["touchpoints"], "lake_rows": 3, "database_rows": 3, "behind": 0,
                                    "files": 3, "drift": False}
    # and a second sync copies nothing
    assert run_cli(["store", "sync", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows_copied"] == 0
    # when a history row is deleted behind the store's back, status flags drift and rebuild repairs it
    from smarketing.campaigns.models import Touchpoint

    Touchpoint.objects.filter(pk=Touchpoint.objects.order_by("id").first().pk).delete()  # type: ignore[union-attr]
    assert _status(capsys)["touchpoints"]["drift"] is True
    assert run_cli(["store", "rebuild"]) == 0
    out = capsys.readouterr().out
    assert "rebuilt:" in out and "rows/s" in out
    repaired = _status(capsys)["touchpoints"]
    assert repaired["lake_rows"] == 2 and repaired["drift"] is False


@pytest.mark.django_db(transaction=True)
def test_funnel_json_says_as_of_when_its_data_was_complete(lake, capsys, active_playbook):
    from smarketing.lifecycle.services import stage_change_record

    contact = ContactFactory()
    stage_change_record(contact=contact, to_stage="mql", occurred_at=T0)
    before = datetime.now(UTC)
    assert run_cli(["funnel", "--from", "mql", "--to", "customer", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"]["entered"] == 1
    assert before <= datetime.fromisoformat(result["data_as_of"]) <= datetime.now(UTC)
