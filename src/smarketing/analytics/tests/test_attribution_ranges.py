"""Time-decay, first-touch and last-touch credit read straight off the sorted touches (`kernels.ranges`, which the
roi uses) give the very figures of the gathered journeys (`rule_credit` under the same model), at both levels, with
and without a window, for every conversion: the same floats, not merely close ones."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from smarketing.analytics.engine import open_engine
from smarketing.analytics.kernels.ranges import end_touch_credit, time_decay_credit
from smarketing.analytics.queries import roi
from smarketing.analytics.queries.attribution import AttributionQuery, run_model
from smarketing.analytics.queries.attribution_journeys import build_journeys, journey_ranges
from smarketing.analytics.queries.roi import RoiQuery
from smarketing.analytics.queries.touches import first_seen
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_attribution_linear import committees  # noqa: F401 - the shared fixture
from smarketing.core.errors import ValidationFailed


def gathered_influenced(data: Any) -> dict[str, float]:
    """Full value of every converting gathered journey, counted once for each campaign it touched (the roi's
    influence before it was read off the sorted touches)."""
    j = data.by_campaign
    jt = j.journey_of_touch()
    conv = j.conversions[jt] > 0
    pairs = first_seen(jt[conv] * max(j.n_codes, 1) + j.codes[conv].astype(np.int64))
    journeys, codes = pairs // max(j.n_codes, 1), pairs % max(j.n_codes, 1)
    amounts = np.bincount(codes, weights=j.value[journeys], minlength=j.n_codes)
    return {k: float(a) for k, a in zip(j.names, amounts, strict=True)}


def gathered_earned(engine: Any, aq: AttributionQuery) -> Any:
    """What the roi earned per conversion through gathered journeys (`build_journeys` → `run_model`), whatever the
    model: the reference the figures read off the sorted touches must equal."""
    data = build_journeys(engine, aq)
    return roi._Earned(credit=run_model(data, aq, by="campaign"), influenced=gathered_influenced(data),
                       influenced_total=roi._influenced_total(data.by_campaign))


WEIGHTS = {"time_decay": {"model": "time_decay", "half_life_days": 0.75, "weight": "2^(-age_days/half_life)"},
           "first_touch": {"model": "first_touch", "first": 1.0}, "last_touch": {"model": "last_touch", "last": 1.0}}


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize("window_days", [None, 6.5])
@pytest.mark.parametrize("model", ["time_decay", "first_touch", "last_touch"])
def test_the_roi_off_the_sorted_touches_is_the_roi_of_the_gathered_journeys(committees, level,  # noqa: F811
                                                                            window_days, model, monkeypatch):
    # Given an ROI spec under a model read off the sorted touches
    spec = RoiQuery.model_validate({"model": model, "level": level, "window_days": window_days,
                                    "half_life_days": 0.75})
    # When it is computed off the sorted touches, and again through gathered journeys
    ranges = run_query(spec).model_dump(mode="json", exclude={"data_as_of"})
    monkeypatch.setattr(roi, "_earned", gathered_earned)
    gathered = run_query(spec).model_dump(mode="json", exclude={"data_as_of"})
    # Then every figure, the weights shown and the rows (the no-campaign one too) are the same
    assert ranges == gathered
    assert ranges["total"]["revenue"] > 0 and ranges["total"]["mqls"] > 0
    assert ranges["weights"] == WEIGHTS[model]


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize(("conversion", "credit"), [("mql", "conversions"), ("opportunity_created", "pipeline"),
                                                    ("opportunity_won", "revenue")])
@pytest.mark.parametrize("model", ["time_decay", "first_touch", "last_touch"])
def test_each_channel_is_credited_the_floats_of_the_gathered_journeys(committees, level, conversion,  # noqa: F811
                                                                      credit, model):
    aq = AttributionQuery.model_validate({"model": model, "level": level, "conversion": conversion,
                                          "credit": credit, "half_life_days": 3.0})
    with open_engine() as engine:
        # When the channels are credited off the journeys' runs, and through the gathered journeys
        r = journey_ranges(engine, aq)
        st = r.touches
        args = (r.lo, r.hi, r.conversions, r.value, st.channel)
        off = (time_decay_credit(*args, st.t_epoch, st.channel_names, 3.0) if model == "time_decay"
               else end_touch_credit(*args, st.channel_names, last=model == "last_touch"))
        gathered = run_model(build_journeys(engine, aq), aq, by="channel")
    # Then each channel the gathered journeys name has the very same conversions and value, the others none
    mine = {n: (c, v) for n, c, v in zip(off.names, off.conversions, off.value, strict=True)}
    theirs = {n: (c, v) for n, c, v in zip(gathered.names, gathered.conversions, gathered.value, strict=True)}
    assert theirs and all(mine[n] == theirs[n] for n in theirs)
    assert all(mine[n] == (0.0, 0.0) for n in set(mine) - set(theirs))
    assert sum(c for c, _ in theirs.values()) > 0
    assert off.weights == gathered.weights


def test_time_decay_refuses_a_half_life_that_is_not_positive():
    none = np.zeros(0, dtype=np.int64)
    with pytest.raises(ValidationFailed, match="half-life"):
        time_decay_credit(none, none, np.zeros(0), np.zeros(0), np.zeros(0, dtype=np.int32), none, (), 0.0)
