"""The measures a page shows: the metrics layer's `metrics` query kind for a period and filters, cached per data
version like every analytics figure (see `web.data.common.query_result`)."""

from __future__ import annotations

from collections.abc import Mapping

from smarketing.analytics.metrics import MEASURES, MetricsResult
from smarketing.analytics.metrics.campaigns import FIELDS as CAMPAIGN_MEASURES
from smarketing.web.data.common import query_result
from smarketing.web.periods import Period


def page_measures(filters: Mapping[str, list[str]] | None = None) -> list[str]:
    """The measures the pages read from the metrics query: every one that takes the filters, but the campaign
    measures. A page reads those off its own `roi` result (`campaign_metrics`); asked for here they would run
    attribution inside the metrics query, seconds on a large CRM, for figures no page shows from it."""
    return [name for name, measure in MEASURES.items()
            if name not in CAMPAIGN_MEASURES and all(f in measure.filters for f in filters or {})]


def metrics(period: Period, filters: Mapping[str, list[str]] | None = None, *,
            compare: bool = False, every: bool = False) -> MetricsResult | None:
    """The pages' measures for the period and filters (what `smarketing metrics --period … --json` prints for
    them), or None while the worker computes them. They are asked for at once in one spec, so the pages share one
    cached result; with `compare`, each also carries its change against the previous period (`--compare prev`);
    with `every`, the campaign measures come too (the measures page lists them all)."""
    names = [] if every else page_measures(filters)
    result: MetricsResult | None = query_result("metrics", {"period": period.key, "filters": dict(filters or {}),
                                                            "names": names,
                                                            **({"compare": "prev"} if compare else {})})
    return result
