"""Every model's credit is never negative and adds up to the observed conversions, pipeline and revenue."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smarketing.analytics.kernels import AttributionModel, attribute, journeys_from_lists
from smarketing.analytics.queries.attribution import AttributionQuery, run_model
from smarketing.analytics.queries.attribution_journeys import build_journeys
from smarketing.analytics.queries.roi import RoiQuery
from smarketing.analytics.registry import run_query
from smarketing.analytics.tests.test_attribution_api import deal_world  # noqa: F401  (fixture)

MODELS = [m.value for m in AttributionModel]
CREDITS = [("opportunity_created", "conversions"), ("opportunity_created", "pipeline"),
           ("opportunity_won", "revenue"), ("mql", "conversions")]


def _spec(model: str, **extra: object) -> dict[str, object]:
    return {"model": model, **({"weights": (0.5, 0.2, 0.3)} if model == "custom" else {}), **extra}


def assert_adds_up(result) -> None:
    """Channels and campaigns each share exactly the conversions and value of the journeys with touches."""
    for rows in (result.channels, result.campaigns):
        assert all(r.conversions >= 0 and r.value >= 0 for r in rows), [(r.name, r.conversions, r.value)
                                                                          for r in rows]
        assert sum(r.conversions for r in rows) + result.unattributed_conversions == pytest.approx(
            result.total_conversions, abs=1e-6)
        assert sum(r.value for r in rows) + result.unattributed_value == pytest.approx(result.total_value, abs=1e-3)


@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize(("conversion", "credit"), CREDITS)
def test_every_model_adds_up_to_the_totals_at_both_levels(deal_world, level, conversion, credit):  # noqa: F811
    # Given the journeys of one conversion, built once on the engine
    from smarketing.analytics.engine import open_engine

    base = AttributionQuery(level=level, conversion=conversion, credit=credit)
    with open_engine() as engine:
        data = build_journeys(engine, base)
    j = data.by_channel
    with_touches = j.lengths > 0
    for model in MODELS:
        spec = AttributionQuery.model_validate(_spec(model, level=level, conversion=conversion, credit=credit))
        for by in ("channel", "campaign"):
            # When each model credits the channels and the campaigns
            c = run_model(data, spec, by=by)  # type: ignore[arg-type]
            # Then nothing is negative and the credit is exactly what the journeys with touches earned
            assert (c.conversions >= -1e-12).all() and (c.value >= -1e-9).all(), (model, by)
            assert c.conversions.sum() == pytest.approx(j.conversions[with_touches].sum(), abs=1e-9), (model, by)
            assert c.value.sum() == pytest.approx(j.value[with_touches].sum(), abs=1e-6), (model, by)


@pytest.mark.parametrize("model", MODELS)
def test_every_result_adds_up_and_states_its_definition_and_method(deal_world, model):  # noqa: F811
    # When the model credits the won revenue at account level through the query kind
    result = run_query(AttributionQuery.model_validate(_spec(model, level="account", conversion="opportunity_won",
                                                             credit="revenue")))
    # Then channels and campaigns add up to the totals, the won deal's 1,000 is shared in full (every touch
    # precedes it), and the result says in words what the model did and how
    assert_adds_up(result)
    assert sum(r.value for r in result.campaigns) == pytest.approx(1000.0)
    assert result.definition and result.method.startswith("exact")


@pytest.mark.parametrize("model", MODELS)
def test_roi_revenue_and_pipeline_add_up_under_every_model(deal_world, model):  # noqa: F811
    # When ROI is computed at account level
    roi = run_query(RoiQuery.model_validate(_spec(model, level="account")))
    # Then the campaigns' attributed revenue and pipeline add up to the won deal, none negative
    assert sum(r.revenue for r in roi.campaigns) == pytest.approx(1000.0)
    assert sum(r.pipeline for r in roi.campaigns) == pytest.approx(1000.0)
    assert all(r.revenue >= 0 and r.pipeline >= 0 for r in roi.campaigns)
    assert roi.total.revenue == pytest.approx(1000.0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.lists(st.sampled_from("abcdef"), min_size=0, max_size=7), st.booleans(),
                          st.floats(0, 500)), min_size=1, max_size=30),
       st.sampled_from([m for m in MODELS if m != "time_decay"]))
def test_kernels_never_give_negative_credit_and_share_what_journeys_with_touches_earned(rows, model):
    # Given random journeys, some without touches
    paths = [r[0] for r in rows]
    conv = [1.0 if r[1] else 0.0 for r in rows]
    value = [r[2] * c for r, c in zip(rows, conv, strict=True)]
    j = journeys_from_lists(paths, conv, value=value, names=list("abcdef"))
    data_driven = model in ("markov", "shapley")
    # When the model credits them (rule models see the converting journeys, as the query does)
    c = attribute(j if data_driven else j.converting(), model, custom=(0.5, 0.2, 0.3) if model == "custom" else None)
    # Then no channel is negative and the credit is exactly what the journeys with touches earned
    with_touches = [i for i, p in enumerate(paths) if p]
    assert (c.conversions >= -1e-12).all() and (c.value >= -1e-9).all()
    assert c.conversions.sum() == pytest.approx(sum(conv[i] for i in with_touches), abs=1e-9)
    assert c.value.sum() == pytest.approx(sum(value[i] for i in with_touches), abs=1e-6)


@pytest.mark.slow
def test_on_the_demo_no_campaign_or_channel_gets_negative_credit_and_every_model_adds_up(db, active_playbook):
    from smarketing.demo.services import demo_seed

    # Given the small demo company
    demo_seed(size="small", seed=1)
    for level in ("contact", "account"):
        for model in MODELS:
            for conversion, credit in CREDITS[1:3]:
                # When each model credits pipeline and revenue
                result = run_query(AttributionQuery.model_validate(_spec(model, level=level, conversion=conversion,
                                                                         credit=credit)))
                # Then nothing is negative and everything adds up
                assert_adds_up(result)
