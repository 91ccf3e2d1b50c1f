"""The position-based models (U-shaped, W-shaped, full path, custom), Markov and Shapley read straight off the sorted
touches (`queries.attribution_ranges`, which the roi and the attribution query kind use) give the very figures of the gathered journeys
(`build_journeys` → `run_model`): the same floats, the same names in the same order, the same weights — at both
levels, with and without a window, for a period, for every conversion, and with the journeys cut into chunks as on a
large CRM."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from smarketing.analytics.engine import open_engine
from smarketing.analytics.kernels import loops
from smarketing.analytics.kernels.ranges_rules import position_credit
from smarketing.analytics.queries import roi
from smarketing.analytics.queries.attribution import (
    AttributionQuery,
    attribution_result,
    campaign_labels,
    credit_rows,
    run_model,
)
from smarketing.analytics.queries.attribution_journeys import build_journeys, journey_ranges
from smarketing.analytics.queries.attribution_ranges import ranges_credit
from smarketing.analytics.queries.roi import RoiQuery
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_attribution_linear import committees  # noqa: F401 - the shared fixture
from smarketing.analytics.tests.test_attribution_ranges import gathered_earned
from smarketing.core.errors import ValidationFailed

MODELS = [{"model": "u_shaped"}, {"model": "w_shaped"}, {"model": "full_path"},
          {"model": "custom", "weights": (0.4, 0.2, 0.4)}, {"model": "custom", "weights": (0.3, 0.1, 0.2, 0.4)},
          {"model": "custom", "weights": (0.5, 0.5)}, {"model": "markov"}, {"model": "markov", "order": 2},
          {"model": "markov", "order": 3}, {"model": "shapley"}]
PERIODS = [{}, {"window_days": 6.5}, {"start": date(2026, 1, 9), "end": date(2026, 1, 20)}]


def _chunked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Journeys cut into chunks by their touches, three threads' worth, as a large CRM's are (whatever the cores)."""
    monkeypatch.setattr(loops, "PARALLEL_MIN_TOUCHES", 1)
    monkeypatch.setattr(loops, "workers", lambda: 3)


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize("period", PERIODS, ids=["all", "window", "start-end"])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: "-".join(str(v) for v in m.values()))
def test_the_roi_off_the_sorted_touches_is_the_roi_of_the_gathered_journeys(committees, level, period,  # noqa: F811
                                                                            model, monkeypatch):
    # Given an ROI spec under a model that looks at positions, at the chain or at each journey's distinct campaigns
    # (credited in chunks at account level, in one piece at contact level: every model and period is seen both ways)
    if level == "account":
        _chunked(monkeypatch)
    spec = RoiQuery.model_validate({**model, **period, "level": level})
    # When it is computed off the sorted touches, and again through gathered journeys
    ranges = run_query(spec).model_dump(mode="json", exclude={"data_as_of"})
    monkeypatch.setattr(roi, "_earned", gathered_earned)
    gathered = run_query(spec).model_dump(mode="json", exclude={"data_as_of"})
    # Then every figure, the weights and method shown and the rows (the no-campaign one too) are the same
    assert ranges == gathered
    assert ranges["total"]["mqls"] > 0


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize(("conversion", "credit", "window_days"), [("mql", "conversions", None),
                                                                   ("sql", "pipeline", 6.5),
                                                                   ("opportunity_created", "pipeline", None),
                                                                   ("opportunity_won", "revenue", 6.5)])
@pytest.mark.parametrize("model", MODELS, ids=lambda m: "-".join(str(v) for v in m.values()))
def test_each_channel_and_campaign_is_credited_the_floats_of_the_gathered_journeys(
        committees, level, window_days, conversion, credit, model, monkeypatch):  # noqa: F811
    _chunked(monkeypatch)  # in one piece, the roi test above covers it
    aq = AttributionQuery.model_validate({**model, "level": level, "conversion": conversion, "credit": credit,
                                          "window_days": window_days})
    with open_engine() as engine:
        # When channels and campaigns are credited off the journeys' runs, and through the gathered journeys
        r = journey_ranges(engine, aq)
        data = build_journeys(engine, aq)
        for by in ("channel", "campaign"):
            off, gathered = ranges_credit(engine, r, aq, by), run_model(data, aq, by=by)
            # Then the names are the gathered ones in their order, and every figure is the same float
            assert off.names == gathered.names and off.names
            assert off.conversions.tolist() == gathered.conversions.tolist()
            assert off.value.tolist() == gathered.value.tolist()
            assert off.weights == gathered.weights
            _same_extra(off.extra, gathered.extra)
    assert sum(gathered.conversions) > 0


def _same_extra(mine: dict, theirs: dict) -> None:
    assert mine.keys() == theirs.keys()
    for k, v in mine.items():
        assert (v.tolist() == theirs[k].tolist()) if isinstance(v, np.ndarray) else v == theirs[k], k


def test_the_lead_and_opportunity_touches_are_found_inside_each_run():
    # Given two journeys over one sorted touch array: [0, 4) at epochs 10, 20, 20, 30 and [4, 7) at 5, 6, 7
    t_epoch = np.array([10, 20, 20, 30, 5, 6, 7], dtype=np.int64)
    codes = np.array([0, 1, 2, 3, 0, 1, 2], dtype=np.int32)
    lo, hi = np.array([0, 4]), np.array([4, 7])
    one = np.ones(2)
    # When W-shaped credit is given with, in the first, the lead at epoch 20 and the opportunity opened at 25 (each
    # the last touch at or before it: position 2); nothing known in the second
    credit = position_credit(lo, hi, one, one, np.array([20, -1]), np.array([25, -1]), codes, t_epoch,
                             ("a", "b", "c", "d"), "w_shaped")
    # Then the first gives 0.3 to its first touch, 0.3 + 0.3 to position 2 (both key roles) and the 0.1 middle to
    # the two other touches; the second (3 touches) 0.3 to its first, halfway and last touch, scaled up to 1/3 each
    first = {"a": 0.3, "b": 0.05, "c": 0.6, "d": 0.05}
    second = {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3, "d": 0.0}
    expected = [first[k] + second[k] for k in "abcd"]
    assert np.allclose(credit.conversions, expected)
    assert credit.weights["model"] == "w_shaped"


def test_only_a_position_based_model_is_credited_by_positions():
    none = np.zeros(0, dtype=np.int64)
    with pytest.raises(ValidationFailed, match="not a position-based model"):
        position_credit(none, none, np.zeros(0), np.zeros(0), none, none, np.zeros(0, dtype=np.int32), none, (),
                        "linear")


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize("conversion", ["mql", "sql"])
@pytest.mark.parametrize("period", [{}, {"start": date(2026, 1, 9), "end": date(2026, 1, 12)},
                                    {"start": date(2026, 1, 9), "end": date(2026, 1, 12),
                                     "timezone": "Pacific/Kiritimati"}], ids=["all", "period", "period-utc+14"])
def test_a_stage_conversion_s_units_come_from_the_kept_first_arrivals_as_from_the_query(committees, level,  # noqa: F811
                                                                                       conversion, period):
    from smarketing.analytics.queries import attribution_journeys as aj

    aq = AttributionQuery.model_validate({"level": level, "conversion": conversion, "credit": "conversions",
                                          **period})
    with open_engine() as engine:
        # When a stage conversion's units are read off each subject's kept first arrival, and by the units' query
        kept = aj._stage_units(engine, aq)
        queried = aj._unit_columns(engine.to_arrow(aj.conversion_units(engine, aq)))
    # Then they are the same units, with the same figures
    assert kept is not None and kept.keys() == queried.keys()
    mine, theirs = np.argsort(kept["keys"]), np.argsort(queried["keys"])
    for k in kept:
        assert kept[k][mine].tolist() == queried[k][theirs].tolist(), k
    assert kept["keys"].shape[0] > 0 or period


@pytest.mark.django_db
def test_units_worth_more_than_one_conversion_are_still_queried(committees):  # noqa: F811
    from smarketing.analytics.queries import attribution_journeys as aj

    with open_engine() as engine:
        assert aj._stage_units(engine, AttributionQuery(conversion="mql", credit="pipeline")) is None
        assert aj._stage_units(engine, AttributionQuery(conversion="opportunity_won", credit="conversions")) is None


def _gathered_attribution(engine, spec: AttributionQuery):
    """The attribution query kind through gathered journeys (as it ran before it read the sorted touches)."""
    data = build_journeys(engine, spec)
    j = data.by_channel
    ch, cp = run_model(data, spec, by="channel"), run_model(data, spec, by="campaign")
    return attribution_result(spec, j.conversions, j.value, j.lengths, ch, cp, channels=credit_rows(ch, j),
                              campaigns=credit_rows(cp, data.by_campaign, campaign_labels(engine, data.campaign_keys)))


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize("period", PERIODS, ids=["all", "window", "start-end"])
@pytest.mark.parametrize("model", [*MODELS, {"model": "time_decay", "half_life_days": 2.0}, {"model": "first_touch"},
                                   {"model": "last_touch"}], ids=lambda m: "-".join(str(v) for v in m.values()))
def test_the_attribution_query_off_the_sorted_touches_is_that_of_the_gathered_journeys(committees, level,  # noqa: F811
                                                                                      period, model, monkeypatch):
    _chunked(monkeypatch)
    spec = AttributionQuery.model_validate({**model, **period, "level": level, "conversion": "opportunity_won",
                                            "credit": "revenue"})
    # When the attribution query kind runs, and the same spec through gathered journeys
    with open_engine() as engine:
        off = run_query(spec, engine=engine).model_dump(mode="json", exclude={"data_as_of"})
        gathered = _gathered_attribution(engine, spec).model_dump(mode="json", exclude={"data_as_of"})
    # Then every row (credit, share, weight, touches, reach, Shapley's split by order), total and weight is the same
    assert off == gathered
    assert off["channels"] and off["campaigns"]
