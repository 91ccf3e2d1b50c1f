"""The funnel page: waterfall, conversion by a dimension, time in stage; every filter lives in the URL."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.web import charts
from smarketing.web.data.funnel import (
    CHART_METRICS,
    COHORT_MEASURES,
    DIMENSIONS,
    FUNNEL_MEASURES,
    chart_metric,
    filter_options,
    filters_label,
    funnel,
    group_records_href,
    stage_changes,
)
from smarketing.web.data.measures import metrics
from smarketing.web.formatting import days, integer, money, pct
from smarketing.web.periods import scope_from
from smarketing.web.tables import Column, Table
from smarketing.web.templatetags.measures import measure_href
from smarketing.web.views.common import domain_errors, page, period_context, period_from

RESULTS_ID = "funnel-results"  # the part of the page the filter form swaps in place (HTMX)
# How the breakdown chart draws and labels each kind of metric (rates are charted in percent).
CHART_FORMATS: dict[str, Callable[[float], str]] = {
    "pct": lambda v: pct(v / 100), "int": integer, "days": lambda v: days(v), "money": money}


def _charted(value: float | None, kind: str) -> float:
    return (value or 0) * 100 if kind == "pct" else float(value or 0)


@login_required
@domain_errors
def funnel_page(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    scope = scope_from(request)
    before = scope.previous if scope.compare else None
    dimension = request.GET.get("by", "source")
    data = funnel(period=period, filters=scope.filters, dimension=dimension)
    measures = metrics(period, data.filters, compare=before is not None, names=FUNNEL_MEASURES)
    earlier = funnel(period=before, filters=scope.filters, dimension=dimension) if before is not None else None
    changes = stage_changes(data, earlier) if earlier is not None and not earlier.computing else {}
    metric = chart_metric(data.breakdown, request.GET.get("metric"))
    metric_label, metric_kind = CHART_METRICS[metric]
    stage_measures = {r.stage: COHORT_MEASURES.get(r.stage, "") for r in data.stages}
    options = filter_options()
    steps: list[tuple[str, float]] = []
    short = {"MQL": "no MQL", "SAL": "no SAL", "SQL": "no SQL", "Opportunity": "no opp.", "Customer": "not won"}
    for i, r in enumerate(data.stages):
        if i == 0:
            steps.append((f"{r.label}s", float(r.volume)))
        else:
            steps.append((short.get(r.label, f"no {r.label}"), float(r.volume - data.stages[i - 1].volume)))
    # The waterfall's totals open the cohort's records (as the stage table's figures do); the drops have no measure
    # of their own (nobody lists the contacts who did not reach a stage), so they open nothing.
    cohort_links = [measure_href(COHORT_MEASURES.get(r.stage, ""), period.key, data.filters)
                    if COHORT_MEASURES.get(r.stage) else "" for r in data.stages]
    waterfall_links = [cohort_links[0], *[""] * (len(steps) - 1), cohort_links[-1]] if steps else []
    group_links = {i: group_records_href(metric, period, data.filters, data.dimension, str(r["key"]))
                   for i, r in enumerate(data.breakdown)}
    dim_label = DIMENSIONS.get(data.dimension, data.dimension)
    shown = filters_label(data.filters, options)
    # Exports say what they show: the cohort and every filter applied.
    shown_scope = f"cohort entering in {period.label}" + (f"; {shown}" if shown else "")
    # The view's own keys after the period: compare when on, the chart's metric when chosen.
    own = {"by": data.dimension, **({"compare": "prev"} if scope.compare else {}),
           **({"metric": metric} if request.GET.get("metric") == metric else {})}
    share = urlencode({"period": period.key, **own, **data.filters}, doseq=True)
    removals = [(f"{DIMENSIONS[name]}: {dict(options.get(name, ())).get(value, value)}",
                 urlencode({"period": period.key, **own,
                            **{**data.filters, name: [v for v in values if v != value]}}, doseq=True))
                for name, values in data.filters.items() for value in values]
    clear = urlencode({"period": period.key, **own})
    tables = {
        "stages": Table("stages", "Funnel by stage", [
            Column("label", "Stage"), Column("volume", "Contacts reached", "int"),
            Column("conversion", "Conversion to next", "pct"), Column("velocity_days", "Median days to next", "days"),
            Column("value", "Value", "money")], [vars(r) for r in data.stages], period=shown_scope),
        "breakdown": Table("breakdown", f"Conversion by {dim_label.lower()}", [
            Column("group", dim_label), Column("contacts", "Contacts", "int"), Column("mql", "MQLs", "int"),
            Column("sal", "SALs", "int"), Column("opportunity", "Opportunities", "int"),
            Column("customer", "Customers", "int"), Column("lead_to_mql", "Lead → MQL", "pct"),
            Column("mql_to_sal", "MQL → SAL", "pct"), Column("lead_to_customer", "Lead → customer", "pct"),
            Column("sql", "SQLs", "int"), Column("mql_to_sql", "MQL → SQL", "pct"),
            Column("sql_to_opportunity", "SQL → opportunity", "pct"),
            Column("opportunity_to_customer", "Opportunity → customer", "pct"),
            Column("days_to_mql", "Median days lead → MQL", "days"), Column("won_value", "Won value", "money")],
            data.breakdown, period=shown_scope, links=group_links),
    }
    partial = bool(request.htmx and request.htmx.target == RESULTS_ID  # type: ignore[attr-defined]
                   and not request.htmx.history_restore_request)  # type: ignore[attr-defined]
    context = {
        **period_context(request, period, error), "compare_offered": True, "data": data, "dimensions": DIMENSIONS, "options": options,
        "active_filters": data.filters, "filters_label": shown, "removals": removals, "share_query": share,
        "results_id": RESULTS_ID, "partial": partial, "measures": measures, "stage_measures": stage_measures,
        "waterfall": charts.waterfall_chart(steps, title=f"Where the {period.label} cohort drops out",
                                            end_label="Customers", hrefs=waterfall_links),
        "breakdown_chart": charts.bar_chart(
            [charts.Bar(str(r["group"]), _charted(r.get(metric), metric_kind), href=group_links[i])
             for i, r in enumerate(data.breakdown[:10])],
            title=f"{metric_label} by {dim_label.lower()}", fmt=CHART_FORMATS[metric_kind]),
        "chart_metrics": CHART_METRICS, "chart_metric": metric, "clear_query": clear, "earlier": earlier,
        "changes": changes, "compared": measures is not None and measures.previous is not None,
    }
    # A stage nobody left has no median: it is left out of the chart (the table says "—"), not drawn as 0 days.
    context["velocity_chart"] = charts.bar_chart(
        [charts.Bar(f"{r.label} → next", r.velocity_days) for r in data.stages[:-1] if r.velocity_days is not None],
        title="Median days from each stage to the next", fmt=lambda v: f"{v:.1f} d")
    template = "web/_funnel_results.html" if partial else "web/funnel.html"
    return page(request, template, context, tables=tables)
