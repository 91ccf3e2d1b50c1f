"""The funnel and goals queries on an engine whose memo is carried (as the web's figure tasks carry it) read each
cohort off the whole history's kept timeline (`funnel.cohort_timeline`): the same results as each spec on its own
engine, for periods in time zones, entries on a period's first instant and just before it, every grouping, filters,
a window, the account level and an open-ended range."""

from __future__ import annotations

from typing import Any

import pytest

from smarketing.analytics.builders import build_journeys
from smarketing.analytics.datasets import EventFrames
from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.common import MEMO_CARRIED
from smarketing.analytics.queries.funnel import FunnelQuery
from smarketing.analytics.queries.goals import GoalsQuery
from smarketing.analytics.registry import run_query

SOURCES = ["webinar", "ads", "", "referral"]
# (first stage at, later stages (stage, at), source, account, owner, won/lost/open deal amount or None)
ENTRIES: list[tuple[str, list[tuple[str, str]], str, dict[str, Any] | None]] = [
    ("2026-01-02 09:00", [("mql", "2026-01-05 10:00"), ("sql", "2026-01-20 11:30"), ("customer", "2026-03-02 08:00")],
     "acme", {"amount": 1234.56, "outcome": "won", "opened": "2026-02-01", "closed": "2026-03-02"}),
    ("2026-01-15 12:00", [("mql", "2026-01-16 12:00")], "acme", None),
    ("2026-02-01 00:00", [("mql", "2026-02-03 07:15"), ("sal", "2026-02-04 07:15"), ("sql", "2026-02-09 07:15"),
                          ("opportunity", "2026-02-10 07:15")],
     "beta", {"amount": 0.1, "outcome": "open", "opened": "2026-02-10"}),
    ("2026-03-31 23:59:59.999999", [("mql", "2026-04-02 10:00"), ("opportunity", "2026-05-01 10:00")], "beta",
     {"amount": 0.2, "outcome": "lost", "opened": "2026-05-01", "closed": "2026-05-20"}),  # Q1's last instant (UTC)
    ("2026-04-01 00:00", [("mql", "2026-04-01 00:00"), ("customer", "2026-06-30 18:00")], "gamma",  # Q2's first
     {"amount": 333.33, "outcome": "won", "opened": "2026-05-02", "closed": "2026-06-30"}),
    ("2026-04-01 03:59:59.999999", [("mql", "2026-04-11 03:00")], "gamma", None),  # Q1's last in New York
    ("2026-04-01 04:00", [("sql", "2026-04-21 05:00"), ("opportunity", "2026-04-25 05:00")], "acme",  # Q2's first
     {"amount": 999.99, "outcome": "won", "opened": "2026-04-25", "closed": "2026-07-01"}),
    ("2026-05-17 16:45", [("mql", "2026-05-18 16:45"), ("sal", "2026-05-30 16:45")], "delta", None),
    ("2026-05-17 16:45", [], "delta", None),  # the same instant as the one before: both in, or both out
    ("2026-06-30 23:00", [("mql", "2026-07-04 01:00"), ("sql", "2026-07-09 02:00"), ("customer", "2026-08-09 02:00")],
     "beta", {"amount": 4321.1, "outcome": "won", "opened": "2026-07-10", "closed": "2026-08-09"}),
    ("2026-08-03 10:00", [("mql", "2026-08-05 10:00")], "gamma", None),
]
ACCOUNTS = {"acme": {"segment": "enterprise", "industry": "software", "region": "EMEA"},
            "beta": {"segment": "smb", "industry": "retail", "region": "NA"},
            "gamma": {"segment": "smb", "industry": "software", "region": "NA"},
            "delta": {"segment": "mid_market", "industry": "", "region": "APAC"}}


def _frames() -> EventFrames:
    people = {}
    for i, (first, later, account, deal) in enumerate(ENTRIES):
        events: list[Any] = [(first, "stage:lead")]
        events += [(at, f"stage:{stage}") for stage, at in later]
        events.append((first, "webinar_attended", {"campaign": ["Webinar", "Ads"][i % 2], "channel": "webinar"}))
        people[f"p{i}"] = {"source": SOURCES[i % len(SOURCES)], "account": account, "owner": [7, 8, None][i % 3],
                           "events": events, "deals": [deal] if deal else []}
    return build_journeys(people, ACCOUNTS)


# (start, end, time zone) of the cohorts asked for
PERIODS = [("2026-01-01", "2026-03-31", "UTC"), ("2026-04-01", "2026-06-30", "UTC"),
           ("2026-01-01", "2026-03-31", "America/New_York"), ("2026-04-01", "2026-06-30", "America/New_York"),
           ("2026-05-17", "2026-05-17", "UTC"), ("2026-01-01", "2026-12-31", "Pacific/Kiritimati"),
           ("2027-01-01", "2027-03-31", "UTC")]


def _funnel(**fields: Any) -> FunnelQuery:
    return FunnelQuery.model_validate(fields)


def _funnel_specs() -> list[FunnelQuery]:
    specs = []
    for start, end, tz in PERIODS:
        dates = {"start": start, "end": end, "timezone": tz}
        specs += [_funnel(from_stage="lead", to_stage="customer", by="source", **dates),  # the web's two
                  _funnel(from_stage="lead", to_stage="opportunity", **dates),
                  _funnel(from_stage="mql", to_stage="sql", by="segment", **dates),
                  _funnel(from_stage="lead", to_stage="customer", level="account", by="industry", **dates)]
    for by in ("campaign", "owner", "cohort_month", "country"):
        specs.append(_funnel(from_stage="lead", to_stage="customer", by=by, start="2026-01-01", end="2026-06-30"))
    specs += [_funnel(from_stage="lead", to_stage="customer", by="source", window_days=30, start="2026-01-01",
                  end="2026-06-30", filters={"segment": ["smb", "enterprise"], "source": ["(none)", "ads"]}),
              _funnel(from_stage="lead", to_stage="sql", start="2026-04-01", timezone="America/New_York"),
              _funnel(from_stage="sal", to_stage="customer", end="2026-05-31"),
              _funnel(from_stage="lead", to_stage="customer", by="cohort_month"),
              _funnel(from_stage="lead", to_stage="customer", level="account", by="region",
                  filters={"cohort_month": ["2026-04"]})]
    return specs


def _dump(result: Any) -> dict[str, Any]:
    return result.model_dump(mode="json", exclude={"data_as_of"})


def _on_carried_engines(frames: EventFrames, specs: list[Any]) -> tuple[list[dict[str, Any]], set[str]]:
    """Each spec on its own engine, one memo carried from engine to engine (as the web's figure tasks do)."""
    memo: dict[Any, Any] = {MEMO_CARRIED: True}
    out = []
    for spec in specs:
        with open_engine("duckdb", frames=frames) as engine:
            engine.memo = memo
            out.append(_dump(run_query(spec, engine=engine)))
    return out, {key[1] for key in memo if isinstance(key, tuple) and key[0] == "metrics:kept"}


def _each_on_its_own_engine(frames: EventFrames, specs: list[Any]) -> list[dict[str, Any]]:
    out = []
    for spec in specs:
        with open_engine("duckdb", frames=frames) as engine:
            out.append(_dump(run_query(spec, engine=engine)))
    return out


@pytest.fixture(scope="module")
def frames() -> EventFrames:
    return _frames()


def test_a_carried_engine_reads_each_cohort_off_the_kept_timeline_with_the_same_results(frames):
    specs = _funnel_specs()
    # Given the funnels on engines whose memo is carried, spec after spec (the kept timelines, sliced)
    kept, keys = _on_carried_engines(frames, specs)
    assert keys == {"funnel_timeline:contact:lead", "funnel_timeline:contact:mql", "funnel_timeline:account:lead",
                    "funnel_timeline:contact:sal"}
    # When each runs on its own engine (the timeline of its own cohort)
    own = _each_on_its_own_engine(frames, specs)
    # Then every result is the same
    for spec, a, b in zip(specs, kept, own, strict=True):
        assert a == b, spec
    # and the period edges are where they should be: Q1 in UTC holds its last instant and not Q2's first,
    # in New York it holds both (and not 04:00 UTC, New York's midnight); the two at one instant count together
    totals = {(s.start.isoformat(), s.timezone): r["total"]["entered"] for s, r in zip(specs, kept, strict=True)
              if s.by == "source" and s.level == "contact" and s.start and s.end and not s.filters
              and not s.window_days}
    assert totals[("2026-01-01", "UTC")] == 4
    assert totals[("2026-04-01", "UTC")] == 6
    assert totals[("2026-01-01", "America/New_York")] == 6
    assert totals[("2026-04-01", "America/New_York")] == 4
    assert totals[("2026-05-17", "UTC")] == 2
    assert totals[("2027-01-01", "UTC")] == 0


def test_goals_on_a_carried_engine_measure_the_same_rates_and_actuals(frames):
    specs = [GoalsQuery.model_validate({"period": p, "revenue": 50_000, "timezone": tz, "as_of": "2026-11-15",
                                        "lookback_days": days})
             for p, tz, days in (("2026-Q4", "UTC", 365), ("2026-Q3", "America/New_York", 120), ("2026-10", "UTC", 200),
                                 ("2027", "Europe/Paris", 365))]
    kept, keys = _on_carried_engines(frames, specs)
    assert "funnel_timeline:contact:lead" in keys
    assert kept == _each_on_its_own_engine(frames, specs)
    assert kept[0]["rates"]["lead_to_mql"] > 0
