"""The same queries over the same application data give identical results on DuckDB, PostgreSQL and Spark."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection

from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.funnel import FunnelQuery
from smarketing.analytics.queries.goals import GoalsQuery
from smarketing.analytics.queries.journeys import JourneysQuery
from smarketing.analytics.registry import run_query
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    OpportunityFactory,
    TouchpointFactory,
)

T0 = datetime(2026, 1, 5, 9, 30, 15, 250000, tzinfo=UTC)  # sub-second on purpose

SPECS = [
    FunnelQuery(from_stage="lead", to_stage="customer", by="source"),
    FunnelQuery(from_stage="mql", to_stage="opportunity", by="campaign", window_days=20),
    FunnelQuery(from_stage="mql", to_stage="customer", level="account", by="segment"),
    FunnelQuery(from_stage="lead", to_stage="sql", by="cohort_month", start=date(2026, 1, 1), end=date(2026, 3, 31)),
    FunnelQuery(from_stage="mql", to_stage="customer", by="owner",
                filters={"source": ["webinar", "referral"], "segment": ["enterprise", "smb"]}),
    FunnelQuery(from_stage="lead", to_stage="opportunity", by="source", window_days=30,
                filters={"campaign": ["Summit"], "cohort_month": ["2026-01", "2026-02"], "country": ["(none)"]}),
    FunnelQuery(from_stage="mql", to_stage="customer", level="account", filters={"segment": ["smb", "mid_market"]}),
    GoalsQuery(period="2026-Q4", revenue=250_000, as_of=date(2026, 11, 20)),
    JourneysQuery(top=5),
    JourneysQuery(level="account", top=5),
]


@pytest.fixture
def company(active_playbook):
    """Twelve contacts in three accounts with staggered, partly skipped histories, touches and deals."""
    accounts = [AccountFactory(segment=s) for s in ("enterprise", "smb", "mid_market")]
    campaigns = [CampaignFactory(name=n, channel=c) for n, c in (("Guide", "content"), ("Summit", "event"))]
    plan = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
    for i in range(12):
        acc = accounts[i % 3]
        contact = ContactFactory(account=acc, lead_source=["webinar", "paid_search", "referral"][i % 3])
        start = T0 + timedelta(days=9 * i, hours=i)
        TouchpointFactory(contact=contact, campaign=campaigns[i % 2], kind=["content_download", "ad_click"][i % 2],
                          channel=campaigns[i % 2].channel, occurred_at=start - timedelta(days=1))
        TouchpointFactory(contact=contact, campaign=campaigns[(i + 1) % 2], kind="demo_request", channel="content",
                          occurred_at=start + timedelta(days=3, minutes=i))
        reach = [0, 1, 3, 5, 5, 2, 4, 1, 5, 3, 0, 5][i]
        for k, stage in enumerate(plan[: reach + 1]):
            if stage == "sal" and i % 2:
                continue  # some skip SAL
            stage_change_record(contact=contact, to_stage=stage, occurred_at=start + timedelta(days=4 * k + i % 3))
        if reach >= 4:
            won = reach == 5
            OpportunityFactory(account=acc, primary_contact=contact, amount=10_000 + 1_000 * i,
                               opened_at=start + timedelta(days=16), outcome="won" if won else "lost",
                               closed_at=start + timedelta(days=20 + i), stage="closed_won" if won else "closed_lost")
    OpportunityFactory(account=accounts[0], type="expansion", amount=5000, opened_at=datetime(2026, 10, 2, tzinfo=UTC),
                       outcome="won", closed_at=datetime(2026, 10, 30, tzinfo=UTC), stage="closed_won")
    stage_change_record(account=accounts[1], to_stage="customer", occurred_at=datetime(2026, 5, 1, tzinfo=UTC))
    return accounts


def _results(engine_name: str, specs: list = SPECS) -> list[dict]:
    with open_engine(engine_name) as engine:  # type: ignore[arg-type]
        return [run_query(spec, engine=engine).model_dump(mode="json", exclude={"kernel"}) for spec in specs]


@pytest.mark.django_db
def test_duckdb_and_postgresql_agree(company):
    duck = _results("duckdb")
    assert duck[0]["total"]["entered"] == 12
    assert duck[8]["subjects"] == 12
    # the filtered funnels are not trivially empty or unfiltered, so agreeing on them means something
    assert 0 < duck[4]["total"]["entered"] < duck[1]["total"]["entered"] and duck[4]["groups"]
    assert 0 < duck[5]["total"]["entered"] < 12 and 0 < duck[6]["total"]["entered"] < 3
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL engine runs when the application database is PostgreSQL")
    assert _results("postgres") == duck


@pytest.mark.spark
@pytest.mark.slow
@pytest.mark.django_db
def test_spark_agrees_with_duckdb(company):
    # Spark is slow to start and to plan, so it runs a representative subset: a grouped windowed funnel, a
    # filtered one (fields ANDed, values ORed, a first-campaign and a "(none)" filter), the reverse waterfall, and
    # journeys (engine DFG and ordered paths against DuckDB's NumPy kernel).
    specs = [SPECS[1], SPECS[5], SPECS[7], SPECS[8]]
    assert _results("spark", specs) == _results("duckdb", specs)
