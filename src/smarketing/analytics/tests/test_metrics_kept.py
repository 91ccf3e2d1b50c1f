"""What an engine keeps for every period (`metrics.rows.kept`: the funnel timeline of every subject, every MQL entry
with its decision, every sales clock's met and breached events) gives each period the figures and records of the
measures' own per-period reads: several periods and filters on one engine whose memo is carried (as the web's figure
tasks carry it), against a fresh engine per spec and against the engine's queries alone. MQL entries and clock
starts fall exactly on a period's first instant and just before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smarketing.analytics.engine import Engine, open_engine
from smarketing.analytics.metrics import MeasureRecordsQuery, MetricsQuery, reporting_period
from smarketing.analytics.queries.common import MEMO_CARRIED
from smarketing.analytics.registry import run_query
from smarketing.campaigns.models import Touchpoint
from smarketing.core import clock
from smarketing.lifecycle.enums import ClockKind
from smarketing.lifecycle.models import SlaClock
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_recycle, handoff_reject, mql_qualify
from smarketing.lifecycle.services_sla_clocks import first_touch_detect, sla_breach_record
from smarketing.testing.factories import AccountFactory, CampaignFactory, ContactFactory, UserFactory

Q4_START = reporting_period("2026-Q4", tz="America/New_York").start  # the default playbook's calendar zone
NOW = datetime(2026, 12, 20, 15, tzinfo=UTC)
# When each MQL entered, and what sales did (after an hour: on time; after ten days: the decision clock breached).
PLAN: list[tuple[datetime, str, timedelta]] = [
    (Q4_START - timedelta(microseconds=1), "accept", timedelta(hours=1)),  # the last instant of 2026-Q3
    (Q4_START, "reject", timedelta(hours=1)),  # the first instant of 2026-Q4
    (Q4_START, "accept", timedelta(days=10)),
    (Q4_START + timedelta(days=3), "recycle", timedelta(hours=1)),
    (Q4_START + timedelta(days=40), "", timedelta(0)),  # waiting, its first touch breached
    (datetime(2026, 8, 12, 16, tzinfo=UTC), "accept", timedelta(days=10)),
    (datetime(2026, 8, 20, 16, tzinfo=UTC), "", timedelta(0)),
]
PERIODS = ["2026-Q3", "2026-Q4", "2026-09-30..2026-10-01", "2026", "2025"]
FILTERS: list[dict[str, list[str]]] = [{}, {"source": ["webinar"], "segment": ["enterprise", "smb"]}]
RECORDS = ["mqls_accepted", "mqls_awaiting_decision", "first_touch_within_sla", "decision_within_sla",
           "cohort_reached_mql"]


@pytest.fixture
def spread(active_playbook):
    """MQLs qualified across 2026-Q3 and Q4 (two on Q4's first instant, one just before), decided on time, late or
    not at all, one imported MQL that moved on to SAL (a decision read from the history), breached clocks; yields
    the qualified contacts in the order of `PLAN`."""
    seller = UserFactory(username="emea_k", role="sales", team_name="EMEA", capacity_per_week=50)
    webinar = CampaignFactory(name="Webinar")
    people = []
    for i, (when, decision, after) in enumerate(PLAN):
        clock.freeze(when)
        account = AccountFactory(region="EMEA", segment=["smb", "enterprise", "mid_market"][i % 3])
        person = ContactFactory(account=account, lead_source="webinar" if i % 2 else "ads")
        Touchpoint.objects.create(contact=person, account=account, campaign=webinar, channel="webinar",
                                  kind="demo_request", occurred_at=when)
        assert mql_qualify(contact=person, at=when).qualified
        person.refresh_from_db()
        people.append(person)
        user = person.owner or seller
        decided = when + after
        clock.freeze(decided)
        if decision == "accept":
            call = Touchpoint.objects.create(contact=person, account=account, channel="sales", kind="sales_call",
                                             occurred_at=when + timedelta(minutes=30))
            first_touch_detect(touchpoint_id=call.pk)  # met, rep unknown
            handoff_accept(contact=person, user=user, at=decided)
        elif decision == "reject":
            handoff_reject(contact=person, user=user, reason_key="no_authority", at=decided)
        elif decision == "recycle":
            handoff_recycle(contact=person, user=user, at=decided)
        else:
            for row in SlaClock.objects.filter(contact=person, kind=ClockKind.FIRST_TOUCH):
                sla_breach_record(row=row, now=row.deadline + timedelta(hours=1))
    imported = ContactFactory(lead_source="webinar", account=AccountFactory(segment="smb"))
    stage_change_record(contact=imported, to_stage="mql", occurred_at=Q4_START, actor_kind="import")
    stage_change_record(contact=imported, to_stage="sal", occurred_at=Q4_START + timedelta(days=2),
                        actor_kind="import")
    clock.freeze(NOW)
    yield people
    clock.freeze(None)


def _specs() -> list[Any]:
    specs: list[Any] = [MetricsQuery(period=p, filters=f) for f in FILTERS for p in PERIODS]
    specs += [MeasureRecordsQuery(name=name, period=p, limit=3, offset=offset)
              for name in RECORDS for p, offset in (("2026-Q4", 0), ("2026", 2))]
    return specs


def _dump(result: Any) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"data_as_of"})


def _on_one_carried_engine(specs: list[Any]) -> tuple[list[dict[str, Any]], set[Any]]:
    with open_engine("duckdb") as engine:
        engine.memo[MEMO_CARRIED] = True
        out = [_dump(run_query(spec, engine=engine)) for spec in specs]
        return out, {key[1] for key in engine.memo if isinstance(key, tuple) and key[0] == "metrics:kept"}


def _each_on_its_own_engine(specs: list[Any]) -> list[dict[str, Any]]:
    out = []
    for spec in specs:
        with open_engine("duckdb") as engine:
            out.append(_dump(run_query(spec, engine=engine)))
    return out


@pytest.mark.django_db
def test_what_a_carried_engine_keeps_gives_each_period_the_same_figures_and_records(spread, monkeypatch):
    specs = _specs()
    # Given the figures on one engine whose memo is carried, period after period (what it keeps, sliced)
    kept, keys = _on_one_carried_engine(specs)
    assert {"mql_decisions", "sales_sla_events", "cohort_steps"} <= keys
    # When each spec runs on its own engine (a period's own reads of the MQLs and clocks)
    own = _each_on_its_own_engine(specs)
    # and on an engine that keeps nothing (every figure the engine's query)
    monkeypatch.setattr(Engine, "embedded", property(lambda self: False))
    queried = _each_on_its_own_engine(specs)
    # Then they are the same figures and the same records
    assert kept == own == queried
    # and not trivially empty: the edges, the decisions and both clock kinds are counted
    q4 = {m["name"]: m for m in kept[PERIODS.index("2026-Q4")]["measures"]}
    q3 = {m["name"]: m for m in kept[PERIODS.index("2026-Q3")]["measures"]}
    assert (q4["mqls_entered"]["value"], q3["mqls_entered"]["value"]) == (5, 3)
    assert [q4[n]["value"] for n in ("mqls_accepted", "mqls_rejected", "mqls_recycled", "mqls_awaiting_decision")] \
        == [2, 1, 1, 1]
    for name in ("first_touch_within_sla", "decision_within_sla"):
        assert 0 < q4[name]["numerator"] < q4[name]["denominator"], name


@pytest.mark.django_db
def test_corrected_history_gives_the_kept_decisions_of_each_period_alone(spread, users, monkeypatch):
    from smarketing.lifecycle.services_corrections import stage_change_correct

    # given, beside the spread, an imported MQL whose move to SAL RevOps corrected, and an MQL entry corrected itself
    moved_on, mistaken = ContactFactory(lead_source="ads"), ContactFactory(lead_source="ads")
    stage_change_record(contact=moved_on, to_stage="mql", occurred_at=Q4_START + timedelta(days=1),
                        actor_kind="import")
    wrong_sal = stage_change_record(contact=moved_on, to_stage="sal", occurred_at=Q4_START + timedelta(days=2),
                                    actor_kind="import")
    wrong_mql = stage_change_record(contact=mistaken, to_stage="mql", occurred_at=Q4_START + timedelta(days=1),
                                    actor_kind="import")
    for change in (wrong_sal, wrong_mql):
        stage_change_correct(stage_change_id=change.pk, reason="recorded by mistake", corrected_by=users["revops"])
    specs: list[Any] = [MetricsQuery(period=p) for p in PERIODS]
    # when the figures come from what a carried engine keeps, from each period's own reads, and from the queries
    kept, keys = _on_one_carried_engine(specs)
    assert "mql_decisions" in keys
    own = _each_on_its_own_engine(specs)
    monkeypatch.setattr(Engine, "embedded", property(lambda self: False))
    queried = _each_on_its_own_engine(specs)
    # then they agree: the corrected entry is left out, the entry whose next move was corrected awaits a decision
    assert kept == own == queried
    q4 = {m["name"]: m["value"] for m in kept[PERIODS.index("2026-Q4")]["measures"]}
    assert (q4["mqls_entered"], q4["mqls_accepted"], q4["mqls_awaiting_decision"]) == (6, 2, 2)
