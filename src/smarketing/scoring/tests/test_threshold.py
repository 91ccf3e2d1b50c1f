from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarketing.scoring.threshold import Outcome, candidate_thresholds, propose_threshold, trade_off_table

outcome_st = st.builds(Outcome, st.floats(0, 150, allow_nan=False), st.booleans(), st.booleans(),
                       st.one_of(st.none(), st.booleans()))


@settings(max_examples=80, deadline=None)
@given(st.lists(outcome_st, max_size=60))
def test_volumes_never_grow_as_the_threshold_rises(outcomes):
    # given any history
    table = trade_off_table(outcomes, candidate_thresholds([o.score for o in outcomes]))
    # when the thresholds rise, then MQL volume and accepted count never grow
    volumes = [r.mql_volume for r in table]
    assert volumes == sorted(volumes, reverse=True)
    assert [r.accepted for r in table] == sorted((r.accepted for r in table), reverse=True)
    # and the lowest candidate admits everybody
    if outcomes:
        assert table[0].mql_volume == len(outcomes)


def test_rates_are_shares_of_the_mqls_at_each_threshold():
    outcomes = [Outcome(10, False, False, False), Outcome(30, True, False, False), Outcome(50, True, True, False),
                Outcome(70, True, True, True)]
    row = {r.threshold: r for r in trade_off_table(outcomes, [0, 30, 60, 80])}
    assert row[30].mql_volume == 3 and row[30].acceptance_rate == 1.0
    assert row[30].opportunity_rate == pytest.approx(2 / 3)
    assert row[30].won_rate == pytest.approx(1 / 3)
    assert row[0].acceptance_rate == 0.75
    assert row[80].mql_volume == 0 and row[80].acceptance_rate is None


def test_won_rate_is_unknown_when_outcomes_lack_it():
    table = trade_off_table([Outcome(5, True, True, None), Outcome(9, False, False, False)], [0])
    assert table[0].won_rate is None


def _history() -> list[Outcome]:
    # Acceptance climbs with the score: 20% below 40, 55% in 40–60, 80% from 60.
    out = []
    for score, n, accepted in ((20, 100, 20), (50, 100, 55), (70, 100, 80)):
        out += [Outcome(score, i < accepted, i < accepted // 2, None) for i in range(n)]
    return out


def test_proposes_the_lowest_threshold_meeting_the_acceptance_target():
    # given sales committed to accept 60% of MQLs
    proposal = propose_threshold(_history(), target_acceptance_rate=0.6, current_threshold=60,
                                 thresholds=[0, 20, 40, 60, 80])
    # then the proposal is 40 (both upper bands together accept 67.5%), the most volume meeting the target
    assert proposal.threshold == 40
    assert proposal.rule == "min_acceptance_rate"
    assert "67%" in proposal.reason or "68%" in proposal.reason


def test_falls_back_to_best_f1_when_the_target_is_out_of_reach():
    proposal = propose_threshold(_history(), target_acceptance_rate=0.95, thresholds=[0, 20, 40, 60, 80])
    assert proposal.rule == "max_f1"
    best = max((r for r in proposal.table if r.mql_volume >= 20), key=lambda r: r.f1)
    assert proposal.threshold == best.threshold
    assert "95%" in proposal.reason


def test_current_threshold_is_always_a_row():
    proposal = propose_threshold(_history(), target_acceptance_rate=0.6, current_threshold=57)
    assert 57 in [r.threshold for r in proposal.table]


def test_no_history_proposes_nothing():
    proposal = propose_threshold([], target_acceptance_rate=0.6)
    assert proposal.threshold is None and proposal.table == []


@pytest.mark.parametrize(("scores", "step_at_most"), [([0, 100], 5), ([0.01, 0.93], 0.05), ([3, 3], 1)])
def test_candidates_are_round_numbers_spanning_the_scores(scores, step_at_most):
    cands = candidate_thresholds(scores)
    assert cands[0] <= min(scores) and cands[-1] >= max(scores) - step_at_most
    assert len(cands) <= 31


@pytest.mark.parametrize("scores", [[149.99999999999997, 150.0], [1e-300, 2e-300], [0.0, 1e12]])
def test_candidates_terminate_for_nearly_equal_or_extreme_scores(scores):
    cands = candidate_thresholds(scores)
    assert 1 <= len(cands) <= 32 and cands[0] <= min(scores)
