"""Markov removal effects: hand-solved chains, brute-force orders 2 and 3, exactness invariants."""

from __future__ import annotations

from collections import Counter, defaultdict

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarketing.analytics.kernels import AttributionWeightsInvalid, journeys_from_lists, markov_credit
from smarketing.analytics.kernels import markov as markov_module


def test_order_one_matches_the_hand_solved_chain():
    # Given a>b converts, a does not, b converts:
    # start→a 2/3, start→b 1/3, a→b 1/2, a→null 1/2, b→conv 1; P(conv) = 2/3
    j = journeys_from_lists([["a", "b"], ["a"], ["b"]], [1, 0, 1], value=[30, 0, 10])
    # When the order-1 chain is solved
    c = markov_credit(j, order=1)
    # Then removing a leaves 1/3 (effect 1/2), removing b leaves 0 (effect 1): shares 1/3 and 2/3
    assert c.extra["conversion_probability"] == pytest.approx(2 / 3, abs=1e-15)
    assert c.weights["removal_effects"] == pytest.approx({"a": 0.5, "b": 1.0})
    assert dict(zip(c.names, c.conversions.tolist(), strict=True)) == pytest.approx({"a": 2 / 3, "b": 4 / 3})
    assert c.value.sum() == pytest.approx(40.0)


@pytest.mark.parametrize(("order", "expected"), [
    # Order 1 forgets where c came from: c→conv 1/2, so a and b look alike.
    (1, {"a": 0.25, "b": 0.25, "c": 0.5}),
    # Order 2 remembers (a,c)→conv and (b,c)→null: b does nothing.
    (2, {"a": 0.5, "b": 0.0, "c": 0.5}),
    (3, {"a": 0.5, "b": 0.0, "c": 0.5}),
])
def test_higher_orders_remember_history(order, expected):
    # Given a>c always converts and b>c never does
    j = journeys_from_lists([["a", "c"], ["b", "c"]] * 3, [1, 0] * 3)
    # When the chain of this order is solved
    c = markov_credit(j, order=order)
    # Then the shares match the hand-solved chains
    assert c.weights["shares"] == pytest.approx(expected)
    assert c.conversions.sum() == pytest.approx(3.0)


def _brute_force(paths, conv, order, removed=None, iterations=4000):
    """Independent reference: dict-of-tuples chain solved by value iteration."""
    counts: dict[object, Counter] = defaultdict(Counter)
    for path, cv in zip(paths, conv, strict=True):
        states = [tuple(path[max(0, i - order + 1): i + 1]) for i in range(len(path))]
        seq = ["start", *states, "conv" if cv else "null"]
        for x, y in zip(seq, seq[1:], strict=False):
            counts[x][y] += 1
    h = dict.fromkeys(counts, 0.0)
    for _ in range(iterations):
        new = {}
        for s, nxt in counts.items():
            total = sum(nxt.values())
            acc = 0.0
            for y, n in nxt.items():
                if y == "conv":
                    acc += n / total
                elif y != "null" and not (removed is not None and removed in y):
                    acc += n / total * h[y]
            new[s] = acc
        h = new
    return h["start"]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_removal_effects_equal_brute_force_enumeration(order):
    # Given a small random set of journeys with repeats and loops
    rng = np.random.default_rng(order)
    paths = [[str(x) for x in rng.choice(list("xyz"), size=rng.integers(1, 6))] for _ in range(40)]
    conv = (rng.random(40) < 0.4).astype(int).tolist()
    j = journeys_from_lists(paths, conv)
    # When the exact chain is solved
    c = markov_credit(j, order=order)
    # Then P(conv) and every removal effect equal an independent value-iteration reference
    p = _brute_force(paths, conv, order)
    assert c.extra["conversion_probability"] == pytest.approx(p, abs=1e-9)
    for ch in j.names:
        expected = 1 - _brute_force(paths, conv, order, removed=ch) / p
        assert c.weights["removal_effects"][ch] == pytest.approx(max(expected, 0.0), abs=1e-9)


def test_dense_and_sparse_solvers_agree(monkeypatch):
    rng = np.random.default_rng(7)
    paths = [[f"c{x}" for x in rng.integers(0, 12, rng.integers(1, 8))] for _ in range(500)]
    conv = (rng.random(500) < 0.2).astype(float)
    j = journeys_from_lists(paths, conv, value=conv * rng.random(500) * 100)
    dense = markov_credit(j, order=1)
    monkeypatch.setattr(markov_module, "DENSE_LIMIT", 1)
    sparse = markov_credit(j, order=1)
    assert np.allclose(dense.conversions, sparse.conversions, atol=1e-10)
    assert np.allclose(dense.value, sparse.value, atol=1e-8)


def test_aggregated_rows_equal_repeated_journeys():
    # Given the same journeys once as single rows and once aggregated with counts
    single = journeys_from_lists([["a", "b"], ["a", "b"], ["a", "b"], ["b"], ["b"]], [1, 1, 0, 1, 0],
                                 value=[5, 5, 0, 2, 0])
    aggregated = journeys_from_lists([["a", "b"], ["b"]], [2, 1], value=[10, 2], nulls=[1, 1])
    for order in (1, 2):
        a, b = markov_credit(single, order=order), markov_credit(aggregated, order=order)
        assert a.conversions.tolist() == pytest.approx(b.conversions.tolist())
        assert a.value.tolist() == pytest.approx(b.value.tolist())


@pytest.mark.parametrize("order", [0, 4])
def test_order_out_of_range_is_rejected(order):
    j = journeys_from_lists([["a"]], [1])
    with pytest.raises(AttributionWeightsInvalid, match="order"):
        markov_credit(j, order=order)


journey_rows = st.lists(
    st.tuples(st.lists(st.sampled_from("abcd"), min_size=1, max_size=7), st.booleans(),
              st.floats(min_value=0, max_value=500, allow_nan=False)),
    min_size=1, max_size=30)


@settings(max_examples=40, deadline=None)
@given(journey_rows, st.sampled_from([1, 2, 3]))
def test_chain_probability_equals_observed_rate_and_credit_sums_to_totals(rows, order):
    # Given random journeys
    paths = [r[0] for r in rows]
    conv = [1.0 if r[1] else 0.0 for r in rows]
    value = [r[2] * c for r, c in zip(rows, conv, strict=True)]
    j = journeys_from_lists(paths, conv, value=value)
    # When the chain of any order is solved
    c = markov_credit(j, order=order)
    # Then its conversion probability is the observed rate and credit sums to the totals
    assert c.extra["conversion_probability"] == pytest.approx(sum(conv) / len(conv), abs=1e-12)
    if sum(conv):
        assert c.conversions.sum() == pytest.approx(sum(conv), abs=1e-9)
        assert c.value.sum() == pytest.approx(sum(value), rel=1e-9, abs=1e-6)
    assert (c.conversions >= 0).all()


def test_krylov_solve_of_large_chains_equals_the_direct_solve(monkeypatch):
    # Given an order-3 chain with a few hundred states
    rng = np.random.default_rng(11)
    paths = [[f"c{x}" for x in rng.integers(0, 7, rng.integers(1, 9))] for _ in range(3000)]
    conv = (rng.random(3000) < 0.1).astype(float)
    j = journeys_from_lists(paths, conv, value=conv * 100)
    # When it is solved directly and (forced) by residual-checked GMRES
    monkeypatch.setattr(markov_module, "DIRECT_LIMIT", 10**9)
    direct = markov_credit(j, order=3)
    monkeypatch.setattr(markov_module, "DIRECT_LIMIT", 1)
    krylov = markov_credit(j, order=3)
    # Then removal effects agree to machine precision
    assert direct.extra["states"] > 300
    for ch in j.names:
        assert krylov.weights["removal_effects"][ch] == pytest.approx(direct.weights["removal_effects"][ch], abs=1e-12)
    assert np.allclose(krylov.conversions, direct.conversions, atol=1e-9)


@pytest.mark.parametrize("order", [1, 2, 3])
@pytest.mark.parametrize("forced", ["sorted_keys", "sparse_counts", "threads", "all"])
def test_every_counting_path_fits_the_same_chain(monkeypatch, order, forced):
    # Given journeys with empty ones among them and aggregated rows
    rng = np.random.default_rng(order)
    paths = [[f"c{x}" for x in rng.integers(0, 9, rng.integers(0, 9))] for _ in range(4000)]
    conv = rng.integers(0, 3, 4000).astype(float)
    j = journeys_from_lists(paths, conv, value=conv * rng.random(4000) * 50, nulls=rng.integers(0, 3, 4000),
                            names=[f"c{x}" for x in range(9)])
    baseline = markov_credit(j, order=order)
    # When the chain is fitted with key sorting instead of a presence table, sparse instead of dense counts, or on
    # several threads
    if forced in ("sorted_keys", "all"):
        monkeypatch.setattr(markov_module, "PRESENCE_LIMIT", 1)
    if forced in ("sparse_counts", "all"):
        monkeypatch.setattr(markov_module, "DENSE_COUNTS_LIMIT", 1)
    if forced in ("threads", "all"):
        monkeypatch.setattr(markov_module.loops, "PARALLEL_MIN_TOUCHES", 1)
        monkeypatch.setattr(markov_module.loops, "workers", lambda: 3)
    other = markov_credit(j, order=order)
    # Then it is the same chain: same states, same probability, same credit
    assert other.extra["states"] == baseline.extra["states"]
    assert other.extra["conversion_probability"] == pytest.approx(baseline.extra["conversion_probability"], abs=1e-14)
    assert np.allclose(other.conversions, baseline.conversions, atol=1e-9)
    assert np.allclose(other.value, baseline.value, atol=1e-7)


def test_kernels_run_in_a_forked_child_after_the_parent_used_threads(monkeypatch):
    import multiprocessing

    # Given a parent that has run a kernel on its thread pool
    monkeypatch.setattr(markov_module.loops, "PARALLEL_MIN_TOUCHES", 1)
    monkeypatch.setattr(markov_module.loops, "workers", lambda: 2)
    j = journeys_from_lists([["a", "b"], ["b"], ["a"]] * 50, [1, 0, 1] * 50)
    expected = markov_credit(j, order=1).conversions.tolist()
    # When a forked child runs the same kernel
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        got = pool.apply_async(_credit_in_child, (j,)).get(timeout=60)
    # Then it finishes with the same numbers (no wait on threads that only existed in the parent)
    assert got == pytest.approx(expected)


def _credit_in_child(j):
    return markov_credit(j, order=1).conversions.tolist()


@pytest.mark.parametrize("order", [1, 2, 3])
def test_journeys_without_any_touch_credit_nothing(order):
    # Given journeys that converted without a single recorded touch
    j = journeys_from_lists([[], []], [1, 0], names=[])
    # When the chain is solved
    c = markov_credit(j, order=order)
    # Then there is no channel to credit and nothing fails
    assert c.conversions.shape == (0,)
    assert c.extra["conversion_probability"] == 0.0
