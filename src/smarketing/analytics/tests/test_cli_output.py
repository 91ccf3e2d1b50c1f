"""The analytics commands read well in an 80-column pipe: no value cut short, every column named, rates and ROI
with `%`, never `None`; a missing optional engine is one line and exit 2."""

from __future__ import annotations

import json
import re
import sys
from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from smarketing.cli import build_app, main
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import (
    CampaignFactory,
    ContactFactory,
    OpportunityFactory,
    TouchpointFactory,
)

runner = CliRunner()
SOURCES = ["customer_import_partner_referrals", "paid_social", "paid_social", "content_syndication"]


@pytest.fixture
def history(active_playbook):
    """Four leads from long-named sources, touched by four campaigns whose names differ only at the end; two win."""
    campaigns = [CampaignFactory(name=f"LinkedIn ABM – finance leaders – Q{q}", channel="paid_social",
                                 actual_cost=1000 * q) for q in range(1, 5)]
    for i, source in enumerate(SOURCES):
        contact = ContactFactory(lead_source=source)
        start = datetime(2026, 1, 1 + i, tzinfo=UTC)
        stage_change_record(contact=contact, to_stage="lead", occurred_at=start)
        for campaign in campaigns[i:]:
            TouchpointFactory(contact=contact, campaign=campaign, channel="paid_social", kind="ad_click",
                              occurred_at=start + timedelta(days=1))
        stage_change_record(contact=contact, to_stage="mql", occurred_at=start + timedelta(days=3))
        if i < 2:
            stage_change_record(contact=contact, to_stage="customer", occurred_at=start + timedelta(days=30))
            OpportunityFactory(account=contact.account, primary_contact=contact, amount=123456, outcome="won",
                               opened_at=start + timedelta(days=10), closed_at=start + timedelta(days=30))


def run(*args: str) -> str:
    result = runner.invoke(build_app(), list(args), env={"COLUMNS": "80"}, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def assert_readable(out: str, headers: list[str]) -> None:
    assert "…" not in out and "None" not in out
    assert all(len(line) <= 80 for line in out.splitlines()), max(out.splitlines(), key=len)
    missing = [h for h in headers if h not in out]
    assert not missing, f"unnamed columns {missing}:\n{out}"


@pytest.mark.django_db
def test_grouped_funnel_fits_80_columns_with_whole_values(history):
    out = run("funnel", "--from", "lead", "--to", "customer", "--by", "source")
    assert_readable(out, ["stage", "reached", "from previous", "from start", "median days", "mean days", "source",
                          "entered", "converted", "rate", "days in stage", "pipeline", "won", "won/lost/open/none"])
    assert "customer_import_partner_referrals" in out and "content_syndication" in out
    assert "50.0%" in out and "246,912" in out  # the total's rate and its whole won value


@pytest.mark.django_db
@pytest.mark.parametrize(("credit", "value_header"), [("conversions", None), ("revenue", "revenue credited")])
def test_attribution_names_every_column_once(history, credit, value_header):
    out = run("attribution", "--model", "linear", "--credit", credit, "--conversion", "opportunity_won")
    headers = ["channel", "campaign", "conversions", "share", "weight", "touches"]
    assert_readable(out, headers + ([value_header] if value_header else []))
    header_lines = [line for line in out.splitlines() if re.match(r"^(channel|campaign)\s+conversions", line)]
    assert len(header_lines) == 2 and all(line.count("conversions") == 1 for line in header_lines)
    for q in range(1, 5):  # four campaigns that share a long prefix stay four different rows
        assert f"LinkedIn ABM – finance leaders – Q{q}" in out
    assert "%" in out


@pytest.mark.django_db
def test_roi_prints_percent_and_splits_rather_than_truncates(history):
    out = run("roi", "--model", "linear")
    assert_readable(out, ["campaign", "cost", "MQLs", "SQLs", "opps", "pipeline", "revenue", "cost/MQL", "cost/SQL",
                          "cost/opp", "ROAS", "ROI", "pipeline/cost", "pipeline influenced"])
    data = json.loads(run("roi", "--model", "linear", "--json"))
    roi = next(c["roi"] for c in data["campaigns"] if c["name"].endswith("Q1") and c["roi"] is not None)
    assert f"{roi:,.1f}%" in out


@pytest.mark.django_db
def test_goals_and_journeys_fit_80_columns(history):
    goals = run("goals", "--revenue", "500000", "--period", "2026-Q2", "--as-of", "2026-05-01")
    assert_readable(goals, ["month", "leads", "mqls", "sqls", "opportunities", "deals", "revenue", "target",
                            "target to date", "actual to date", "pacing", "status"])
    assert re.search(r"lead→MQL \d+\.\d%", goals)
    journeys = run("journeys")
    assert_readable(journeys, ["path", "subjects", "share", "converted", "from", "to", "count", "mean days"])


@pytest.mark.django_db
def test_json_stays_complete(history):
    out = json.loads(run("funnel", "--from", "lead", "--to", "customer", "--by", "source", "--json"))
    assert {g["key"] for g in out["groups"]} == set(SOURCES)


@pytest.mark.django_db
def test_spark_without_pyspark_is_one_line_and_exit_2(history, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # as if the spark extra were not installed
    with pytest.raises(SystemExit) as done:
        main(["funnel", "--from", "lead", "--to", "customer", "--engine", "spark"])
    assert done.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err
    assert "PySpark" in err and "pip install -e .[spark]" in err
