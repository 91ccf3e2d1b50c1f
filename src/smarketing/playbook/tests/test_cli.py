"""`smarketing playbook …` run in-process against the test database, as a user would type it."""

from __future__ import annotations

import copy
import json

import pytest
import yaml

from smarketing.cli import main
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.selectors import default_playbook_data


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI; returns (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out, captured.err


def write_playbook(tmp_path, mutate=None, name: str = "playbook.yaml"):
    data = copy.deepcopy(default_playbook_data())
    if mutate:
        mutate(data)
    path = tmp_path / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def threshold_70(d: dict) -> None:
    d["scoring"]["mql_threshold"] = 70


def test_show_prints_a_readable_summary(capsys, active_playbook):
    code, out, _ = run(capsys, "playbook", "show")

    assert code == 0
    assert "playbook v1 (active, bootstrap default)" in out
    for expected in ("Stages (8):", "mql ", "entry: score.total >= 60 and score.fit >= 10",
                     "MQL threshold 60", "fit-industry", "eng-demo-request", "Routing: account owner first",
                     "route-enterprise", "→ Enterprise", "first touch within 4 business hours",
                     "120 MQLs per month", "Goals:", "2026-Q4", "USD 3,300,000"):
        assert expected in out, expected
    assert "marketing  not signed" in out and "sales      not signed" in out


def test_show_json_is_the_version_with_content(capsys, active_playbook):
    code, out, _ = run(capsys, "playbook", "show", "--json")

    assert code == 0
    body = json.loads(out)
    assert body["number"] == 1 and body["status"] == "active"
    assert body["content"] == active_playbook.content
    assert set(body["signoff"]) == {"marketing", "sales"}


def test_show_a_missing_version_exits_2_without_traceback(capsys, active_playbook):
    code, out, err = run(capsys, "playbook", "show", "--version", "9")

    assert code == 2
    assert "playbook version 9 does not exist" in err
    assert "Traceback" not in out + err


def test_show_without_an_active_playbook_says_how_to_get_one(capsys, db):
    code, _, err = run(capsys, "playbook", "show")

    assert code == 2
    assert "no active playbook" in err and "playbook import" in err


def test_export_to_stdout_and_to_a_file(capsys, tmp_path, active_playbook):
    code, out, _ = run(capsys, "playbook", "export")
    target = tmp_path / "out.yaml"
    code_file, _, err = run(capsys, "playbook", "export", "--version", "1", "-o", str(target))

    assert (code, code_file) == (0, 0)
    assert yaml.safe_load(out) == active_playbook.content
    assert target.read_text(encoding="utf-8") == out
    assert str(target) in err


def test_import_creates_a_draft_and_reports_changes(capsys, tmp_path, active_playbook):
    path = write_playbook(tmp_path, threshold_70)

    code, out, _ = run(capsys, "playbook", "import", str(path), "--notes", "stricter MQL")

    assert code == 0
    assert "created draft v2" in out
    assert "1 change(s) from active v1" in out
    draft = PlaybookVersion.objects.get(number=2)
    assert (draft.status, draft.notes, draft.based_on_id) == ("draft", "stricter MQL", active_playbook.pk)
    assert draft.content["scoring"]["mql_threshold"] == 70


def test_import_of_an_invalid_file_prints_every_bad_field_exits_2_and_writes_nothing(capsys, tmp_path,
                                                                                     active_playbook):
    def break_three(d: dict) -> None:
        d["scoring"]["mql_threshold"] = -5
        d["stages"][1]["entry_criteria"][0]["field"] = "salary"
        d["handoff"]["rejection_reasons"] = []

    path = write_playbook(tmp_path, break_three, "broken.yaml")

    code, out, err = run(capsys, "playbook", "import", str(path))

    assert code == 2
    assert "broken.yaml is not a valid playbook (3 problems)" in err
    for field in ("scoring.mql_threshold", "stages.1.entry_criteria.0.field", "handoff.rejection_reasons"):
        assert f"  {field}: " in err, field
    assert "Traceback" not in out + err
    assert PlaybookVersion.objects.count() == 1


@pytest.mark.parametrize(("content", "expected"), [
    ("name: [unclosed\n", "line 2"),
    ("just a string\n", "(root)"),
])
def test_import_of_unreadable_yaml_exits_2(capsys, tmp_path, active_playbook, content, expected):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")

    code, _, err = run(capsys, "playbook", "import", str(path))

    assert code == 2
    assert expected in err
    assert PlaybookVersion.objects.count() == 1


def test_import_of_a_missing_file_exits_2(capsys, tmp_path, active_playbook):
    code, _, err = run(capsys, "playbook", "import", str(tmp_path / "nope.yaml"))

    assert code == 2
    assert "cannot read" in err and "nope.yaml" in err


def test_signoff_by_both_sides_activates_the_draft(capsys, tmp_path, users, active_playbook):
    run(capsys, "playbook", "import", str(write_playbook(tmp_path, threshold_70)))

    code_m, out_m, _ = run(capsys, "playbook", "signoff", "2", "--as", "marketing1", "--comment", "ok")
    code_s, out_s, _ = run(capsys, "playbook", "signoff", "2", "--as", "sales1")

    assert (code_m, code_s) == (0, 0)
    assert "waiting for: sales" in out_m
    assert "v2 is now active" in out_s
    assert PlaybookVersion.objects.get(number=2).status == "active"
    _, shown, _ = run(capsys, "playbook", "show")
    assert "signed by marketing1" in shown and "— ok" in shown and "signed by sales1" in shown


@pytest.mark.parametrize(("username", "message"), [
    ("revops1", "only marketing and sales users sign off"),
    ("viewer1", "only marketing and sales users sign off"),
    ("nobody", "user 'nobody' does not exist"),
])
def test_signoff_refusals_exit_2(capsys, tmp_path, users, active_playbook, username, message):
    run(capsys, "playbook", "import", str(write_playbook(tmp_path, threshold_70)))

    code, _, err = run(capsys, "playbook", "signoff", "2", "--as", username)

    assert code == 2
    assert message in err
    assert PlaybookVersion.objects.get(number=2).signoffs.count() == 0


def test_signoff_of_the_active_version_exits_2(capsys, users, active_playbook):
    code, _, err = run(capsys, "playbook", "signoff", "1", "--as", "sales1")

    assert code == 2
    assert "only drafts can be signed off" in err


def test_diff_lists_changed_terms(capsys, tmp_path, active_playbook):
    def changes(d: dict) -> None:
        d["scoring"]["mql_threshold"] = 70
        d["routing"]["rules"].reverse()

    run(capsys, "playbook", "import", str(write_playbook(tmp_path, changes)))

    code, out, _ = run(capsys, "playbook", "diff", "1", "2")
    code_u, unified, _ = run(capsys, "playbook", "diff", "1", "2", "--unified")

    assert (code, code_u) == (0, 0)
    assert "v1 → v2: 2 change(s)" in out
    assert "~ scoring.mql_threshold: 60.0 → 70.0" in out
    assert "routing.rules (order)" in out
    assert unified.startswith("--- v1\n+++ v2")
    assert "+  mql_threshold: 70.0" in unified


def test_list_shows_versions_with_status_and_signers(capsys, tmp_path, users, active_playbook):
    run(capsys, "playbook", "import", str(write_playbook(tmp_path, threshold_70)), "--notes", "stricter")
    run(capsys, "playbook", "signoff", "2", "--as", "sales1")

    code, out, _ = run(capsys, "playbook", "list")

    lines = out.splitlines()
    assert code == 0
    assert lines[0].startswith("v2") and "draft" in lines[0] and "sales: sales1" in lines[0]
    assert "marketing: —" in lines[0] and "stricter" in lines[0]
    assert lines[1].startswith("v1") and "active" in lines[1]
