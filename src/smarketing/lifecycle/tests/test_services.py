"""Stage-change writes: a source key records a change once, even when two deliveries race."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import connection, transaction

from smarketing.lifecycle import services
from smarketing.lifecycle.models import StageChange
from smarketing.lifecycle.services import SourceKeyConflict, stage_change_record, stage_change_record_once
from smarketing.testing.factories import AccountFactory, ContactFactory

AT = datetime(2026, 5, 4, 9, 30, tzinfo=UTC)


def _lookup_misses_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """The pre-insert look-up finds nothing, as when another request commits the key just after it ran."""
    real = services._by_source_key
    calls: list[str] = []

    def first_misses(source_key: str) -> Any:
        calls.append(source_key)
        return None if len(calls) == 1 else real(source_key)

    monkeypatch.setattr(services, "_by_source_key", first_misses)


def test_a_key_committed_by_a_racing_request_is_returned_and_the_transaction_goes_on(active_playbook, monkeypatch):
    # given a keyed MQL change, after which the contact moved on to SAL
    contact = ContactFactory()
    first = stage_change_record(contact=contact, to_stage="mql", occurred_at=AT, source_key="evt-1")
    stage_change_record(contact=contact, to_stage="sal")
    _lookup_misses_once(monkeypatch)

    # when the same change arrives and only the database's constraint sees the repeat, inside a caller's transaction
    with transaction.atomic():
        change, created = stage_change_record_once(contact=contact, to_stage="mql", occurred_at=AT,
                                                   source_key="evt-1")
        # then the caller's transaction is still usable (PostgreSQL aborts it without the savepoint)
        later = stage_change_record(contact=contact, to_stage="sql")

    # and the first row comes back, nothing was appended for the repeat and the contact was not moved back
    assert (change.pk, created) == (first.pk, False)
    assert list(StageChange.objects.filter(contact=contact).values_list("to_stage", flat=True)) == [
        "mql", "sal", "sql"]
    assert later.from_stage == "sal"
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "sql"


def test_a_racing_key_with_other_content_is_a_conflict(active_playbook, monkeypatch):
    contact = ContactFactory()
    first = stage_change_record(contact=contact, to_stage="mql", occurred_at=AT, source_key="evt-1")
    _lookup_misses_once(monkeypatch)

    with pytest.raises(SourceKeyConflict) as err:
        stage_change_record_once(contact=contact, to_stage="sal", occurred_at=AT, source_key="evt-1")

    assert (err.value.status, err.value.code, err.value.field) == (409, "source_key_conflict", "to_stage")
    assert err.value.record == f"stage_change:{first.pk}"
    assert StageChange.objects.count() == 1


def test_a_key_used_for_a_contact_conflicts_on_an_account(active_playbook):
    contact, account = ContactFactory(), AccountFactory()
    stage_change_record(contact=contact, to_stage="customer", occurred_at=AT, source_key="evt-1")

    with pytest.raises(SourceKeyConflict) as err:
        stage_change_record_once(account=account, to_stage="customer", occurred_at=AT, source_key="evt-1")

    assert err.value.field == "contact_id"
    assert {d["field"] for d in err.value.details} == {"contact_id", "account_id"}
    account.refresh_from_db()
    assert account.lifecycle_stage == "lead"


def test_the_same_instant_in_another_time_zone_is_a_replay(active_playbook):
    from zoneinfo import ZoneInfo

    contact = ContactFactory()
    first = stage_change_record(contact=contact, to_stage="mql", occurred_at=AT, source_key="evt-1")

    change, created = stage_change_record_once(contact=contact, to_stage="mql", source_key="evt-1",
                                               occurred_at=AT.astimezone(ZoneInfo("America/New_York")))

    assert (change.pk, created) == (first.pk, False)


# Two real connections racing need committed data and row locks: PostgreSQL only (SQLite serialises writers).
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_deliveries_of_one_key_append_one_row(active_playbook) -> None:
    contact: Any = ContactFactory()
    start = threading.Barrier(2)
    results: list[tuple[int, bool]] = []
    errors: list[BaseException] = []

    def deliver() -> None:
        from django.db import connection as thread_connection

        try:
            start.wait(timeout=10)
            change, created = stage_change_record_once(contact=contact, to_stage="mql", occurred_at=AT,
                                                       source_key="evt-race")
            results.append((change.pk, created))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert sorted(created for _, created in results) == [False, True]
    assert len({pk for pk, _ in results}) == 1
    assert StageChange.objects.filter(source_key="evt-race").count() == 1


# ------------------------------------------------------------------------- the playbook version in force

def test_a_backfill_is_stamped_with_the_version_in_force_at_its_time(v1_january_v2_march):
    v1, v2 = v1_january_v2_march
    contact = ContactFactory()
    # when changes dated January 20 and April 2 are recorded today
    january = stage_change_record(contact=contact, to_stage="mql", occurred_at=datetime(2026, 1, 20, tzinfo=UTC))
    april = stage_change_record(contact=contact, to_stage="sal", occurred_at=datetime(2026, 4, 2, tzinfo=UTC))
    today = stage_change_record(contact=contact, to_stage="sql")
    # then each carries the version active at its own time
    assert (january.playbook_version_id, april.playbook_version_id, today.playbook_version_id) == (
        v1.pk, v2.pk, v2.pk)


def test_a_backfill_through_the_api_carries_the_version_in_force_then(api, v1_january_v2_march):
    v1, v2 = v1_january_v2_march
    contact = ContactFactory()
    january = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "mql",
                                              "occurred_at": "2026-01-20T10:00:00Z"})
    april = api.post("/api/stage-changes", {"contact_id": contact.pk, "to_stage": "sal",
                                            "occurred_at": "2026-04-02T10:00:00+02:00"})
    assert (january.status_code, april.status_code) == (201, 201)
    assert (january.json()["playbook_version"], april.json()["playbook_version"]) == (1, 2)
    assert StageChange.objects.get(pk=january.json()["id"]).playbook_version_id == v1.pk
    assert StageChange.objects.get(pk=april.json()["id"]).playbook_version_id == v2.pk


def test_a_backfill_is_checked_against_the_stages_of_the_version_in_force(users, active_playbook):
    # given a version that drops the "sal" stage, activated now, after v1
    import copy

    from smarketing.core import clock
    from smarketing.core.errors import ValidationFailed
    from smarketing.playbook.services import playbook_draft_create, playbook_sign_off

    clock.freeze(datetime(2027, 1, 4, 9, tzinfo=UTC))
    content = copy.deepcopy(active_playbook.content)
    content["stages"] = [s for s in content["stages"] if s["key"] != "sal"]
    for journey in content["ideal_journeys"].values():
        journey[:] = [step for step in journey if step["kind"] != "stage:sal"]
    for terms in content.get("vocabulary", {}).values():  # labels that meant SAL now mean nothing
        for labels in terms.values():
            labels.update({label: None for label, stage in labels.items() if stage == "sal"})
    draft = playbook_draft_create(content=content)
    playbook_sign_off(version=draft, user=users["marketing"])
    playbook_sign_off(version=draft, user=users["sales"])
    contact = ContactFactory()
    # when a SAL change is backfilled to v1's time, it is judged by v1, which defines sal
    old = stage_change_record(contact=contact, to_stage="sal", occurred_at=datetime(2026, 5, 4, tzinfo=UTC))
    assert old.playbook_version_id == active_playbook.pk
    # and a SAL change today is refused by the version in force today
    with pytest.raises(ValidationFailed, match="not defined in playbook v2") as refused:
        stage_change_record(contact=contact, to_stage="sal")
    assert refused.value.field == "to_stage"


def test_a_backfill_older_than_the_history_is_chained_in_time_and_keeps_the_current_stage(active_playbook):
    # given a contact that became an MQL in February and a SAL in April
    contact = ContactFactory()
    stage_change_record(contact=contact, to_stage="mql", occurred_at=datetime(2026, 2, 1, tzinfo=UTC))
    stage_change_record(contact=contact, to_stage="sal", occurred_at=datetime(2026, 4, 1, tzinfo=UTC))
    # when its lead change of January and a recycle of March are posted afterwards
    lead = stage_change_record(contact=contact, to_stage="lead", occurred_at=datetime(2026, 1, 5, tzinfo=UTC))
    recycled = stage_change_record(contact=contact, to_stage="recycled",
                                   occurred_at=datetime(2026, 3, 1, tzinfo=UTC))
    # then each leaves the stage the history had reached at its time, and the contact is still a SAL
    assert (lead.from_stage, recycled.from_stage) == ("", "mql")
    contact.refresh_from_db()
    assert contact.lifecycle_stage == "sal"
    # and a change after the latest moves it, leaving the current stage
    latest = stage_change_record(contact=contact, to_stage="sql", occurred_at=datetime(2026, 5, 1, tzinfo=UTC))
    contact.refresh_from_db()
    assert (latest.from_stage, contact.lifecycle_stage) == ("sal", "sql")
