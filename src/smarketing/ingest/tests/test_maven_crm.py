"""The Maven CRM data set through its shipped mapping (`smarketing import csv … --mapping maven_crm`): the opportunity
funnel and the win rate, overall and by sales agent, read through the metrics query equal the figures computed
straight from sales_pipeline.csv with the csv module."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.analytics.metrics.query import MeasureRecordsQuery, MeasureRecordsResult
from smarketing.analytics.registry import run_query
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


def _records(name: str) -> list[int]:
    """Every opportunity id the measure counts in the period, page by page."""
    ids: list[int] = []
    while True:
        page = run_query(MeasureRecordsQuery(name=name, period=PERIOD, offset=len(ids), limit=500))
        assert isinstance(page, MeasureRecordsResult)
        ids += [item.id for item in page.items]
        if len(ids) >= page.total or not page.items:
            return ids


def _by_agent(ids: list[int]) -> Counter[str]:
    owners = dict(Opportunity.objects.filter(pk__in=ids).values_list("pk", "owner__first_name"))
    last = dict(Opportunity.objects.filter(pk__in=ids).values_list("pk", "owner__last_name"))
    return Counter(f"{owners[pk]} {last[pk]}".strip() for pk in ids)


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
    # and by sales agent: the records behind each figure, by their owner, are the CSV's per-agent counts
    assert _by_agent(_records("opportunities_opened")) == engaged
    won_by, lost_by = _by_agent(_records("deals_won")), _by_agent(_records("deals_lost"))
    assert (won_by, lost_by) == (won, lost)
    rates = {a: won_by[a] / (won_by[a] + lost_by[a]) for a in won_by | lost_by}
    assert rates == {a: won[a] / (won[a] + lost[a]) for a in won | lost}
    # when the same files come in again, nothing changes
    code, out = _cli("import", "csv", str(MAVEN / "sales_pipeline.csv"), str(MAVEN / "accounts.csv"),
                     "--mapping", "maven_crm", "--json")
    again = json.loads(out)
    assert code == 0, out
    assert again["summary"]["opportunities"] == {"created": 0, "updated": 0, "unchanged": 8800}
    assert again["summary"]["owners_created"] == []
    assert Opportunity.objects.count() == 8800
