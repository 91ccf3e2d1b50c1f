"""Markov removal effects from one sparse factorisation equal the per-channel iterative solves they replaced."""

from __future__ import annotations

import numpy as np
import pytest

from smarketing.analytics.kernels import journeys_from_lists, markov_credit
from smarketing.analytics.kernels import markov as markov_module


def _journeys(channels: int, n: int, longest: int, seed: int):
    rng = np.random.default_rng(seed)
    # A few channels are far more frequent than the rest, as on real data, so some removals take large blocks.
    p = rng.dirichlet(np.full(channels, 0.6))
    paths = [[f"c{x}" for x in rng.choice(channels, rng.integers(1, longest + 1), p=p)] for _ in range(n)]
    conv = (rng.random(n) < 0.3).astype(float)
    value = conv * rng.integers(1, 100, n)
    return journeys_from_lists(paths, conv.tolist(), value=value.tolist())


@pytest.mark.parametrize(("order", "channels", "n", "longest", "min_states"), [
    (1, 300, 6000, 8, 250),
    (2, 60, 12000, 8, 2000),
    (3, 16, 12000, 10, 2000),
])
def test_direct_solve_equals_the_iterative_solver(monkeypatch, order, channels, n, longest, min_states):
    # Given journeys whose chain has a few thousand states (order 1: a few hundred channels, solved sparsely)
    j = _journeys(channels, n, longest, seed=order)
    monkeypatch.setattr(markov_module, "DENSE_LIMIT", 1)
    # When it is solved with the one factorisation, and with the residual-checked GMRES per removal it replaced
    direct = markov_credit(j, order=order)
    monkeypatch.setattr(markov_module, "DIRECT_LIMIT", 0)
    iterative = markov_credit(j, order=order)
    # Then every removal effect and every credit agrees to 1e-9
    assert direct.extra["states"] >= min_states
    assert direct.extra["conversion_probability"] == pytest.approx(iterative.extra["conversion_probability"], abs=1e-12)
    for ch in j.names:
        assert direct.weights["removal_effects"][ch] == pytest.approx(iterative.weights["removal_effects"][ch], abs=1e-9)
    assert np.allclose(direct.extra["removal_effects_value"], iterative.extra["removal_effects_value"], atol=1e-9)
    assert np.allclose(direct.conversions, iterative.conversions, rtol=0, atol=1e-9)
    assert np.allclose(direct.value, iterative.value, rtol=1e-12, atol=1e-9)


def test_order_one_sparse_path_equals_the_dense_fundamental_matrix(monkeypatch):
    # Given an order-1 chain small enough for the dense fundamental matrix
    j = _journeys(80, 3000, 6, seed=5)
    dense = markov_credit(j, order=1)
    # When the sparse factorisation is forced
    monkeypatch.setattr(markov_module, "DENSE_LIMIT", 1)
    sparse = markov_credit(j, order=1)
    # Then the credits are the same
    assert np.allclose(sparse.conversions, dense.conversions, rtol=0, atol=1e-10)
    assert np.allclose(sparse.value, dense.value, rtol=1e-12, atol=1e-8)


@pytest.mark.parametrize("order", [2, 3])
def test_exact_blocks_and_krylov_blocks_agree(monkeypatch, order):
    # Given a chain whose removals have entry blocks of every size
    j = _journeys(14, 8000, 9, seed=10 + order)
    # When every first-passage block is formed exactly, and when every one is solved by GMRES
    monkeypatch.setattr(markov_module, "EXACT_BLOCK", 10**9)
    exact = markov_credit(j, order=order)
    monkeypatch.setattr(markov_module, "EXACT_BLOCK", 0)
    krylov = markov_credit(j, order=order)
    # Then they agree to rounding
    for ch in j.names:
        assert krylov.weights["removal_effects"][ch] == pytest.approx(exact.weights["removal_effects"][ch], abs=1e-12)
    assert np.allclose(krylov.value, exact.value, rtol=1e-12, atol=1e-9)


def test_krylov_blocks_that_do_not_converge_are_formed_exactly(monkeypatch):
    # Given GMRES allowed a single step, far too few for these blocks
    j = _journeys(10, 4000, 8, seed=21)
    monkeypatch.setattr(markov_module, "EXACT_BLOCK", 10**9)
    exact = markov_credit(j, order=2)
    monkeypatch.setattr(markov_module, "EXACT_BLOCK", 0)
    monkeypatch.setattr(markov_module, "KRYLOV_STEPS", 1)
    # When the chain is solved
    capped = markov_credit(j, order=2)
    # Then the residual check sends those blocks to the exact solve and the answer does not change
    assert np.allclose(capped.conversions, exact.conversions, rtol=0, atol=1e-12)


def test_a_singular_factorisation_falls_back_to_the_iterative_solver(monkeypatch):
    # Given a factorisation that reports an exactly singular matrix
    j = _journeys(8, 3000, 6, seed=3)
    expected = markov_credit(j, order=2)

    def singular(self, a):
        raise RuntimeError("Factor is exactly singular")

    monkeypatch.setattr(markov_module._Factorisation, "__init__", singular)
    # When the chain is solved
    got = markov_credit(j, order=2)
    # Then GMRES per removal gives the same credit
    assert np.allclose(got.conversions, expected.conversions, rtol=0, atol=1e-9)


def test_channels_that_never_occur_keep_the_full_probability():
    # Given a channel that is named but never touched
    j = journeys_from_lists([["a", "b"], ["b"], ["a"]] * 20, [1, 0, 1] * 20, names=["a", "b", "unused"])
    # When the order-2 chain is solved
    c = markov_credit(j, order=2)
    # Then removing it changes nothing and it gets no credit
    assert c.weights["removal_effects"]["unused"] == 0.0
    assert c.conversions[2] == 0.0
