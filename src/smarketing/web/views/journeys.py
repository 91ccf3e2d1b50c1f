"""Journeys: the ideal journey from the playbook against what contacts actually did."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.web import charts
from smarketing.web.data.measures import metrics
from smarketing.web.data.pages import journeys
from smarketing.web.tables import Column, Table
from smarketing.web.views.common import active_terms, page, period_context, period_from

# The measures the page shows beside the journeys.
JOURNEY_MEASURES = ("touchpoints_recorded", "cohort_entered", "cohort_reached_customer")


@login_required
def journeys_page(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    _version, terms = active_terms()
    which = request.GET.get("journey", "new_customer")
    data = journeys(period=period, which=which) if terms else None
    tables = {}
    context = {**period_context(request, period, error), "data": data, "journey": which, "measures": metrics(period, names=JOURNEY_MEASURES)}
    if data is not None:
        tables = {
            "edges": Table("edges", "Directly-follows relations", [
                Column("source", "From", "label"), Column("target", "Then", "label"), Column("count", "Contacts", "int")],
                [{"source": a, "target": b, "count": c} for a, b, c in data.edges], period=period.label),
            "variants": Table("variants", "Most common journeys", [
                Column("variant", "Journey (first 8 steps)", "label"), Column("count", "Contacts", "int"),
                Column("share", "Share", "pct"), Column("converted", "Reached the outcome", "int")],
                [{"variant": v, "count": c, "share": s, "converted": n} for v, c, s, n in data.variants],
                period=period.label),
            "deviations": Table("deviations", "Where journeys leave the ideal", [
                Column("step", "First required step missed", "label"), Column("subjects", "Contacts", "int"),
                Column("skipped", "Skipped it, went on", "int"), Column("stopped", "Stopped there", "int")],
                data.deviations, period=period.label),
        }
        # Repeats (a touch followed by the same kind) stay in the table; the diagram shows moves between steps.
        context["flow"] = charts.flow_chart([e for e in data.edges if e[0] != e[1]],
                                            title=f"What contacts did next, {period.label}")
    return page(request, "web/journeys.html", context, tables=tables)
