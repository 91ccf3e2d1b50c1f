"""Journeys: the ideal journey from the playbook against what contacts actually did."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.web import charts
from smarketing.web.data.pages import journeys
from smarketing.web.tables import Column, Table
from smarketing.web.views.common import active_terms, page, period_context, period_from


@login_required
def journeys_page(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    _version, terms = active_terms()
    which = request.GET.get("journey", "new_customer")
    data = journeys(period=period, terms=terms, which=which) if terms else None
    tables = {}
    context = {**period_context(request, period, error), "data": data, "journey": which}
    if data is not None:
        tables = {
            "edges": Table("edges", "Directly-follows relations", [
                Column("source", "From"), Column("target", "Then"), Column("count", "Contacts", "int")],
                [{"source": a, "target": b, "count": c} for a, b, c in data.edges], period=period.label),
            "variants": Table("variants", "Most common journeys", [
                Column("variant", "Journey (first 8 steps)"), Column("count", "Contacts", "int"),
                Column("share", "Share", "pct")],
                [{"variant": v, "count": c, "share": s} for v, c, s in data.variants], period=period.label),
        }
        context["flow"] = charts.flow_chart(data.edges, title=f"What contacts did next, {period.label}")
    return page(request, "web/journeys.html", context, tables=tables)
