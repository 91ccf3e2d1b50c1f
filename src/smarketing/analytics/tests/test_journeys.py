"""Journeys on hand-written paths: DFG, top paths, conformance; NumPy kernel and engine agree."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from smarketing.analytics import paths
from smarketing.analytics.builders import build_journeys
from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.journeys import JourneysQuery, run_journeys
from smarketing.analytics.registry import parse_spec
from smarketing.core.errors import ValidationFailed

IDEAL_NEW = [("ad_click", True), ("content_download", False), ("stage:mql", False), ("demo_request", False),
             ("stage:sql", False), ("stage:customer", False)]
IDEAL_EXISTING = [("webinar_attended", False), ("meeting", False), ("stage:customer", False)]
IDEAL = {"new_customer": [{"kind": k, "optional": o} for k, o in IDEAL_NEW],
         "existing_customer": [{"kind": k, "optional": o} for k, o in IDEAL_EXISTING]}

PEOPLE = {
    # conforms and converts (the optional ad click is missing, which is fine)
    "ada": {"events": [("2026-01-01", "content_download"), ("2026-01-02", "stage:mql"), ("2026-01-03", "page_view"),
                       ("2026-01-04", "demo_request"), ("2026-01-05", "stage:sql"), ("2026-01-09", "stage:customer")]},
    # skips the demo request but converts anyway
    "bob": {"events": [("2026-01-01", "content_download"), ("2026-01-03", "stage:mql"), ("2026-01-05", "stage:sql"),
                       ("2026-01-07", "stage:customer")]},
    # two people stop after MQL
    "cy": {"events": [("2026-01-01", "content_download"), ("2026-01-03", "stage:mql")]},
    "dee": {"events": [("2026-01-02", "content_download"), ("2026-01-04", "stage:mql")]},
    # a touch and a stage change at the same instant: the touch comes first
    "eve": {"events": [("2026-01-05", "stage:mql"), ("2026-01-05", "content_download"), ("2026-01-06", "demo_request"),
                       ("2026-01-07", "stage:sql")]},
    # an existing customer's expansion journey, conforming, not yet converted
    "fay": {"account": "big", "events": [("2026-02-01", "webinar_attended"), ("2026-02-03", "meeting")],
            "deals": [{"type": "expansion", "amount": 10, "opened": "2026-02-03"}]},
}


@pytest.fixture(scope="module")
def engine():
    with open_engine("duckdb", frames=build_journeys(PEOPLE)) as eng:
        yield eng


def _run(engine, kernel="auto", **kw):
    return run_journeys(engine, JourneysQuery(kernel=kernel, ideal_journeys=IDEAL, **kw))


def test_directly_follows_graph_counts_and_mean_gaps(engine):
    r = _run(engine)
    edges = {(e.source, e.target): (e.count, e.mean_days) for e in r.edges}
    assert edges[("content_download", "stage:mql")] == (5, 1.4)  # ada 1, bob 2, cy 2, dee 2, eve 0 days
    assert edges[("stage:mql", "demo_request")] == (1, 1.0)  # eve only: ada viewed a page in between
    assert edges[("stage:mql", "stage:sql")] == (1, 2.0)
    assert edges[("webinar_attended", "meeting")] == (1, 2.0)
    assert sum(c for c, _ in edges.values()) == r.events - r.subjects
    assert r.start_activities == {"content_download": 5, "webinar_attended": 1}
    assert r.end_activities == {"meeting": 1, "stage:customer": 2, "stage:mql": 2, "stage:sql": 1}
    assert (r.subjects, r.events, r.kernel) == (6, 20, "numpy")


def test_same_instant_orders_touch_before_stage(engine):
    r = _run(engine)
    edges = {(e.source, e.target): e.count for e in r.edges}
    assert edges[("content_download", "stage:mql")] == 5
    assert ("stage:mql", "content_download") not in edges


def test_top_paths_with_conversion(engine):
    r = _run(engine, top=2)
    assert [(p.path, p.subjects, p.share, p.converted) for p in r.top_paths] == [
        (["content_download", "stage:mql"], 2, 0.333333, 0),
        (["content_download", "stage:mql", "demo_request", "stage:sql"], 1, 0.166667, 0),
    ]


def test_conformance_rates_deviations_and_conversion(engine):
    r = _run(engine)
    new, existing = r.conformance
    # ada and eve conform (eve: touch before stage at the same instant); bob skips demo_request; cy, dee stop there
    assert (new.subjects, new.conforming, new.conformance_rate) == (5, 2, 0.4)
    assert [(d.step, d.step_index, d.subjects, d.skipped, d.stopped) for d in new.deviations] == [
        ("demo_request", 2, 3, 1, 2)]
    assert (new.conversion_conforming, new.conversion_non_conforming) == (0.5, 0.333333)
    assert (existing.subjects, existing.conforming, existing.conversion_conforming) == (1, 1, 0.0)
    assert new.steps[0] == "ad_click?" and new.outcome == "stage:customer"


@pytest.mark.parametrize("level", ["contact", "account"])
def test_numpy_kernel_and_engine_give_identical_results(engine, level):
    a = _run(engine, kernel="numpy", level=level, top=50)
    b = _run(engine, kernel="engine", level=level, top=50)
    assert a.model_dump(exclude={"kernel", "query"}) == b.model_dump(exclude={"kernel", "query"})


def test_playbook_journeys_are_the_default(engine):
    r = run_journeys(engine, JourneysQuery())
    assert [c.journey for c in r.conformance] == ["new_customer", "existing_customer"]
    assert "stage:sal" in r.conformance[0].steps


def _random_events(seed: int, subjects: int = 300, labels: int = 5) -> paths.EventArrays:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 6, subjects)
    subject = np.repeat(np.arange(subjects), lengths)
    code = rng.integers(0, labels, len(subject)).astype(np.int32)
    ts = np.cumsum(rng.integers(0, 5000, len(subject))).astype(np.int64)
    return paths.EventArrays(subject, ts, code, [f"k{i}" for i in range(labels)])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kernels_match_plain_python(seed):
    ev = _random_events(seed)
    seqs: dict[int, list[int]] = {}
    for s, c in zip(ev.subject.tolist(), ev.code.tolist(), strict=True):
        seqs.setdefault(s, []).append(c)
    # paths: same grouping as a dict of tuples
    inverse, rep, counts = paths.path_ids(ev)
    expected = Counter(tuple(v) for v in seqs.values())
    got = Counter({tuple(paths.sequence(ev, int(rep[p]))): int(counts[p]) for p in range(len(counts))})
    assert got == Counter({tuple(f"k{c}" for c in k): n for k, n in expected.items()})
    # dfg: same pairs as a plain loop
    pairs = Counter((a, b) for v in seqs.values() for a, b in zip(v, v[1:], strict=False))
    assert {k: c for k, (c, _) in paths.dfg(ev).edges.items()} == dict(pairs)
    # conformance: the required steps as an ordered subsequence
    required = [0, 1, 2]

    def conforms(v: list[int]) -> bool:
        it = iter(v)
        return all(any(x == r for x in it) for r in required)

    assert paths.conformance(ev, required).conforming.tolist() == [conforms(v) for v in seqs.values()]
    # inverse: every subject points at a path with its own sequence
    for s, v in enumerate(seqs.values()):
        assert paths.sequence(ev, int(rep[inverse[s]])) == [f"k{c}" for c in v]


def test_path_grouping_survives_hash_collisions():
    # Given subjects whose sequence hashes all collide (a worst case no real hash produces)
    ev = _random_events(4, subjects=200)
    colliding = np.zeros(len(ev.starts), dtype=np.uint64)
    # When they are grouped
    inverse, rep, counts = paths._group_paths(ev.offsets, ev.code, colliding)
    # Then the groups are still exactly the distinct sequences
    _, rep_true, counts_true = paths.path_ids(ev)
    as_set = {tuple(paths.sequence(ev, int(r))): int(c) for r, c in zip(rep, counts, strict=True)}
    assert as_set == {tuple(paths.sequence(ev, int(r))): int(c) for r, c in zip(rep_true, counts_true, strict=True)}
    assert counts.sum() == len(ev.starts)


@pytest.mark.parametrize(("data", "field"), [
    ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
    ({"ideal_journeys": {"upsell": [{"kind": "a"}, {"kind": "b"}]}}, "ideal_journeys.upsell"),
    ({"ideal_journeys": {"new_customer": [{"kind": "a"}, {"kind": "b", "optional": True}]}},
     "ideal_journeys.new_customer"),
    ({"level": "team"}, "level"),
    ({"top": 0}, "top"),
])
def test_bad_journey_specs_name_the_field(data, field):
    with pytest.raises(ValidationFailed) as err:
        parse_spec("journeys", data)
    assert err.value.field == field
