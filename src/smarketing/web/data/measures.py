"""The measures a page shows: the metrics layer's `metrics` query kind for a period and filters, cached per data
version like every analytics figure (see `web.data.common.query_result`)."""

from __future__ import annotations

from collections.abc import Mapping

from smarketing.analytics.metrics import MetricsResult
from smarketing.web.data.common import query_result
from smarketing.web.periods import Period


def metrics(period: Period, filters: Mapping[str, list[str]] | None = None, *,
            compare: bool = False) -> MetricsResult | None:
    """Every measure for the period and filters (what `smarketing metrics --period … --json` prints), or None
    while the worker computes it. All measures are asked for at once, so the pages share one cached result; with
    `compare`, each also carries its change against the previous period (`--compare prev`)."""
    result: MetricsResult | None = query_result("metrics", {"period": period.key, "filters": dict(filters or {}),
                                                            **({"compare": "prev"} if compare else {})})
    return result
