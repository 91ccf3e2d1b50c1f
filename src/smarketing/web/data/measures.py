"""The measures a page shows: the metrics layer's `metrics` query kind for a period and filters, cached per data
version like every analytics figure (see `web.data.common.query_result`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

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


def metrics(period: Period, filters: Mapping[str, list[str]] | None = None, *, compare: bool = False,
            names: Iterable[str] | None = None, every: bool = False) -> MetricsResult | None:
    """The measures a page shows (`names`; default: every one but the campaign measures) for the period and
    filters, as `smarketing metrics --period … --json` prints them, or None while the worker computes them. A page
    names only what it shows: each measure is a scan of the history, and a first visit after a period change waits
    for all of them. With `compare`, each carries its change against the previous period (`--compare prev`); with
    `every`, every measure comes, the campaign ones too (the measures page lists them all)."""
    if every:
        names = []
    else:
        # One order for a set of names, so pages naming the same measures share one cached result.
        allowed = page_measures(filters)
        wanted = set(allowed if names is None else names)
        names = [name for name in allowed if name in wanted]
    result: MetricsResult | None = query_result("metrics", {"period": period.key, "filters": dict(filters or {}),
                                                            "names": names,
                                                            **({"compare": "prev"} if compare else {})})
    return result
