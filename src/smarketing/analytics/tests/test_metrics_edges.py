"""Measures over the application's own history: the MQL cohort's decisions and the SLA agree with the lifecycle
selectors, and the CLI, the API and the query kind return the same result."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from smarketing.analytics.metrics import MeasureRecordsQuery, MetricsQuery, MetricsResult, reporting_period
from smarketing.analytics.registry import run_query
from smarketing.campaigns.models import Touchpoint
from smarketing.cli import main
from smarketing.core import clock
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.selectors_sla import marketing_period_counts, sla_compliance
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_recycle, handoff_reject, mql_qualify
from smarketing.testing.factories import AccountFactory, CampaignFactory, ContactFactory, UserFactory

T0 = datetime(2026, 11, 24, 15, tzinfo=UTC)  # Tuesday 10:00 in New York
NOW = T0 + timedelta(days=1)


@pytest.fixture
def history(active_playbook):
    """Five November MQLs (two accepted, one rejected, one recycled, one waiting) and one September import."""
    clock.freeze(T0)
    seller = UserFactory(username="emea_a", role="sales", team_name="EMEA", capacity_per_week=10)
    webinar = CampaignFactory(name="Webinar")
    leads = []
    for i in range(5):
        account = AccountFactory(region="EMEA", segment="smb" if i < 3 else "enterprise")
        person = ContactFactory(account=account, lead_source="webinar" if i < 3 else "ads")
        Touchpoint.objects.create(contact=person, account=account, campaign=webinar, channel="webinar",
                                  kind="demo_request", occurred_at=T0)
        mql_qualify(contact=person)
        leads.append(person)
    clock.freeze(T0 + timedelta(hours=1))
    handoff_accept(contact=leads[0], user=leads[0].owner or seller)
    handoff_accept(contact=leads[3], user=leads[3].owner or seller)
    handoff_reject(contact=leads[1], user=seller, reason_key="no_authority")
    handoff_recycle(contact=leads[2], user=seller)
    imported = ContactFactory(lead_source="webinar")
    stage_change_record(contact=imported, to_stage="mql", occurred_at=datetime(2026, 10, 1, 3, tzinfo=UTC),
                        actor_kind="import")
    clock.freeze(NOW)
    yield leads
    clock.freeze(None)


def _metrics(period: str, filters: dict | None = None, names: list[str] | None = None) -> dict:
    result = run_query(MetricsQuery(period=period, filters=filters or {}, names=names or []))
    assert isinstance(result, MetricsResult)
    return {m.name: m for m in result.measures}


@pytest.mark.django_db
def test_mql_cohort_decisions(history):
    m = _metrics("2026-Q4")
    assert [m[n].value for n in ("mqls_entered", "mqls_accepted", "mqls_rejected", "mqls_recycled",
                                 "mqls_awaiting_decision")] == [5, 2, 1, 1, 1]
    rate = m["mql_acceptance_rate"]
    assert (rate.value, rate.numerator, rate.denominator) == (0.5, 2, 4)
    # the import at 03:00 UTC on 1 October is a September MQL in New York
    assert _metrics("2026-09", names=["mqls_entered"])["mqls_entered"].value == 1
    # filters narrow the cohort: the webinar leads are 0, 1, 2 (accepted, rejected, recycled)
    web = _metrics("2026-Q4", {"source": ["webinar"], "segment": ["smb"]})
    assert [web[n].value for n in ("mqls_entered", "mqls_accepted", "mql_acceptance_rate")] == [3, 1, 1 / 3]


@pytest.mark.django_db
def test_the_sla_reads_the_same_mql_volume_and_compliance(history):
    m = _metrics("2026-Q4")
    q4 = reporting_period("2026-Q4")
    report = sla_compliance(start=q4.start, end=q4.end, key=q4.key, now=NOW)
    assert report["marketing"]["mql_volume"] == m["mqls_entered"].value == 5
    assert report["marketing"]["acceptance_rate"] == round(m["mql_acceptance_rate"].value, 4)
    for kind in ("first_touch", "decision"):
        overall = report["sales"]["overall"][kind]
        measure = m[f"{kind}_within_sla"]
        assert (overall["met"], overall["measured"]) == (measure.numerator, measure.denominator)
    assert m["decision_within_sla"].denominator > 0
    november = sla_rules.period_parse("month", "2026-11")
    counts = marketing_period_counts(period=november, tz="America/New_York")
    assert counts["mql_volume"] == _metrics("2026-11", names=["mqls_entered"])["mqls_entered"].value


@pytest.mark.django_db
def test_mql_target_is_prorated_never_whole_before_the_period_ends(history):
    # the commitment is 120 MQLs a month; on 25 November (New York) 24 of 30 days have passed
    november = _metrics("2026-11", names=["mql_volume_target_to_date"])["mql_volume_target_to_date"].value
    assert november == pytest.approx(120 * 24 / 30)
    verdict = sla_compliance(period_key="2026-11", now=NOW)["marketing"]
    assert verdict["expected_to_date"] == round(november, 2)
    # a quarter: October whole, November in part, December not yet
    q4 = _metrics("2026-Q4", names=["mql_volume_target_to_date"])["mql_volume_target_to_date"].value
    assert q4 == pytest.approx(120 + 120 * 24 / 30)
    assert _metrics("2026-Q3", names=["mql_volume_target_to_date"])["mql_volume_target_to_date"].value == 360


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["mqls_accepted", "mqls_awaiting_decision", "mql_acceptance_rate",
                                  "decision_within_sla", "first_touch_within_sla", "mqls_entered"])
def test_records_add_up_to_the_figure(history, name):
    value = _metrics("2026-Q4", names=[name])[name]
    records = run_query(MeasureRecordsQuery(name=name, period="2026-Q4"))
    assert records.total == len(records.items) == (value.numerator if value.unit == "ratio" else value.value)
    assert all(r.kind == "contact" and r.label for r in records.items)


@pytest.mark.django_db
def test_cli_json_equals_the_api_equals_the_query_kind(history, api, capsys):
    kind = run_query(MetricsQuery(period="2026-Q4", filters={"source": ["webinar"]})).model_dump(mode="json")
    r = api.get("/api/metrics", role="viewer", period="2026-Q4", filter="source:webinar")
    assert r.status_code == 200, r.content
    with pytest.raises(SystemExit) as done:
        main(["metrics", "--period", "2026-Q4", "--where", "source=webinar", "--json"])
    assert done.value.code == 0
    assert json.loads(capsys.readouterr().out) == r.json() == kind
    records = api.get("/api/metrics/mqls_accepted/records", role="viewer", period="2026-Q4", limit=1)
    assert records.status_code == 200 and records.json()["total"] == 2 and len(records.json()["items"]) == 1
    with pytest.raises(SystemExit):
        main(["metrics", "records", "mqls_accepted", "--period", "2026-Q4", "--json"])
    assert json.loads(capsys.readouterr().out)["total"] == 2
    with pytest.raises(SystemExit):
        main(["metrics", "--period", "2026-Q4", "--name", "mqls_entered"])
    assert "MQLs entered" in capsys.readouterr().out


@pytest.mark.django_db
def test_api_errors_name_the_field(history, api):
    assert api.get("/api/metrics/nope/records", period="2026-Q4").status_code == 404
    bad = api.get("/api/metrics", period="2026-Q9")
    assert (bad.status_code, bad.json()["field"]) == (422, "period")
    bad = api.get("/api/metrics", period="2026-Q4", filter="industry:saas")
    assert (bad.status_code, bad.json()["field"]) == (422, "filters.industry")
    bad = api.get("/api/metrics/first_touch_within_sla/records", period="2026-Q4", filter="source:webinar")
    assert (bad.status_code, bad.json()["field"]) == (422, "filters.source")
    assert api.get("/api/metrics", period="2026-Q4", name="nope").status_code == 422


@pytest.mark.django_db
def test_the_metrics_operations_document_their_errors(api):
    spec = api.get("/api/openapi.json").json()
    for path in ("/api/metrics", "/api/metrics/{name}/records"):
        assert {"200", "401", "404", "422"} <= set(spec["paths"][path]["get"]["responses"]), path
    params = {p["name"] for p in spec["paths"]["/api/metrics"]["get"]["parameters"]}
    assert {"period", "filter", "name"} <= params
