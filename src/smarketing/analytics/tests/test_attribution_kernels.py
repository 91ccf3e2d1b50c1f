"""Rule-based kernels on hand-computed journeys, exactness invariants and custom weight errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarketing.analytics.kernels import (
    RULE_MODELS,
    AttributionInputInvalid,
    AttributionModel,
    AttributionWeightsInvalid,
    attribute,
    journeys_from_events,
    journeys_from_lists,
    rule_credit,
)

JOURNEYS = [["a", "b", "c"], ["a", "c"], ["b"], ["c", "a", "b", "b"]]
CONVERTED = [1, 0, 1, 1]


@pytest.mark.parametrize(("model", "expected"), [
    # a>b>c, b and c>a>b>b convert; a>c does not.
    ("first_touch", {"a": 1.0, "b": 1.0, "c": 1.0}),
    ("last_touch", {"a": 0.0, "b": 2.0, "c": 1.0}),
    ("linear", {"a": 1 / 3 + 1 / 4, "b": 1 / 3 + 1 + 2 / 4, "c": 1 / 3 + 1 / 4}),
    # U: 40/20/40 — a>b>c: .4/.2/.4; b: 1; c>a>b>b: .4, .1, .1, .4
    ("u_shaped", {"a": 0.4 + 0.1, "b": 0.2 + 1 + 0.1 + 0.4, "c": 0.4 + 0.4}),
    # W without known key touches: first, a middle touch, last get 30 % each; a>b>c → 1/3 each;
    # c>a>b>b → c .3, a .1 (non-key), b(pos 2, middle key) .3, b(last) .3
    ("w_shaped", {"a": 1 / 3 + 0.1, "b": 1 / 3 + 1 + 0.6, "c": 1 / 3 + 0.3}),
    # Full path: a>b>c → keys first, pos1 (lead and opp), last: .225, .45, .225 renormalised = .25/.5/.25;
    # c>a>b>b → keys 0, 1 (lead), 2 (opp), 3 (close): 1/4 each
    ("full_path", {"a": 0.25 + 0.25, "b": 0.5 + 1 + 0.5, "c": 0.25 + 0.25}),
])
def test_rule_models_match_hand_computed_credit(model, expected):
    # Given four journeys, three converting
    j = journeys_from_lists(JOURNEYS, CONVERTED, value=[10, 0, 5, 20])
    # When the model credits them
    c = rule_credit(j, model)
    # Then each channel gets the hand-computed conversions and the model's weights travel with the figures
    got = dict(zip(c.names, c.conversions.tolist(), strict=True))
    assert got == pytest.approx(expected)
    assert c.conversions.sum() == pytest.approx(3.0)
    assert c.value.sum() == pytest.approx(35.0)
    assert c.weights["model"] == model


def test_time_decay_halves_weight_per_half_life():
    # Given one converting journey with touches 14, 7 and 0 days before its last touch
    j = journeys_from_lists([["a", "b", "c"]], [1], times=[[0.0, 7.0, 14.0]])
    # When time decay with a 7-day half-life credits it
    c = rule_credit(j, "time_decay", half_life_days=7.0)
    # Then the weights are 1/4 : 1/2 : 1, normalised
    assert c.conversions.tolist() == pytest.approx([0.25 / 1.75, 0.5 / 1.75, 1 / 1.75])
    assert c.weights["half_life_days"] == 7.0


def test_w_shaped_uses_known_lead_and_opportunity_touches():
    # Given a five-touch journey whose MQL came at touch 1 and opportunity at touch 3
    j = journeys_from_lists([["a", "b", "c", "d", "e"]], [1], lead_pos=[1], opp_pos=[3])
    # When W-shaped credits it
    c = rule_credit(j, "w_shaped")
    # Then first, lead and opportunity touches get 30 % and the other two share 10 %
    assert c.conversions.tolist() == pytest.approx([0.3, 0.3, 0.05, 0.3, 0.05])


@pytest.mark.parametrize(("weights", "expected"), [
    ((0.4, 0.2, 0.4), [0.4, 0.1, 0.1, 0.4]),
    ((0.5, 0.5), [0.5, 0.0, 0.0, 0.5]),
    ((1.0,), [0.25, 0.25, 0.25, 0.25]),
    ((0.1, 0.2, 0.3, 0.4), [0.1, 0.2, 0.3, 0.4]),
])
def test_custom_position_weights(weights, expected):
    # Given one converting four-touch journey with distinct channels
    j = journeys_from_lists([["a", "b", "c", "d"]], [1])
    # When custom weights credit it
    c = rule_credit(j, "custom", custom=weights)
    # Then first/last take the end weights and interior segments share theirs
    assert c.conversions.tolist() == pytest.approx(expected)
    assert c.weights["positions"] == list(weights)


@pytest.mark.parametrize(("weights", "message"), [
    ((0.4, 0.2, 0.3), "sum to 1"),
    ((0.5, 0.6, -0.1), "not negative"),
    ((), "empty"),
    ((float("nan"), 1.0), "finite"),
])
def test_custom_weights_must_sum_to_one(weights, message):
    # Given custom weights that are not a distribution
    j = journeys_from_lists([["a", "b"]], [1])
    # When the model runs, then a clear error names the weights field
    with pytest.raises(AttributionWeightsInvalid, match=message) as err:
        rule_credit(j, "custom", custom=weights)
    assert err.value.field == "weights"


def test_time_decay_rejects_a_non_positive_half_life():
    j = journeys_from_lists([["a"]], [1], times=[[0.0]])
    with pytest.raises(AttributionWeightsInvalid, match="half-life"):
        rule_credit(j, "time_decay", half_life_days=0)


def test_events_builder_sorts_touches_by_journey_and_time():
    # Given an unsorted event table
    j = journeys_from_events(np.array([1, 0, 1, 0]), np.array([0, 1, 1, 0]), ["a", "b"],
                             converted=np.array([1.0, 1.0]), times=np.array([5.0, 2.0, 1.0, 1.0]))
    # When first touch credits it, then each journey's earliest touch wins
    c = rule_credit(j, "first_touch")
    assert dict(zip(c.names, c.conversions.tolist(), strict=True)) == {"a": 1.0, "b": 1.0}


@pytest.mark.parametrize(("journey", "code", "presorted", "message"), [
    ([0, 2], [0, 1], False, "event row 1: journey id 2 has no outcome row"),
    ([0, -1], [0, 1], False, "event row 0: journey id -1 has no outcome row"),
    ([0, 1], [0, 2], True, "event row 1: channel code 2 is outside the list of 2 channel names"),
    ([1, 0], [0, 1], True, "event row 1: events said to be sorted by journey are not"),
])
def test_events_builder_names_the_bad_row(journey, code, presorted, message):
    with pytest.raises(AttributionInputInvalid, match=message):
        journeys_from_events(np.array(journey), np.array(code), ["a", "b"], converted=np.array([1.0, 0.0]),
                             presorted=presorted)


def test_converting_subset_gives_the_same_rule_credit():
    j = journeys_from_lists(JOURNEYS, CONVERTED, value=[10, 0, 5, 20])
    for model in ("linear", "u_shaped", "w_shaped"):
        assert rule_credit(j.converting(), model).conversions.tolist() == pytest.approx(
            rule_credit(j, model).conversions.tolist())


journey_lists = st.lists(
    st.tuples(st.lists(st.sampled_from("abcde"), min_size=1, max_size=8), st.booleans(),
              st.floats(min_value=0, max_value=1000, allow_nan=False)),
    min_size=1, max_size=40)


def _reference(paths, conv, model):
    """Plain-Python first/last/linear."""
    out: dict[str, float] = {}
    for p, c in zip(paths, conv, strict=True):
        if not c:
            continue
        if model == "first_touch":
            parts = [(p[0], 1.0)]
        elif model == "last_touch":
            parts = [(p[-1], 1.0)]
        else:
            parts = [(ch, 1 / len(p)) for ch in p]
        for ch, w in parts:
            out[ch] = out.get(ch, 0.0) + w
    return out


@settings(max_examples=60, deadline=None)
@given(journey_lists)
def test_rule_credit_sums_to_totals_and_matches_reference(rows):
    # Given random journeys
    paths = [r[0] for r in rows]
    conv = [1.0 if r[1] else 0.0 for r in rows]
    value = [r[2] * c for r, c in zip(rows, conv, strict=True)]
    j = journeys_from_lists(paths, conv, value=value, times=[list(range(len(p))) for p in paths])
    for model in RULE_MODELS:
        # When each rule model credits them
        c = attribute(j, model, custom=(0.3, 0.3, 0.4))
        # Then attributed conversions and value sum exactly to the totals
        assert c.conversions.sum() == pytest.approx(sum(conv), abs=1e-9)
        assert c.value.sum() == pytest.approx(sum(value), rel=1e-9, abs=1e-6)
        assert (c.conversions >= -1e-12).all()
    for model in ("first_touch", "last_touch", "linear"):
        c = attribute(j, model)
        got = {n: x for n, x in zip(c.names, c.conversions.tolist(), strict=True) if x}
        assert got == pytest.approx(_reference(paths, conv, model))


def test_unknown_model_is_rejected():
    with pytest.raises(ValueError):
        AttributionModel("magic")


def test_u_shape_gives_its_second_40_percent_to_the_lead_creation_touch():
    # Given a journey a > b > c > d whose lead was created at b (position 1), and one where it is unknown
    j = journeys_from_lists([["a", "b", "c", "d"], ["a", "b", "c", "d"]], [1, 1], lead_pos=[1, -1])
    # When U-shaped credits them
    c = rule_credit(j, "u_shaped")
    # Then the first touch and the lead-creation touch take 40 % each and c, d share 20 % (HubSpot's U-shape);
    # without a known lead-creation touch the last touch takes its place: a .4, b .1, c .1, d .4
    assert c.touch_share.tolist() == pytest.approx([0.4, 0.4, 0.1, 0.1, 0.4, 0.1, 0.1, 0.4])
    assert c.weights == {"model": "u_shaped", "first": 0.4, "lead_creation": 0.4, "middle": 0.2}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-5, 5), st.integers(0, 2)), max_size=60),
       st.sampled_from([1, 10**7, 10**12]))
def test_sort_order_is_the_full_order_by_subject_time_and_ties(rows, scale):
    from smarketing.analytics.kernels.journeys import sort_order

    # Given rows with repeated subjects and times (and, scaled up, keys too wide to pack into one integer)
    subject = np.array([r[0] for r in rows], dtype=np.int64) * scale
    time = np.array([r[1] for r in rows], dtype=np.int64) * scale
    src = np.array([r[2] for r in rows], dtype=np.int64)
    ids = np.arange(len(rows), dtype=np.int64)[::-1].copy()
    # When they are put in order
    order = sort_order(subject, time, src, ids)
    # Then it is the order of sorting by every key in turn
    assert order.tolist() == np.lexsort((ids, src, time, subject)).tolist()


@pytest.mark.parametrize("threads", [1, 3])
@pytest.mark.parametrize("arrival", ["shuffled", "by time", "reversed"])
def test_sort_order_orders_long_runs_of_one_subject_as_a_full_sort(arrival, threads, monkeypatch):
    from smarketing.analytics.kernels import loops
    from smarketing.analytics.kernels.journeys import sort_order

    # (on three threads, each counting and placing a third of the rows and ordering a third of the runs)
    monkeypatch.setattr(loops, "PARALLEL_MIN_TOUCHES", 1 if threads > 1 else loops.PARALLEL_MIN_TOUCHES)
    monkeypatch.setattr(loops, "workers", lambda: threads)

    # Given 3,000 rows of 7 subjects (runs far longer than an insertion sort's), times with many repeats,
    # arriving in random order, in time order (as a history read month by month) or backwards
    rng = np.random.default_rng(5)
    subject = rng.integers(100, 107, 3000)
    time = rng.integers(0, 400, 3000)
    ids = rng.permutation(3000).astype(np.int64)
    if arrival != "shuffled":
        by = np.argsort(time, kind="stable")[:: 1 if arrival == "by time" else -1]
        subject, time, ids = subject[by], time[by], ids[by]
    # When they are put in order
    order = sort_order(subject, time, ids)
    # Then it is the order of sorting by subject, time and id
    assert order.tolist() == np.lexsort((ids, time, subject)).tolist()


def test_touches_and_reach_count_converting_touches_and_each_journey_once():
    import numpy as np

    from smarketing.analytics.kernels.loops import touches_and_reach

    # given three journeys: [0, 1, 0] converting, [1, 1] not, [2] converting
    offsets = np.array([0, 3, 5, 6], dtype=np.int64)
    codes = np.array([0, 1, 0, 1, 1, 2], dtype=np.int32)
    converting = np.array([True, False, True])
    # when counted
    touches, reach = touches_and_reach(offsets, codes, converting, 4)
    # then touches count only converting journeys' touches, reach each journey once per code
    assert touches.tolist() == [2, 1, 1, 0]
    assert reach.tolist() == [1, 2, 1, 0]
