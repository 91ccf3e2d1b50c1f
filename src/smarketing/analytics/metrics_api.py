"""Metrics API at /api/metrics: every measure's value for a period and filters, and the records behind one.

`GET /api/metrics?period=2026-Q4&filter=source:webinar&name=mqls_entered` and
`GET /api/metrics/{name}/records?period=…&filter=…&offset=0&limit=50`. Each `filter` is `field:value` on a contact
field (source, segment, owner, country, campaign): values of one field are ORed, fields ANDed, "(none)" matches a
missing value; `compare=prev` adds each measure's previous-period value and change; `model=` picks the attribution model of the campaign measures (default linear). An unknown measure
is 404; a bad period, filter or model is 422 naming the field.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router

from smarketing.analytics.metrics import MEASURES, MeasureRecordsResult, MetricsResult
from smarketing.analytics.metrics.compare import COMPARE_HELP
from smarketing.analytics.queries.funnel import filters_from_terms
from smarketing.analytics.registry import parse_spec, run_query
from smarketing.core.apitools import READ_ERRORS, Limit, Offset
from smarketing.core.errors import NotFound

router = Router()
PERIOD_HELP = "2026, 2026-Q4, 2026-11, last-30d or 2026-10-01..2026-12-31"
FILTER_HELP = ("field:value on source, segment, owner, country or campaign; repeat it (one field's values ORed); the "
               "campaign measures read campaign as the campaign's id or name")
MODEL_HELP = "Attribution model of the campaign measures (default linear)"


@router.get("/metrics", response={200: MetricsResult, **READ_ERRORS}, summary="Every measure for a period")
def metrics_list(request: HttpRequest, period: str = Query(..., description=PERIOD_HELP),
                 filter: list[str] = Query([], description=FILTER_HELP),  # noqa: A002
                 name: list[str] = Query([], description="Only these measures (default: all)"),
                 model: str | None = Query(None, description=MODEL_HELP),
                 compare: str | None = Query(None, description=COMPARE_HELP)) -> Any:
    """Each measure's value with its label, definition, basis and unit (numerator and denominator for a ratio);
    with `compare=prev`, its value for the previous period and the change."""
    spec = parse_spec("metrics", {"period": period, "names": name, "model": model, "compare": compare,
                                  "filters": filters_from_terms(filter, sep=":", source="filter")})
    return run_query(spec).model_dump(mode="json")


@router.get("/metrics/{name}/records", response={200: MeasureRecordsResult, **READ_ERRORS},
            summary="The records one measure counts")
def metrics_records(request: HttpRequest, name: str, period: str = Query(..., description=PERIOD_HELP),
                    filter: list[str] = Query([], description=FILTER_HELP),  # noqa: A002
                    offset: Offset = 0, limit: Limit = 50,
                    model: str | None = Query(None, description=MODEL_HELP)) -> Any:
    """Exactly the rows the measure counts (its numerator for a ratio), oldest first: `total` equals the figure."""
    if name not in MEASURES:
        raise NotFound(f"measure {name!r} is unknown; known: {', '.join(MEASURES)}", field="name",
                       record=f"measure:{name}")
    spec = parse_spec("measure_records", {"name": name, "period": period, "offset": offset, "limit": limit,
                                          "model": model,
                                          "filters": filters_from_terms(filter, sep=":", source="filter")})
    return run_query(spec).model_dump(mode="json")
