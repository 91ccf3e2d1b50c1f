"""Shapley attribution (exact and sampled) and the aggregated paths format."""

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


def _reference_shapley(paths, conv):
    """Textbook Shapley over all coalitions, v(S) = conversion rate of journeys whose channels lie in S."""
    channels = sorted({c for p in paths for c in p})
    sets = [frozenset(p) for p in paths]

    def v(s):
        inside = [c for t, c in zip(sets, conv, strict=True) if t <= s]
        return sum(inside) / len(inside) if inside else 0.0

    n = len(channels)
    phi = {}
    for ch in channels:
        others = [c for c in channels if c != ch]
        total = 0.0
        for k in range(n):
            for s in combinations(others, k):
                w = factorial(k) * factorial(n - k - 1) / factorial(n)
                total += w * (v(frozenset(s) | {ch}) - v(frozenset(s)))
        phi[ch] = total * len(paths)
    return phi


def test_shapley_matches_textbook_enumeration():
    # Given journeys where a helps, b is neutral and c hurts
    paths = [["a"], ["a", "b"], ["b"], ["b"], ["c"], ["a", "c"], ["b", "c"], ["a", "b", "c"]]
    conv = [1, 1, 0, 1, 0, 1, 0, 0]
    j = journeys_from_lists(paths, conv)
    # When exact Shapley credits them
    c = shapley_credit(j)
    # Then every channel's credit equals the enumeration over coalitions and the total is the conversions
    assert dict(zip(c.names, c.conversions.tolist(), strict=True)) == pytest.approx(_reference_shapley(paths, conv))
    assert c.conversions.sum() == pytest.approx(sum(conv))
    assert c.extra["exact"] is True


def test_sampled_shapley_is_close_to_exact_and_reports_its_error():
    # Given 6 channels of random journeys
    rng = np.random.default_rng(3)
    paths = [[f"c{x}" for x in rng.integers(0, 6, rng.integers(1, 5))] for _ in range(400)]
    conv = (rng.random(400) < 0.3).astype(float)
    j = journeys_from_lists(paths, conv)
    # When the sampled estimator runs (forced) next to the exact one
    exact = shapley_credit(j)
    approx = shapley_credit(j, exact_max_channels=2, permutations=600, seed=1)
    # Then totals stay exact and each channel lies within a few standard errors of the exact value
    assert approx.extra["exact"] is False
    assert approx.conversions.sum() == pytest.approx(conv.sum())
    err = approx.extra["stderr_conversions"]
    assert np.all(np.abs(approx.conversions - exact.conversions) <= 5 * err + 1e-9)


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abcde"), min_size=1, max_size=6), st.booleans()),
                min_size=1, max_size=30))
def test_shapley_credit_sums_to_total_conversions(rows):
    paths = [r[0] for r in rows]
    conv = [1.0 if r[1] else 0.0 for r in rows]
    c = shapley_credit(journeys_from_lists(paths, conv))
    assert c.conversions.sum() == pytest.approx(sum(conv), abs=1e-9)


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
