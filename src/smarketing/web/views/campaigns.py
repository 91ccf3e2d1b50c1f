"""Campaigns: cost against attributed pipeline and revenue under a switchable attribution model.

Every figure comes from the analytics `roi` query kind under the spec the campaign measures use
(`metrics.campaigns.roi_spec_for`: the model, the period's first and last local day in the reporting time zone),
read as the measures `campaign_cost`, `campaign_attributed_pipeline`, … of each campaign (`campaign_metrics`), so
each is rendered by `{% measure %}` and equals `smarketing metrics --period P --model M --where campaign=ID`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.metrics import MetricsResult, campaign_metrics, compared, previous_period
from smarketing.analytics.metrics.campaigns import roi_spec_for
from smarketing.analytics.queries.roi import CampaignRoi, RoiResult
from smarketing.campaigns.brief_selectors import (
    brief_list,
    brief_override,
    brief_sides,
    brief_signed_off,
    campaign_consistency_get,
    consistency_by_campaign,
    consistency_data_version,
)
from smarketing.campaigns.selectors import (
    campaign_get,
    campaign_member_summary,
    touchpoint_list,
)
from smarketing.core.errors import DomainError, NotFound
from smarketing.web import charts
from smarketing.web.data.common import cached, query_result
from smarketing.web.data.pages import campaign_costs
from smarketing.web.formatting import money
from smarketing.web.periods import Period, scope_from
from smarketing.web.tables import Column, Table
from smarketing.web.views.briefs import brief_offers
from smarketing.web.views.common import domain_errors, page, period_context, period_from

# The models offered by the switcher (custom needs weights, so it stays in the API and the CLI), each with its
# definition in plain words from the analytics kernels.
MODEL_CHOICES = ("linear", "first_touch", "last_touch", "u_shaped", "w_shaped", "full_path", "time_decay", "markov",
                 "shapley")


@cache
def _models() -> dict[str, str]:
    from smarketing.analytics.kernels.rules import model_definition  # kernels load on use

    return {m: model_definition(AttributionModel(m)) for m in MODEL_CHOICES}
DEFAULT_MODEL = "linear"

CONTACTS_SHOWN = 50


def roi_spec(period: Period, model: str) -> dict[str, Any]:
    """The `roi` query spec behind the page: the one the campaign measures run."""
    return roi_spec_for(period, model).model_dump(mode="json")


def _row(r: CampaignRoi, consistency: dict[int, float | None], measures: MetricsResult | None = None) -> dict[str, Any]:
    return {"id": r.campaign_id, "measures": measures, "name": r.name, "channel": r.channel, "cost": r.cost, "budget": r.budget,
            "mqls": r.mqls, "opportunities": r.opportunities, "pipeline": r.pipeline, "won": r.won,
            "revenue": r.revenue, "roas": r.roas, "roi_percent": r.roi, "pipeline_per_cost": r.pipeline_per_cost,
            "pipeline_influenced": r.pipeline_influenced,
            "consistency": consistency.get(r.campaign_id) if r.campaign_id else None}


def describe_weights(weights: dict[str, Any]) -> str:
    """The model's weights as one line, e.g. 'first 40 %, middle 20 %, last 40 %'."""
    parts = []
    for k, v in weights.items():
        if k in ("model", "method", "exact", "sampled", "coalitions") or isinstance(v, dict | list):
            continue
        shown = f"{v * 100:g} %" if isinstance(v, float) and 0 <= v <= 1 and k != "half_life_days" else str(v)
        parts.append(f"{k.replace('_', ' ')} {shown}")
    return ", ".join(parts)


@dataclass
class Performance:
    model: str
    period: Period
    rows: list[dict[str, Any]]
    attributed: bool
    note: str = ""
    pending: bool = False
    weights: str = ""
    definition: str = ""
    method: str = ""
    total: dict[str, Any] | None = None
    models: dict[str, str] = field(default_factory=dict)
    previous: Period | None = None  # the period compared with, when the page compares

    def table(self, key: str, limit: int | None = None) -> Table:
        cols = [Column("name", "Campaign"), Column("channel", "Channel"), Column("cost", "Cost", "money")]
        if self.attributed:
            cols += [Column("pipeline", "Attributed pipeline", "money"),
                     Column("revenue", "Attributed revenue", "money"), Column("roi_percent", "ROI (%)"),
                     Column("pipeline_per_cost", "Pipeline per unit of cost", "ratio"),
                     Column("consistency", "Message consistency", "pct")]
        rows = self.rows[:limit] if limit else self.rows
        return Table(key, f"Campaigns ({self.model.replace('_', ' ')} attribution)" if self.attributed
                     else "Campaigns by cost", cols, rows, period=self.period.label, note=self.note)


def _consistency() -> dict[int, float | None]:
    # Versioned by what it reads, not by every touch or stage change: scoring each outreach takes ~0.7 s on the
    # large demo (and loads scikit-learn), which a CRM written to all day would pay on the next page view.
    return cached("consistency", "all", consistency_by_campaign, version=f"consistency:{consistency_data_version()}")


def campaign_performance(*, period: Period, model: str, compare: bool = False) -> Performance:
    """Cost and attributed results per campaign for a period under one attribution model, with consistency; with
    `compare`, each campaign's measures carry their change against the previous period (the same roi query run
    for it, read as the same measures)."""
    model = model if model in _models() else DEFAULT_MODEL
    result: RoiResult | None = query_result("roi", roi_spec(period, model))
    if result is None:
        note = ("Attribution is being computed in the background — it reads every touch, which takes a while on a "
                "large CRM. This page refreshes by itself; meanwhile campaigns are listed by cost.")
        return Performance(model, period, campaign_costs(), False, note=note, pending=True,
                           definition=_models()[model], models=_models())
    scores = _consistency()
    rows = sorted((_row(r, scores, campaign_metrics(result, period, model=model, campaign_id=r.campaign_id)
                        if r.campaign_id is not None else None) for r in result.campaigns),
                  key=lambda r: (-r["pipeline"], -r["revenue"], r["name"]))
    total = _row(result.total, {}, campaign_metrics(result, period, model=model, campaign_id=None))
    perf = Performance(model, period, rows, True, weights=describe_weights(result.weights),
                       definition=result.definition, method=result.method, total=total, models=_models())
    if compare:
        _compare(perf, model)
    return perf


def _compare(perf: Performance, model: str) -> None:
    """Each row's campaign measures against the same measures of the previous period (its own roi result)."""
    try:
        before = previous_period(perf.period)
    except DomainError:
        return
    earlier: RoiResult | None = query_result("roi", roi_spec(before, model))
    if earlier is None:
        perf.pending = True
        return
    perf.previous = before
    for row in [*perf.rows, *([perf.total] if perf.total else [])]:
        if row.get("measures") is not None:
            row["measures"] = compared(row["measures"], campaign_metrics(earlier, before, model=model,
                                                                         campaign_id=row["id"]))


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    perf = campaign_performance(period=period, model=request.GET.get("model", DEFAULT_MODEL),
                                compare=scope_from(request).compare)
    key = "pipeline" if perf.attributed else "cost"
    # Each bar opens its campaign's page in the same period and model, as the name in the table does.
    keep = f"{scope_from(request).query}&{urlencode({'model': perf.model})}"
    chart = charts.bar_chart([charts.Bar(r["name"], float(r.get(key) or 0),
                                         href=f"{reverse('campaign', args=[r['id']])}?{keep}" if r.get("id") else "")
                              for r in perf.rows[:12]],
                             title=f"{'Attributed pipeline' if perf.attributed else 'Cost'} by campaign, {period.label}",
                             fmt=money)
    tables = {"campaigns": perf.table("campaigns")}
    return page(request, "web/campaigns.html", {**period_context(request, period, error), "compare_offered": True, "perf": perf,
                                                "chart": chart}, tables=tables)


def _contacts_touched(campaign_id: int, period: Period) -> tuple[list[dict[str, Any]], int]:
    """The contacts this campaign touched in the period, most recently touched first, with their touch counts."""
    touches = touchpoint_list(campaign_id=campaign_id, occurred_after=period.start,
                              occurred_before=period.end).select_related("contact")
    by_contact: dict[int, dict[str, Any]] = {}
    for t in touches:
        if t.contact_id is None:
            continue
        seen = by_contact.setdefault(t.contact_id, {"contact": t.contact, "touches": 0, "first": t.occurred_at})
        seen["touches"] += 1
        seen["last"] = t.occurred_at
    rows = sorted(by_contact.values(), key=lambda r: (r["last"], r["contact"].pk), reverse=True)
    return rows[:CONTACTS_SHOWN], len(rows)


@login_required
@domain_errors
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = campaign_get(pk=pk)
    period, error = period_from(request)
    perf = campaign_performance(period=period, model=request.GET.get("model", DEFAULT_MODEL),
                                compare=scope_from(request).compare)
    figures = next((r for r in perf.rows if r.get("id") == campaign.pk), None) if perf.attributed else None
    brief = brief_list(campaign_id=campaign.pk).first()
    try:
        consistency, consistency_note = campaign_consistency_get(campaign_id=campaign.pk), ""
    except NotFound as exc:
        consistency, consistency_note = None, exc.message
    contacts, contacts_total = _contacts_touched(campaign.pk, period)
    return page(request, "web/campaign_detail.html", {
        **period_context(request, period, error), "compare_offered": True, "campaign": campaign, "perf": perf, "figures": figures,
        "brief": brief, "brief_signed": brief_signed_off(brief) if brief is not None else False,
        "brief_sides": brief_sides(brief) if brief is not None else None,
        "brief_override": brief_override(brief) if brief is not None else None,
        "brief_offers": brief_offers(request.user, brief),
        "comments": list(brief.comments.select_related("author").all()) if brief is not None else [],
        "consistency": consistency, "consistency_note": consistency_note, "contacts": contacts,
        "contacts_total": contacts_total, "members": campaign_member_summary(campaign_id=campaign.pk)})
