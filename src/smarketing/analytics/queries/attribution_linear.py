"""Linear attribution read straight off the level's sorted touches.

Every journey is a run of its subject's sorted touches (`JourneyRanges`), and the linear model does not look at
positions: so no journey is gathered into arrays of its own, and no lead or opportunity position, touch time or
touch id is looked up. The compiled loops in `kernels.ranges` do the same arithmetic in the same order as the
gathered path (`build_journeys` → `rule_credit`), so the figures are the same floats.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from smarketing.analytics.queries.attribution import (
    AttributionQuery,
    AttributionResult,
    attribution_result,
    campaign_labels,
    rows_of,
)
from smarketing.analytics.queries.attribution_journeys import JourneyRanges, journey_ranges

if TYPE_CHECKING:
    from smarketing.analytics.kernels import Credit


@dataclasses.dataclass(frozen=True)
class LinearCredit:
    """Linear credit of the codes that appear in some journey (in order of first appearance), with each code's
    touches in converting journeys and its reach, and each code's index among the touches' codes."""

    credit: Credit
    touches: np.ndarray
    reach: np.ndarray
    index: np.ndarray


def _codes(r: JourneyRanges, by: Literal["channel", "campaign"]) -> tuple[np.ndarray, tuple[str, ...]]:
    st = r.touches
    return (st.channel, st.channel_names) if by == "channel" else (st.campaign, st.campaign_names)


def linear_credit(r: JourneyRanges, by: Literal["channel", "campaign"]) -> LinearCredit:
    """Linear credit by channel or campaign of the journeys `r` holds."""
    from smarketing.analytics.kernels.ranges import linear_credit as credit_of
    from smarketing.analytics.kernels.ranges import touches_and_reach

    codes, names = _codes(r, by)
    touches, reach, seen = touches_and_reach(r.lo, r.hi, codes, r.conversions > 0, len(names))
    full = credit_of(r.lo, r.hi, r.conversions, r.value, codes, names)
    return LinearCredit(credit=seen_only(full, seen), touches=touches[seen], reach=reach[seen], index=seen)


def seen_only(full: Credit, seen: np.ndarray) -> Credit:
    """`full` (credit per code of every name) cut to the codes `seen` in some journey, in that order: the names the
    gathered path gives credit to."""
    from smarketing.analytics.kernels import Credit  # compiled loops; load when a query runs

    return Credit(names=tuple(full.names[i] for i in seen), conversions=full.conversions[seen],
                  value=full.value[seen], weights=full.weights)


def influenced_by_campaign(r: JourneyRanges) -> dict[str, float]:
    """Full value of every converting journey, counted once for each campaign it touched."""
    from smarketing.analytics.kernels.ranges import influenced  # compiled; loads when a query runs

    codes, names = _codes(r, "campaign")
    amounts = influenced(r.lo, r.hi, codes, r.value, r.conversions > 0, len(names))
    return {k: float(a) for k, a in zip(names, amounts, strict=True)}


def linear_attribution(engine: Any, spec: AttributionQuery) -> AttributionResult:
    """The attribution query kind under the linear model (`run_attribution` hands linear specs here)."""
    r = journey_ranges(engine, spec)
    ch, cp = linear_credit(r, "channel"), linear_credit(r, "campaign")
    return attribution_result(
        spec, r.conversions, r.value, r.lengths, ch.credit, cp.credit,
        channels=rows_of(ch.credit, ch.touches, ch.reach),
        campaigns=rows_of(cp.credit, cp.touches, cp.reach, campaign_labels(engine, cp.credit.names)))
