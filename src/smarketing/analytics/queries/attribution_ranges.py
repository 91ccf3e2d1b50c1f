"""Any attribution model's credit read straight off the level's sorted touches, without gathering journeys.

Every journey is a run of its subject's sorted touches (`JourneyRanges`). The compiled loops in `kernels.ranges*`
visit the runs in the order the gathered `Journeys` would hold them, number codes in the same order of first
appearance, and do the same arithmetic in the same chunks as the gathered path (`build_journeys` → `run_model`):
the figures are the same floats, for the codes the gathered path names (those some journey touched).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.queries.attribution import (
    AttributionQuery,
    AttributionResult,
    attribution_result,
    campaign_labels,
    rows_of,
)
from smarketing.analytics.queries.attribution_journeys import JourneyRanges, journey_ranges, lead_epochs_of
from smarketing.analytics.queries.attribution_linear import seen_only

if TYPE_CHECKING:
    from smarketing.analytics.kernels import Credit


def ranges_credit(engine: Any, r: JourneyRanges, spec: AttributionQuery,
                  by: Literal["channel", "campaign"]) -> Credit:
    """Credit by channel or campaign of the journeys `r` holds under the spec's model: `run_model` of the same
    journeys gathered, to the last bit."""
    from smarketing.analytics.kernels.ranges import (  # compiled loops; load when a query runs
        end_touch_credit,
        linear_credit,
        seen_codes,
        time_decay_credit,
    )
    from smarketing.analytics.kernels.ranges_markov import markov_ranges_credit
    from smarketing.analytics.kernels.ranges_rules import position_credit
    from smarketing.analytics.kernels.ranges_shapley import shapley_ranges_credit

    st = r.touches
    codes, names = (st.channel, st.channel_names) if by == "channel" else (st.campaign, st.campaign_names)
    m = spec.model
    if m is AttributionModel.MARKOV:
        return markov_ranges_credit(r.lo, r.hi, r.conversions, r.value, codes, names, order=spec.order)
    seen = seen_codes(r.lo, r.hi, codes, len(names))
    if m is AttributionModel.SHAPLEY:
        return shapley_ranges_credit(r.lo, r.hi, r.conversions, r.value, codes, names, seen)
    if m is AttributionModel.LINEAR:
        full = linear_credit(r.lo, r.hi, r.conversions, r.value, codes, names)
    elif m is AttributionModel.TIME_DECAY:
        full = time_decay_credit(r.lo, r.hi, r.conversions, r.value, codes, st.t_epoch, names, spec.half_life_days)
    elif m in (AttributionModel.FIRST_TOUCH, AttributionModel.LAST_TOUCH):
        full = end_touch_credit(r.lo, r.hi, r.conversions, r.value, codes, names,
                                last=m is AttributionModel.LAST_TOUCH)
    else:
        full = position_credit(r.lo, r.hi, r.conversions, r.value, lead_epochs_of(engine, spec.level, r.subjects),
                               r.opened, codes, st.t_epoch, names, m, spec.weights)
    return seen_only(full, seen)


def ranges_attribution(engine: Any, spec: AttributionQuery) -> AttributionResult:
    """The attribution query kind off the sorted touches (`run_attribution` hands every model but linear here):
    each channel's and campaign's credit, touches and reach, the result of the same journeys gathered."""
    from smarketing.analytics.kernels.ranges import touches_and_reach  # compiled; loads when a query runs

    r = journey_ranges(engine, spec)
    st = r.touches
    ch, cp = ranges_credit(engine, r, spec, "channel"), ranges_credit(engine, r, spec, "campaign")
    ch_touches, ch_reach, ch_seen = touches_and_reach(r.lo, r.hi, st.channel, r.conversions > 0,
                                                      len(st.channel_names))
    cp_touches, cp_reach, cp_seen = touches_and_reach(r.lo, r.hi, st.campaign, r.conversions > 0,
                                                      len(st.campaign_names))
    return attribution_result(
        spec, r.conversions, r.value, r.lengths, ch, cp,
        channels=rows_of(ch, ch_touches[ch_seen], ch_reach[ch_seen]),
        campaigns=rows_of(cp, cp_touches[cp_seen], cp_reach[cp_seen], campaign_labels(engine, cp.names)))
