"""`smarketing handoff|sla|webhook …` commands against the real database."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from smarketing.cli import build_app, main
from smarketing.core import clock
from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.models import SlaEvent, WebhookEndpoint
from smarketing.lifecycle.services_handoff import mql_qualify

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(build_app(), list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_qualify_queue_accept_and_report(active_playbook, sellers, now, make_lead):
    lead = make_lead()
    out = json.loads(run("handoff", "qualify", str(lead.pk), "--json"))
    assert out["qualified"] and out["assigned_to"] in ("emea_a", "emea_b")
    queue = json.loads(run("handoff", "queue", "--json"))
    assert [r["contact_id"] for r in queue] == [lead.pk] and "first_touch" in queue[0]["sla"]
    accepted = json.loads(run("handoff", "accept", str(lead.pk), "--json"))
    assert accepted["to_stage"] == Stage.SAL and accepted["decided_by"] == out["assigned_to"]
    report = json.loads(run("handoff", "report", "--json"))
    assert report["overall"]["accepted"] == 1
    assert {r["rule_id"] for r in report["rules"]} >= {"fit-decision-maker", "eng-demo-request"}


def test_reject_and_recycle_from_the_command_line(active_playbook, sellers, users, now, make_lead):
    first, second = make_lead(), make_lead()
    mql_qualify(contact=first)
    mql_qualify(contact=second)
    assert "→ disqualified" in run("handoff", "reject", str(first.pk), "--reason", "no_need", "--note", "tiny team")
    out = json.loads(run("handoff", "recycle", str(second.pk), "--until", "2027-03-01", "--as", "revops1", "--json"))
    assert out["recycle_until"] == "2027-03-01" and out["decided_by"] == "revops1"


def test_domain_errors_print_without_traceback(active_playbook, sellers, now, make_lead, capsys):
    lead = make_lead()
    mql_qualify(contact=lead)
    with pytest.raises(SystemExit) as exc:
        main(["handoff", "reject", str(lead.pk), "--reason", "nope"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "rejection reason 'nope' is not in the playbook" in err and "Traceback" not in err


def test_sla_check_status_and_webhook_add(active_playbook, sellers, now, make_lead, receiver):
    run("webhook", "add", receiver.url, "--secret", "0123456789abcdef")
    assert WebhookEndpoint.objects.get().url == receiver.url
    mql_qualify(contact=make_lead())
    clock.freeze(now + timedelta(hours=6))
    out = json.loads(run("sla", "check", "--json"))
    assert out["breached"] == 1 and out["webhooks_delivered"] == 1 and len(receiver.requests) == 1
    assert SlaEvent.objects.filter(kind="breached").count() == 1
    status = json.loads(run("sla", "status", "--json"))
    assert status["compliance"]["sales"]["overall"]["first_touch"]["breached"] == 1
    assert status["recent_breaches"][0]["clock_kind"] == "first_touch"
    assert "first_touch" in run("sla", "status")
    assert "breached: first_touch" in run("sla", "status")
    listed = json.loads(run("webhook", "list", "--json"))
    assert listed[0]["delivered"] == 1
    assert "delivered (HTTP 200)" in run("webhook", "ping", str(listed[0]["id"]))


def test_queue_says_when_someone_else_touched_the_lead(active_playbook, sellers, now, make_lead,
                                                        django_capture_on_commit_callbacks):
    from smarketing.campaigns.services import touchpoint_record

    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    colleague = sellers["emea_b"] if owner == sellers["emea_a"] else sellers["emea_a"]
    assert f"#{lead.pk}" in run("handoff", "queue") and "someone else" not in run("handoff", "queue")
    with django_capture_on_commit_callbacks(execute=True):
        touchpoint_record(contact=lead, channel="sales", kind="sales_call", occurred_at=now + timedelta(hours=1),
                          actor=colleague)
    assert f"touched by someone else: {colleague.username}" in run("handoff", "queue")
