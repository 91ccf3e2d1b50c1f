"""One scale: the web pages show the numbers the analytics API and CLI print for the same spec."""

from __future__ import annotations

import csv
import html
import io
import json
import shlex
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from typer.testing import CliRunner

from smarketing.core import clock


def _cli_json(*args: str) -> dict[str, Any]:
    from smarketing.cli import build_app

    out = CliRunner().invoke(build_app(), list(args))
    assert out.exit_code == 0, out.output
    return json.loads(out.stdout)


def _csv(response: Any) -> list[list[str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def _pct(v: float | None) -> str:
    return "" if v is None else f"{v * 100:.2f}"


FILTERS = [
    {},
    {"source": ["webinar"]},
    {"source": ["webinar", "paid_search"], "owner": ["SALES"]},
    {"campaign": ["Close faster webinar"], "owner": ["(none)"]},
]


def _api_funnel(api: Any, spec: dict[str, Any], filters: dict[str, list[str]]) -> Any:
    """The API's funnel for the page's spec (its days in the reporting time zone), filters as `filter` parameters."""
    got = api.get("/api/analytics/funnel", role="viewer", from_stage="lead", to_stage="customer",
                  start=spec["start"], end=spec["end"], timezone=spec["timezone"], by=spec["by"],
                  filter=[f"{k}:{v}" for k, vs in filters.items() for v in vs])
    assert got.status_code == 200, got.content
    return got.json()


def _with_ids(filters: dict[str, list[str]], users: Any) -> dict[str, list[str]]:
    return {k: [str(users["sales"].pk) if v == "SALES" else v for v in vs] for k, vs in filters.items()}


@pytest.mark.parametrize("filters", FILTERS)
def test_funnel_page_and_api_give_the_same_numbers_for_the_same_filters(world, login, api, users, filters):
    filters = _with_ids(filters, users)
    # given the funnel page for Q4 2026 with filters in its address (it shows the equivalent CLI command)
    client = login("viewer")
    page = client.get("/funnel/", {"period": "2026-Q4", **filters})
    data = page.context["data"]
    assert data.cli in html.unescape(page.content.decode())
    # when the API runs the page's spec with `filter` parameters, and the page's tables are downloaded as CSV
    ref = _api_funnel(api, data.spec, filters)
    rows = _csv(client.get("/funnel/", {"period": "2026-Q4", **filters, "format": "csv", "table": "stages"}))[2:]
    groups = _csv(client.get("/funnel/", {"period": "2026-Q4", **filters, "format": "csv", "table": "breakdown"}))
    # then the API echoes the filters and the reporting time zone of the period's days
    assert ref["query"]["filters"] == {k: sorted(vs) for k, vs in filters.items()}
    assert ref["query"]["timezone"] == "America/New_York"
    # and every stage's volume, conversion to the next stage and velocity on the page are the API's
    steps = ref["total"]["steps"]
    assert steps[0]["reached"] == data.cohort_size > 0
    assert [r[1] for r in rows] == [str(s["reached"]) for s in steps]
    assert [r[2] for r in rows] == [_pct(s["conversion_from_previous"]) for s in steps[1:]] + [""]
    assert [float(r[3]) if r[3] else None for r in rows] == pytest.approx(
        [s["median_days_from_previous"] for s in steps[1:]] + [None], abs=0.01)
    assert float(rows[-1][4] or 0) == pytest.approx(ref["total"]["won_value"])
    # and so is the breakdown, which says which filters it shows
    assert {r[0]: (int(r[1]), int(r[5])) for r in groups[2:]} == {
        g["key"]: (g["entered"], g["converted"]) for g in ref["groups"]}
    shown = page.context["filters_label"]
    assert (shown != "") == bool(filters)
    assert groups[0][0].endswith(f"cohort entering in Q4 2026{'; ' + shown if shown else ''}")


@pytest.mark.parametrize("filters", FILTERS[1:3])
def test_the_funnel_pages_command_runs_in_the_cli_and_prints_the_apis_numbers(world, login, api, users, filters):
    filters = _with_ids(filters, users)
    # given the command the funnel page shows
    data = login("viewer").get("/funnel/", {"period": "2026-Q4", **filters}).context["data"]
    # when the CLI runs that very command
    cli = _cli_json(*shlex.split(data.cli)[1:])
    # then it prints what the API gives for the page's spec
    assert cli == _api_funnel(api, data.spec, filters)


def test_funnel_breakdown_equals_the_api_grouped_funnel(world, login, api):
    # given the breakdown by lead source on the funnel page
    rows = _csv(login("sales").get("/funnel/", {"period": "2026-Q4", "by": "source", "format": "csv",
                                                "table": "breakdown"}))[2:]
    # when the API runs the same grouped spec
    got = api.get("/api/analytics/funnel", role="viewer", from_stage="lead", to_stage="customer",
                  start="2026-10-01", end="2026-12-31", timezone="America/New_York", by="source")
    # then each group's contacts and customers are the API's
    assert got.status_code == 200, got.content
    body = json.loads(got.content)
    api_groups = {g["key"]: (g["entered"], g["converted"]) for g in body["groups"]}
    assert {r[0]: (int(r[1]), int(r[5])) for r in rows} == api_groups


@pytest.fixture
def history(world):
    """Given a year of history before Q4 2026: contacts through the whole funnel and closed deals."""
    from smarketing.lifecycle.enums import ActorKind
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import ContactFactory, OpportunityFactory

    account = world["account"]
    stages = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
    for i in range(8):
        start = datetime(2026, 2, 2, tzinfo=UTC) + timedelta(days=9 * i)
        c: Any = ContactFactory(account=account, lead_source="webinar", first_seen_at=start)
        for j, stage in enumerate(stages[: 3 + i % 4]):
            stage_change_record(contact=c, to_stage=stage, occurred_at=start + timedelta(days=5 * j),
                                actor_kind=ActorKind.SYSTEM)
        OpportunityFactory(account=account, primary_contact=c, amount=40000 + 1000 * i,
                           outcome="won" if i % 3 else "lost", stage="closed_won" if i % 3 else "closed_lost",
                           opened_at=start + timedelta(days=20), closed_at=start + timedelta(days=60))
    return world


def test_scoreboard_pacing_and_goals_equal_the_cli_goals_json(history, login):
    # when the goals page and the scoreboard measure Q4 2026 against the playbook goal
    clock.freeze(datetime(2026, 11, 20, 15, tzinfo=UTC))
    client = login("marketing")
    goals = client.get("/goals/", {"period": "2026-Q4"})
    board = client.get("/", {"period": "2026-Q4"})
    measured = goals.context["measured"]
    assert measured is not None, goals.context["measured_note"]
    spec = goals.context["goals_spec"]
    cli = _cli_json("goals", "--period", spec["period"],
                    *(["--revenue", str(spec["revenue"])] if "revenue" in spec else []), "--json")
    # then the measured plan, the pacing and the scoreboard's targets are the CLI's numbers
    rows = _csv(client.get("/goals/", {"period": "2026-Q4", "format": "csv", "table": "measured"}))[2:]
    assert [int(float(r[1])) for r in rows] == [p["target"] for p in cli["pacing"]]
    revenue = next(p for p in cli["pacing"] if p["stage"] == "revenue")
    pacing = board.context["pacing"]
    assert pacing.won == pytest.approx(revenue["actual_to_date"])
    assert pacing.expected_by_now == pytest.approx(revenue["target_to_date"])
    targets = {r.stage: r.target for r in board.context["funnel"].stages}
    assert targets["lead"] == cli["needed"]["leads"] and targets["customer"] == cli["needed"]["deals"]
    assert targets["sal"] is None
    # and the planner's defaults are the measured rates
    assert goals.context["form"]["win_rate"].value() == pytest.approx(round(cli["rates"]["win_rate"] * 100, 1))


def test_journeys_page_equals_the_cli_journeys_json(world, login):
    # when
    data = login("viewer").get("/journeys/", {"period": "2026-Q4"}).context["data"]
    cli = _cli_json("journeys", "--start", data.spec["start"], "--end", data.spec["end"], "--json")
    # then
    conf = next(c for c in cli["conformance"] if c["journey"] == "new_customer")
    assert (data.cases, data.subjects, data.fitting) == (cli["subjects"], conf["subjects"], conf["conforming"])
    top = max(cli["edges"], key=lambda e: e["count"])
    assert data.edges[0][2] == top["count"]
