"""Shapley attribution (the exact simplified Shapley value) and the aggregated paths format."""

from __future__ import annotations

from itertools import combinations
from math import factorial

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarketing.analytics.kernels import (
    AttributionInputInvalid,
    PathsFileInvalid,
    journeys_from_lists,
    journeys_from_path_strings,
    parse_paths,
    shapley_credit,
)


def _textbook_shapley(paths, earned):
    """Shapley by its definition: the weighted marginal contributions over every coalition, for the game
    v(S) = what the journeys whose channels all lie in S earned."""
    channels = sorted({c for p in paths for c in p})
    sets = [frozenset(p) for p in paths]

    def v(s):
        return sum(e for t, e in zip(sets, earned, strict=True) if t <= s)

    n = len(channels)
    phi = {}
    for ch in channels:
        others = [c for c in channels if c != ch]
        phi[ch] = sum(factorial(k) * factorial(n - k - 1) / factorial(n) * (v(frozenset(s) | {ch}) - v(frozenset(s)))
                      for k in range(n) for s in combinations(others, k))
    return phi


def _credit(c):
    return (dict(zip(c.names, c.conversions.tolist(), strict=True)),
            dict(zip(c.names, c.value.tolist(), strict=True)))


def test_shapley_by_hand_on_three_channels_with_values():
    # Given a>b (converts, 100), a (converts, 40), b>c>b (converts, 60) and c (does not convert)
    j = journeys_from_lists([["a", "b"], ["a"], ["b", "c", "b"], ["c"]], [1, 1, 1, 0], value=[100, 40, 60, 0])
    # When the simplified Shapley value credits them
    conv, value = _credit(shapley_credit(j))
    # Then, by hand — the coalitions are R({a,b}) = 1 conversion / 100, R({a}) = 1 / 40, R({b,c}) = 1 / 60:
    #   a = 1/2 of {a,b} + all of {a}       = 0.5 + 1   = 1.5 conversions;  50 + 40 = 90
    #   b = 1/2 of {a,b} + 1/2 of {b,c}     = 0.5 + 0.5 = 1.0 conversions;  50 + 30 = 80
    #   c = 1/2 of {b,c} (b twice is still one b) = 0.5 conversions;  30; c's lone journey earned nothing
    assert conv == pytest.approx({"a": 1.5, "b": 1.0, "c": 0.5})
    assert value == pytest.approx({"a": 90.0, "b": 80.0, "c": 30.0})


def test_shapley_by_hand_gives_no_negative_credit_to_a_channel_that_converts_badly():
    # Given the journeys on which the old conversion-rate Shapley gave c negative credit:
    # a ✓, a>b ✓, b ✗, b ✓, c ✗, a>c ✓, b>c ✗, a>b>c ✗
    paths = [["a"], ["a", "b"], ["b"], ["b"], ["c"], ["a", "c"], ["b", "c"], ["a", "b", "c"]]
    j = journeys_from_lists(paths, [1, 1, 0, 1, 0, 1, 0, 0])
    # When the simplified Shapley value credits them
    c = shapley_credit(j)
    conv, _ = _credit(c)
    # Then, by hand — only converting journeys earn: R({a}) = 1, R({a,b}) = 1, R({b}) = 1, R({a,c}) = 1:
    #   a = 1 + 1/2 + 1/2 = 2.0;  b = 1/2 + 1 = 1.5;  c = 1/2 = 0.5;  total 4 = the 4 conversions
    assert conv == pytest.approx({"a": 2.0, "b": 1.5, "c": 0.5})
    # And the breakdown by the order in which each channel entered its journey (ordered Shapley) adds up:
    # a entered first in a, a>b and a>c (1 + 0.5 + 0.5); b second in a>b (0.5), first in b (1); c second in a>c
    by_order = dict(zip(c.names, c.extra["by_order"].tolist(), strict=True))
    assert by_order["a"] == pytest.approx([2.0, 0, 0, 0])
    assert by_order["b"] == pytest.approx([1.0, 0.5, 0, 0])
    assert by_order["c"] == pytest.approx([0, 0.5, 0, 0])
    assert c.extra["exact"] is True and c.extra["sampled"] is False and c.extra["coalitions"] == 4


def test_shapley_by_hand_on_aggregated_paths_with_repeated_touches():
    # Given the paths file: "a > b > a" converted 3 times (300) and failed 7 times; "b" converted once (50)
    j = parse_paths([HEADER, "a > b > a;3;300;7", "b;1;50;9"])
    # When the simplified Shapley value credits them
    c = shapley_credit(j)
    conv, value = _credit(c)
    # Then, by hand — R({a,b}) = 3 conversions / 300, R({b}) = 1 / 50:
    #   a = 3/2 = 1.5 conversions, 300/2 = 150;   b = 3/2 + 1 = 2.5 conversions, 150 + 50 = 200
    assert conv == pytest.approx({"a": 1.5, "b": 2.5})
    assert value == pytest.approx({"a": 150.0, "b": 200.0})
    # And each touch's share of its journey: a's half split over its two touches (1/4 each), b's half whole
    assert c.touch_share.tolist() == pytest.approx([0.25, 0.5, 0.25, 1.0])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abcde"), min_size=1, max_size=6), st.booleans(),
                          st.floats(0, 1000)), min_size=1, max_size=25))
def test_shapley_equals_the_textbook_definition_is_never_negative_and_sums_to_the_totals(rows):
    # Given random journeys with values
    paths = [r[0] for r in rows]
    conv = [1.0 if r[1] else 0.0 for r in rows]
    value = [r[2] * c for r, c in zip(rows, conv, strict=True)]
    # When the closed form credits them
    c = shapley_credit(journeys_from_lists(paths, conv, value=value))
    got_conv, got_value = _credit(c)
    # Then it equals Shapley's definition enumerated over every coalition, is never negative, sums to the totals
    assert got_conv == pytest.approx(_textbook_shapley(paths, conv), abs=1e-9)
    assert got_value == pytest.approx(_textbook_shapley(paths, value), abs=1e-6)
    assert (c.conversions >= 0).all() and (c.value >= 0).all()
    assert c.conversions.sum() == pytest.approx(sum(conv), abs=1e-9)
    assert c.value.sum() == pytest.approx(sum(value), abs=1e-6)


def test_shapley_is_exact_over_hundreds_of_campaigns():
    # Given 300 campaigns, far beyond what enumerating 2^C coalitions allows
    rng = np.random.default_rng(3)
    paths = [[f"c{x}" for x in rng.integers(0, 300, rng.integers(1, 6))] for _ in range(2000)]
    conv = (rng.random(2000) < 0.3).astype(float)
    # When Shapley credits them
    c = shapley_credit(journeys_from_lists(paths, conv))
    # Then nothing is sampled, the credit is never negative and it sums to the conversions
    assert c.extra["exact"] is True and c.extra["sampled"] is False
    assert (c.conversions >= 0).all()
    assert c.conversions.sum() == pytest.approx(conv.sum())
    # And any one campaign's credit equals its evenly split share of every converting journey it touched
    expected = sum(1 / len(set(p)) for p, x in zip(paths, conv, strict=True) if x and "c7" in p)
    assert dict(zip(c.names, c.conversions.tolist(), strict=True))["c7"] == pytest.approx(expected)


HEADER = "path;total_conversions;total_conversion_value;total_null"

channel_names = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1, max_size=12).map(
    str.strip).filter(lambda s: s and not set(s) & set(">|→"))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(st.integers(0, 299), max_size=8), min_size=1, max_size=40),
       st.lists(channel_names, min_size=300, max_size=300, unique=True), st.sampled_from([" > ", ">", " | ", "→"]),
       st.booleans())
def test_path_strings_encode_like_a_plain_split(rows, names, separator, large):
    # Given paths over up to 300 distinct channels (the channel table grows several times), padded with spaces
    strings = [separator.join(f"  {names[c]} " for c in row) for row in rows]
    arr = pa.array(strings, type=pa.large_string() if large else pa.string())
    # When they are encoded by the compiled splitter
    j = journeys_from_path_strings(arr, np.ones(len(rows)), np.zeros(len(rows)), np.zeros(len(rows)),
                                   separator=separator)
    # Then channels are numbered by first appearance and every journey reads back as the plain split
    expected_names = list(dict.fromkeys(t.strip() for s in strings if s for t in s.split(separator)))
    assert list(j.names) == expected_names
    decoded = [[j.names[c] for c in j.codes[j.offsets[r]:j.offsets[r + 1]]] for r in range(len(rows))]
    assert decoded == [[names[c] for c in row] for row in rows]


def test_path_strings_from_a_sliced_arrow_array_and_missing_paths():
    # Given an Arrow slice (non-zero offset), it encodes only its own rows
    arr = pa.array(["x > y", "a > b", "b"]).slice(1)
    j = journeys_from_path_strings(arr, np.ones(2), np.zeros(2), np.zeros(2))
    assert j.names == ("a", "b") and j.codes.tolist() == [0, 1, 1]
    # A missing path is named by its row
    with pytest.raises(AttributionInputInvalid, match="path 1 is missing"):
        journeys_from_path_strings(pa.array(["a", None]), np.ones(2), np.zeros(2), np.zeros(2))


def test_paths_format_parses_counts_and_channels():
    # Given a paths file with a header and two rows
    j = parse_paths([HEADER, "a > b;2;100.5;3", "b;0;0;4", ""])
    # Then each row carries its counts and channels are integer-coded
    assert j.names == ("a", "b")
    assert j.conversions.tolist() == [2.0, 0.0]
    assert j.value.tolist() == [100.5, 0.0]
    assert j.nulls.tolist() == [3.0, 4.0]
    assert j.codes.tolist() == [0, 1, 1]
    assert j.offsets.tolist() == [0, 2, 3]


@pytest.mark.parametrize(("lines", "message"), [
    ([], "empty"),
    (["path,total_conversions"], "line 1: expected the header"),
    ([HEADER], "no paths"),
    ([HEADER, "a > b;1;2"], "line 2: expected 4 fields"),
    ([HEADER, "a;1;0;0", "a >  > b;1;0;0"], "line 3: the path has an empty channel"),
    ([HEADER, ";1;0;0"], "line 2: the path has an empty channel"),
    ([HEADER, "a;one;0;0"], "line 2: total_conversions must be a number"),
    ([HEADER, "a;1;-5;0"], "line 2: total_conversion_value must be a finite number"),
    ([HEADER, "a;1;0;nan"], "line 2: total_null must be a finite number"),
    ([HEADER, "a;0;0;0"], "line 2: total_conversions and total_null are both 0"),
])
def test_paths_format_errors_name_the_line(lines, message):
    with pytest.raises(PathsFileInvalid, match=message):
        parse_paths(lines)
