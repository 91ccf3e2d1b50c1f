"""The funnel page: waterfall, conversion by a dimension, time in stage; every filter lives in the URL."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.web import charts
from smarketing.web.data.funnel import COHORT_MEASURES, DIMENSIONS, filter_options, filters_label, funnel
from smarketing.web.data.measures import metrics
from smarketing.web.formatting import pct
from smarketing.web.tables import Column, Table
from smarketing.web.views.common import domain_errors, page, period_context, period_from

RESULTS_ID = "funnel-results"  # the part of the page the filter form swaps in place (HTMX)


@login_required
@domain_errors
def funnel_page(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    filters = {k: request.GET.getlist(k) for k in DIMENSIONS}
    dimension = request.GET.get("by", "source")
    data = funnel(period=period, filters=filters, dimension=dimension)
    measures = metrics(period, data.filters)
    stage_measures = {r.stage: COHORT_MEASURES.get(r.stage, "") for r in data.stages}
    options = filter_options()
    steps: list[tuple[str, float]] = []
    short = {"MQL": "no MQL", "SAL": "no SAL", "SQL": "no SQL", "Opportunity": "no opp.", "Customer": "not won"}
    for i, r in enumerate(data.stages):
        if i == 0:
            steps.append((f"{r.label}s", float(r.volume)))
        else:
            steps.append((short.get(r.label, f"no {r.label}"), float(r.volume - data.stages[i - 1].volume)))
    dim_label = DIMENSIONS.get(data.dimension, data.dimension)
    shown = filters_label(data.filters, options)
    # Exports say what they show: the cohort and every filter applied.
    scope = f"cohort entering in {period.label}" + (f"; {shown}" if shown else "")
    share = urlencode({"period": period.key, "by": data.dimension, **data.filters}, doseq=True)
    removals = [(f"{DIMENSIONS[name]}: {dict(options.get(name, ())).get(value, value)}",
                 urlencode({"period": period.key, "by": data.dimension,
                            **{**data.filters, name: [v for v in values if v != value]}}, doseq=True))
                for name, values in data.filters.items() for value in values]
    tables = {
        "stages": Table("stages", "Funnel by stage", [
            Column("label", "Stage"), Column("volume", "Contacts reached", "int"),
            Column("conversion", "Conversion to next", "pct"), Column("velocity_days", "Median days to next", "days"),
            Column("value", "Value", "money")], [vars(r) for r in data.stages], period=scope),
        "breakdown": Table("breakdown", f"Conversion by {dim_label.lower()}", [
            Column("group", dim_label), Column("contacts", "Contacts", "int"), Column("mql", "MQLs", "int"),
            Column("sal", "SALs", "int"), Column("opportunity", "Opportunities", "int"),
            Column("customer", "Customers", "int"), Column("lead_to_mql", "Lead → MQL", "pct"),
            Column("mql_to_sal", "MQL → SAL", "pct"), Column("lead_to_customer", "Lead → customer", "pct")],
            data.breakdown, period=scope),
    }
    partial = bool(request.htmx and request.htmx.target == RESULTS_ID  # type: ignore[attr-defined]
                   and not request.htmx.history_restore_request)  # type: ignore[attr-defined]
    context = {
        **period_context(request, period, error), "data": data, "dimensions": DIMENSIONS, "options": options,
        "active_filters": data.filters, "filters_label": shown, "removals": removals, "share_query": share,
        "results_id": RESULTS_ID, "partial": partial, "measures": measures, "stage_measures": stage_measures,
        "waterfall": charts.waterfall_chart(steps, title=f"Where the {period.label} cohort drops out",
                                            end_label="Customers"),
        "breakdown_chart": charts.bar_chart(
            [charts.Bar(str(r["group"]), (r["lead_to_customer"] or 0) * 100) for r in data.breakdown[:10]],
            title=f"Lead to customer conversion by {dim_label.lower()}", fmt=lambda v: pct(v / 100)),
        "velocity_chart": charts.bar_chart(
            [charts.Bar(f"{r.label} → next", r.velocity_days or 0) for r in data.stages[:-1]],
            title="Median days from each stage to the next", fmt=lambda v: f"{v:.1f} d"),
    }
    template = "web/_funnel_results.html" if partial else "web/funnel.html"
    return page(request, template, context, tables=tables)
