"""The Maven CRM data set through its shipped mapping (`smarketing import csv … --mapping maven_crm`): the opportunity
funnel and the win rate, overall and by sales agent (`smarketing metrics --where owner=<user id>`), equal the figures
computed straight from sales_pipeline.csv with the csv module."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.cli import build_app
from smarketing.crm.models import Account, Opportunity
from smarketing.team.models import User

MAVEN = Path(__file__).resolve().parents[4] / ".." / "shared" / "datasets" / "maven_crm"
PERIOD = "2016-01-01..2017-12-31"  # the data set's whole span (engagements from 2016-10, closes to 2017-12)

pytestmark = pytest.mark.skipif(not (MAVEN / "sales_pipeline.csv").is_file(),
                                reason="../shared/datasets/maven_crm is absent")


def _csv(name: str) -> list[dict[str, str]]:
    with (MAVEN / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _cli(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _agent_measures(user_id: int) -> dict[str, Any]:
    """The measures for one owner, as `smarketing metrics --where owner=<user id> --json` prints them."""
    code, out = _cli("metrics", "--period", PERIOD, "--where", f"owner={user_id}", "--json")
    assert code == 0, out
    return {m["name"]: m["value"] for m in json.loads(out)["measures"]}


@pytest.mark.slow
def test_maven_crm_funnel_and_win_rate_by_agent_equal_the_csv(active_playbook):
    # given the figures straight from the CSV: per agent, the engaged (dated) opportunities, the won and the lost
    pipeline = _csv("sales_pipeline.csv")
    engaged = Counter(r["sales_agent"] for r in pipeline if r["engage_date"])
    won = Counter(r["sales_agent"] for r in pipeline if r["deal_stage"] == "Won")
    lost = Counter(r["sales_agent"] for r in pipeline if r["deal_stage"] == "Lost")
    stages = Counter(r["deal_stage"] for r in pipeline)
    no_account = sum(1 for r in pipeline if not r["account"])
    assert (len(pipeline), no_account) == (8800, 1425)
    # when the pipeline and the accounts come in through the shipped mapping, named as shipped
    code, out = _cli("import", "csv", str(MAVEN / "sales_pipeline.csv"), str(MAVEN / "accounts.csv"),
                     "--mapping", "maven_crm", "--json")
    assert code == 0, out
    run: dict[str, Any] = json.loads(out)
    # then every opportunity and account was created, none refused
    assert (run["status"], run["summary"]["system"], run["problems_count"]) == ("succeeded", "maven", 0)
    assert run["summary"]["opportunities"] == {"created": 8800, "updated": 0, "unchanged": 0}
    assert run["summary"]["accounts"]["created"] == len(_csv("accounts.csv"))
    # and the opportunities without an account have none, the others link theirs
    assert Opportunity.objects.filter(account__isnull=True).count() == no_account
    assert Opportunity.objects.get(source_id="1C1I7A6R").account == Account.objects.get(name="Cancity")
    # and the stages read through the playbook's maven vocabulary
    assert Opportunity.objects.filter(stage="discovery").count() == stages["Prospecting"]
    assert Opportunity.objects.filter(stage="qualification").count() == stages["Engaging"]
    assert Opportunity.objects.filter(outcome="won").count() == stages["Won"]
    # and "GTXPro" is the products file's "GTX Pro"
    gtx_pro = sum(1 for r in pipeline if r["product"] in ("GTXPro", "GTX Pro"))
    assert Opportunity.objects.filter(product="GTX Pro").count() == gtx_pro
    assert not Opportunity.objects.filter(product="GTXPro").exists()
    # and every agent is an owner: an inactive sales user
    agents = {r["sales_agent"] for r in pipeline}
    assert set(run["summary"]["owners_created"]) == agents
    assert set(User.objects.filter(is_active=False, role="sales").values_list("first_name", flat=True)) == {
        a.split(" ", 1)[0] for a in agents}
    # and the metrics query reads the CSV's funnel and win rate for the whole span
    code, out = _cli("metrics", "--period", PERIOD, "--json")
    assert code == 0, out
    measures = {m["name"]: m for m in json.loads(out)["measures"]}
    assert measures["opportunities_opened"]["value"] == sum(engaged.values())
    assert measures["deals_won"]["value"] == stages["Won"]
    assert measures["deals_lost"]["value"] == stages["Lost"]
    assert measures["revenue_won"]["value"] == sum(float(r["close_value"]) for r in pipeline
                                                   if r["deal_stage"] == "Won")
    assert measures["win_rate"]["value"] == pytest.approx(stages["Won"] / (stages["Won"] + stages["Lost"]))
    # and by sales agent: the measures filtered by the agent's user (the deal's own owner) are the CSV's counts
    users = {f"{u.first_name} {u.last_name}".strip(): u.pk for u in User.objects.filter(role="sales")}
    for agent in sorted(agents):
        figures = _agent_measures(users[agent])
        got = (figures["opportunities_opened"], figures["deals_won"], figures["deals_lost"])
        assert got == (engaged[agent], won[agent], lost[agent]), agent
        decided = won[agent] + lost[agent]
        assert figures["win_rate"] == (pytest.approx(won[agent] / decided) if decided else None), agent
    # when the same files come in again, nothing changes
    code, out = _cli("import", "csv", str(MAVEN / "sales_pipeline.csv"), str(MAVEN / "accounts.csv"),
                     "--mapping", "maven_crm", "--json")
    again = json.loads(out)
    assert code == 0, out
    assert again["summary"]["opportunities"] == {"created": 0, "updated": 0, "unchanged": 8800}
    assert again["summary"]["owners_created"] == []
    assert Opportunity.objects.count() == 8800
