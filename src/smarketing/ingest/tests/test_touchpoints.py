"""The touchpoints CSV import: the rep by username or email, all-or-nothing, idempotent, errors naming line and column."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from smarketing.campaigns.models import Touchpoint
from smarketing.cli import build_app, main
from smarketing.core.errors import ValidationFailed
from smarketing.ingest.touchpoints import touchpoints_import
from smarketing.testing.csvfiles import csv_write
from smarketing.testing.factories import CampaignFactory, ContactFactory, UserFactory

HEADER = ["contact_id", "contact_email", "channel", "kind", "occurred_at", "actor", "campaign_id", "value", "source_id"]


def write(path: Path, rows: list[dict[str, object]], header: list[str] = HEADER) -> Path:
    return csv_write(path, rows, header)


def call(**row: object) -> dict[str, object]:
    return {"channel": "sales", "kind": "sales_call", "occurred_at": "2026-11-24T16:00:00Z", **row}


@pytest.fixture
def people(db):
    return {"ana": UserFactory(username="ana", email="Ana.Reyes@example.com", role="sales"),
            "ben": UserFactory(username="ben", email="ben@example.com", role="sales"),
            "lead": ContactFactory(email="jo@customer.test"), "other": ContactFactory()}


def test_rows_name_their_rep_by_username_or_email(people, tmp_path):
    # given a dialer export: a call by username, an email by (differently cased) email, a meeting with no rep
    campaign = CampaignFactory()
    path = write(tmp_path / "calls.csv", [
        call(contact_id=people["lead"].pk, actor="ben", source_id="c-1"),
        call(contact_email="JO@customer.test", kind="sales_email", actor="ana.reyes@example.com", source_id="c-2",
             occurred_at="2026-11-24T17:00:00+01:00", campaign_id=campaign.pk, value="12.5"),
        call(contact_id=people["other"].pk, kind="meeting", source_id="c-3"),
    ])
    # when it is imported
    result = touchpoints_import(path=path, source="dialer")
    # then each touchpoint names its rep (or none), on the contact's account
    assert result.as_dict() == {"rows": 3, "created": 3, "skipped": 0}
    rows = {t.source_id: t for t in Touchpoint.objects.filter(source="dialer")}
    assert (rows["c-1"].actor, rows["c-2"].actor, rows["c-3"].actor) == (people["ben"], people["ana"], None)
    assert rows["c-2"].contact == people["lead"] and rows["c-2"].account_id == people["lead"].account_id
    assert rows["c-2"].occurred_at == datetime(2026, 11, 24, 16, tzinfo=UTC)
    assert (rows["c-2"].campaign, rows["c-2"].value) == (campaign, Decimal("12.50"))


def test_a_username_wins_over_another_users_email(people, tmp_path):
    UserFactory(username="ana.reyes@example.com", email="someone@example.com")
    path = write(tmp_path / "t.csv", [call(contact_id=people["lead"].pk, actor="ana.reyes@example.com")])
    touchpoints_import(path=path)
    assert Touchpoint.objects.get().actor.username == "ana.reyes@example.com"


@pytest.mark.parametrize("with_source_ids", [True, False])
def test_importing_the_same_file_again_adds_nothing(people, tmp_path, with_source_ids):
    rows = [call(contact_id=people["lead"].pk, actor="ben", occurred_at=f"2026-11-2{d}T16:00:00Z",
                 source_id=f"c-{d}" if with_source_ids else "") for d in (3, 4)]
    path = write(tmp_path / "t.csv", rows)
    first = touchpoints_import(path=path)
    again = touchpoints_import(path=path)
    assert (first.created, again.created, again.skipped) == (2, 0, 2)
    assert Touchpoint.objects.count() == 2


def test_an_unknown_rep_is_an_error_naming_the_line_and_column_and_nothing_is_written(people, tmp_path):
    path = write(tmp_path / "t.csv", [call(contact_id=people["lead"].pk, actor="ben", source_id="ok"),
                                      call(contact_id=people["lead"].pk, actor="zed@example.com", source_id="bad")])
    with pytest.raises(ValidationFailed) as err:
        touchpoints_import(path=path)
    assert err.value.field == "actor" and err.value.record == "t.csv:line 3"
    assert "line 3, column 'actor': no user has the username or email 'zed@example.com'" in err.value.message
    assert "nothing was imported" in err.value.message
    assert Touchpoint.objects.count() == 0


def test_an_email_shared_by_two_users_is_ambiguous(people, tmp_path):
    UserFactory(username="ben2", email="BEN@example.com")
    path = write(tmp_path / "t.csv", [call(contact_id=people["lead"].pk, actor="ben@example.com")])
    with pytest.raises(ValidationFailed) as err:
        touchpoints_import(path=path)
    assert err.value.field == "actor" and "belongs to 2 users; use the username" in err.value.message


def test_every_problem_is_reported_at_once(people, tmp_path):
    path = write(tmp_path / "t.csv", [
        call(contact_id=999999),
        call(contact_email="nobody@x.test", kind="telepathy"),
        call(contact_id=people["lead"].pk, occurred_at="2026-11-24T16:00:00", campaign_id=999999, value="lots"),
        call(contact_id=people["lead"].pk, source_id="dup"),
        call(contact_id=people["other"].pk, source_id="dup"),
    ])
    with pytest.raises(ValidationFailed) as err:
        touchpoints_import(path=path)
    found = {(d["field"], d["message"].split(",")[0]) for d in err.value.details}
    assert found == {("contact_id", "line 2"), ("contact_email", "line 3"), ("kind", "line 3"),
                     ("occurred_at", "line 4"), ("campaign_id", "line 4"), ("value", "line 4"),
                     ("source_id", "line 6")}
    assert "'dup' repeats line 5" in err.value.message
    assert Touchpoint.objects.count() == 0


def test_a_missing_column_is_named(db, tmp_path):
    path = write(tmp_path / "t.csv", [{"contact_id": 1, "kind": "sales_call"}], header=["contact_id", "kind"])
    with pytest.raises(ValidationFailed) as err:
        touchpoints_import(path=path)
    assert {d["field"] for d in err.value.details} == {"channel", "occurred_at"}


def test_cli_imports_and_prints_errors_without_a_traceback(people, tmp_path, capsys):
    good = write(tmp_path / "good.csv", [call(contact_id=people["lead"].pk, actor="ana", source_id="c-1")])
    result = CliRunner().invoke(build_app(), ["import", "touchpoints", str(good), "--source", "dialer", "--json"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output.strip().splitlines()[-1]) == {"rows": 1, "created": 1, "skipped": 0}
    bad = write(tmp_path / "bad.csv", [call(contact_id=people["lead"].pk, actor="nobody")])
    with pytest.raises(SystemExit) as exc:
        main(["import", "touchpoints", str(bad)])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "line 2, column 'actor': no user has the username or email 'nobody'" in err and "Traceback" not in err
