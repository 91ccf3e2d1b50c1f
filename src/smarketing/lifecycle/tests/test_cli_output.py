"""The handoff and SLA commands read well in an 80-column pipe: whole campaign names, when a met clock was met,
never `None`, rates with `%`."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.core import clock
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_reject, mql_qualify
from smarketing.testing.factories import CampaignFactory

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(build_app(), list(args), env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def assert_readable(out: str) -> None:
    assert "…" not in out and "None" not in out, out


def test_queue_shows_when_a_met_clock_was_met(active_playbook, sellers, now, make_lead,
                                              django_capture_on_commit_callbacks):
    from smarketing.campaigns.services import touchpoint_record

    lead = make_lead()
    owner = mql_qualify(contact=lead).assignment.owner
    with django_capture_on_commit_callbacks(execute=True):
        touchpoint_record(contact=lead, channel="sales", kind="sales_call", occurred_at=now + timedelta(hours=1),
                          actor=owner)
    clock.freeze(now + timedelta(days=5))  # long after the first touch
    out = run("handoff", "queue")
    assert_readable(out)
    assert "met 2026-11-24 16:00 UTC" in out and not re.search(r"-\d+\.\d bh", out)
    assert "overdue" in out  # the decision clock, still running, says how late it is in business hours
    assert all(h in out for h in ("contact", "account", "score", "owner", "first touch", "decision"))


def test_report_keeps_long_campaign_names_apart(active_playbook, sellers, now, make_lead):
    for q in range(1, 5):
        campaign = CampaignFactory(name=f"LinkedIn ABM – finance leaders – Q{q} – EMEA and DACH")
        lead = make_lead(campaign=campaign)
        owner = mql_qualify(contact=lead).assignment.owner
        if q % 2:
            handoff_accept(contact=lead, user=owner, to_stage="sal", note="")
        else:
            handoff_reject(contact=lead, user=owner, reason_key="no_need", note="", to_stage="")
    out = run("handoff", "report")
    assert_readable(out)
    for q in range(1, 5):  # four rows that read differently (the names wrap inside their cell, not cut)
        assert f"LinkedIn ABM – finance leaders – Q{q} –" in out
    assert out.count("EMEA and DACH") == 4
    assert "campaign" in out and "MQLs" in out and "100%" in out and "0%" in out


def test_sla_status_after_a_check_has_no_none(active_playbook, sellers, now, make_lead):
    mql_qualify(contact=make_lead())
    clock.freeze(datetime(2026, 12, 2, 15, tzinfo=UTC))  # November is over: marketing's month is judged
    run("sla", "check")
    out = run("sla", "status")
    assert_readable(out)
    assert "breached: first_touch — #" in out and "breached: mql_volume — marketing's commitment" in out
    assert "last check never" not in out and "worker:" in out
    assert "%" in run("sla", "compliance", "--period", "2026-11")
