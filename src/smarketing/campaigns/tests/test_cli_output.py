"""`campaign consistency --with-roi` prints ROI in percent, as `roi` does, with whole campaign names."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from typer.testing import CliRunner

from smarketing.campaigns.tests.test_consistency import campaign_world  # noqa: F401  (the fixture)
from smarketing.cli import build_app
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import ContactFactory, OpportunityFactory, TouchpointFactory

runner = CliRunner()


def run(*args: str) -> str:
    result = runner.invoke(build_app(), list(args), env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_consistency_beside_roi_prints_roi_in_percent(active_playbook, campaign_world):  # noqa: F811
    campaign = campaign_world[0]
    campaign.name = "Fast close – month-end benchmark report for finance leaders – Q4"
    campaign.save()
    contact = ContactFactory()
    stage_change_record(contact=contact, to_stage="lead", occurred_at=datetime(2026, 2, 1, tzinfo=UTC))
    TouchpointFactory(contact=contact, campaign=campaign, occurred_at=datetime(2026, 2, 2, tzinfo=UTC))
    OpportunityFactory(account=contact.account, primary_contact=contact, amount=40000, outcome="won",
                       opened_at=datetime(2026, 2, 10, tzinfo=UTC), closed_at=datetime(2026, 3, 1, tzinfo=UTC))
    roi = next(r["roi"] for r in json.loads(run("campaign", "consistency", "--with-roi", "--json"))["rows"]
               if r["campaign_id"] == campaign.pk)
    out = run("campaign", "consistency", "--with-roi")
    assert "…" not in out and "None" not in out
    assert all(h in out for h in ("id", "campaign", "consistency", "ROI", "revenue"))
    assert roi is not None and f"{roi:,.1f}%" in out
    assert "Fast close – month-end benchmark report" in out and "Q4" in out
