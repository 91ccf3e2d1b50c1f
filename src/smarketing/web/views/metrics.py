"""Measures pages: every measure for a period (`/metrics/`) and the records behind one (`/metrics/<name>/`)."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse

from smarketing.analytics.metrics import CONTACT_FILTERS, MEASURES, MetricsResult
from smarketing.analytics.metrics.campaigns import MODELS
from smarketing.analytics.queries.funnel import describe_filters
from smarketing.core.pagination import offset_from_query
from smarketing.web.data.common import query_result
from smarketing.web.data.measures import metrics, page_measures
from smarketing.web.periods import Period
from smarketing.web.views.common import domain_errors, page, period_context, period_from

PAGE_SIZE = 50


def _filters(request: HttpRequest) -> dict[str, list[str]]:
    """The contact filters in the query string (`?source=webinar&segment=smb`)."""
    return {name: values for name in CONTACT_FILTERS if (values := [v for v in request.GET.getlist(name) if v])}


def _model(request: HttpRequest) -> str | None:
    """The attribution model of the campaign measures (`?model=shapley`); None for their default (or an unknown one)."""
    model = request.GET.get("model") or None
    return model if model in MODELS else None


def _metrics(period: Period, filters: dict[str, list[str]], model: str | None, *,
             only: str = "") -> MetricsResult | None:
    """Every measure (the measures page), or `only` that one when the pages' metrics query takes it (the records
    page of a measure shows its value alone), for the period."""
    if model is None:
        if only in page_measures(filters):
            return metrics(period, filters, names=[only])
        return metrics(period, filters, every=True)
    result: MetricsResult | None = query_result("metrics", {"period": period.key, "filters": filters, "model": model})
    return result


@login_required
@domain_errors
def metrics_page(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    filters, model = _filters(request), _model(request)
    result = _metrics(period, filters, model)
    return page(request, "web/metrics.html", {**period_context(request, period, error), "result": result,
                                              "filters_label": describe_filters(filters)})


@login_required
@domain_errors
def measure_records(request: HttpRequest, name: str) -> HttpResponse:
    if name not in MEASURES:
        raise Http404(f"measure {name!r} is unknown")
    period, error = period_from(request)
    filters, model = _filters(request), _model(request)
    offset = offset_from_query(request.GET.get("offset"))  # a 400 page naming ?offset= when out of bounds
    result = _metrics(period, filters, model, only=name)
    records = query_result("measure_records", {"name": name, "period": period.key, "filters": filters,
                                               "offset": offset, "limit": PAGE_SIZE,
                                               **({"model": model} if model else {})})
    base = {"period": period.key, **({"model": model} if model else {}), **filters}
    pages = {}
    if records is not None:
        if offset > 0:
            pages["previous"] = urlencode({**base, "offset": max(offset - PAGE_SIZE, 0)}, doseq=True)
        if offset + PAGE_SIZE < records.total:
            pages["next"] = urlencode({**base, "offset": offset + PAGE_SIZE}, doseq=True)
    return page(request, "web/measure_records.html", {
        **period_context(request, period, error), "measure": MEASURES[name], "result": result,
        "value": result.get(name) if result is not None else None, "records": records, "pages": pages,
        "filters_label": describe_filters(filters), "first": offset + 1,
        "last": offset + (len(records.items) if records is not None else 0)})
