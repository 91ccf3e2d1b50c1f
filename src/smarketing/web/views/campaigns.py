"""Campaigns: cost against attributed pipeline and revenue under a switchable attribution model."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.web import charts, integrations
from smarketing.web.data.pages import campaign_rows
from smarketing.web.formatting import money
from smarketing.web.periods import Period
from smarketing.web.tables import Column, Table
from smarketing.web.views.common import domain_errors, page, period_context, period_from

# Shown beside the switcher; the analytics attribution query owns the real weights and replaces these labels.
MODELS: dict[str, str] = {
    "first_touch": "100 % to the first touch",
    "last_touch": "100 % to the last touch before the opportunity",
    "linear": "equal share to every touch",
    "u_shaped": "40 % first, 40 % lead-creation touch, 20 % spread over the middle",
    "w_shaped": "30 % first, 30 % lead creation, 30 % opportunity creation, 10 % the rest",
    "time_decay": "weights halve every 7 days before the opportunity",
    "full_path": "22.5 % each to first, lead creation, opportunity creation and close; 10 % the rest",
    "markov": "data-driven: each channel's removal effect in a Markov chain of journeys",
    "shapley": "data-driven: each channel's average marginal contribution (Shapley value)",
}


@dataclass
class Performance:
    model: str
    period: Period
    rows: list[dict[str, Any]]
    attributed: bool
    note: str = ""
    pending: bool = False
    weights: str = ""
    models: dict[str, str] = field(default_factory=dict)

    def table(self, key: str, limit: int | None = None) -> Table:
        cols = [Column("name", "Campaign"), Column("channel", "Channel"), Column("cost", "Cost", "money")]
        if self.attributed:
            cols += [Column("pipeline", "Attributed pipeline", "money"), Column("revenue", "Attributed revenue", "money"),
                     Column("roi", "ROI", "ratio"), Column("consistency", "Message consistency", "pct")]
        else:
            cols += [Column("touches", "Touches", "int"), Column("contacts", "Contacts reached", "int")]
        rows = self.rows[:limit] if limit else self.rows
        return Table(key, f"Campaigns ({self.model.replace('_', ' ')} attribution)" if self.attributed
                     else "Campaigns by cost", cols, rows, period=self.period.label, note=self.note)


def _attributed(period: Period, model: str) -> tuple[list[dict[str, Any]], str] | None:
    """Rows from the analytics `roi` (or `attribution`) query kind, or None while it is not installed."""
    for kind in ("roi", "attribution"):
        if integrations.has_query(kind):
            from smarketing.web.analytics_adapter import campaign_attribution

            return campaign_attribution(kind=kind, period=period, model=model)
    return None


def campaign_performance(*, period: Period, model: str) -> Performance:
    """Cost and attributed results per campaign for a period under one attribution model, with consistency."""
    from smarketing.web.analytics_adapter import consistency_scores

    model = model if model in MODELS else "linear"
    base = campaign_rows(period=period)
    from smarketing.web.analytics_adapter import Pending

    try:
        got, error = integrations.safe(_attributed, period, model)
    except Pending as exc:
        got, error = None, (f"Attribution ({exc}) is being computed in the background — it reads every touch, "
                            "which takes a while on a large CRM. The task worker is on it and this page refreshes by itself; "
                            "meanwhile campaigns are listed by cost.")
    scores = consistency_scores()
    if got:
        rows, weights = got
        rows = [{**r, "consistency": scores.get(r["id"]) if r.get("id") else None} for r in rows]
        return Performance(model, period, rows, True, weights=weights or MODELS[model], models=MODELS)
    note = error or ("Attributed pipeline, revenue and ROI appear here once the analytics attribution query is "
                     "installed; until then campaigns are listed by cost with the touches they produced.")
    return Performance(model, period, base, False, note=note, weights=MODELS[model], models=MODELS,
                       pending="background" in note)


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    model = request.GET.get("model", "linear")
    perf = campaign_performance(period=period, model=model)
    key = "pipeline" if perf.attributed else "cost"
    chart = charts.bar_chart([charts.Bar(r["name"], float(r.get(key) or 0)) for r in perf.rows[:12]],
                             title=f"{'Attributed pipeline' if perf.attributed else 'Cost'} by campaign, {period.label}",
                             fmt=money)
    tables = {"campaigns": perf.table("campaigns")}
    return page(request, "web/campaigns.html", {**period_context(request, period, error), "perf": perf,
                                                "chart": chart}, tables=tables)


@login_required
@domain_errors
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    from smarketing.campaigns.selectors import campaign_get
    from smarketing.web.analytics_adapter import campaign_story

    campaign = campaign_get(pk=pk)
    story = campaign_story(campaign)
    return page(request, "web/campaign_detail.html", {"campaign": campaign, **story})
