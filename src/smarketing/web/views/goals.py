"""Goals: the reverse-waterfall planner (revenue goal back to the volume every stage must produce)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.web import charts
from smarketing.web.data import goals as goals_data
from smarketing.web.data.measures import metrics
from smarketing.web.forms import GoalPlanForm
from smarketing.web.tables import Column, Table
from smarketing.web.templatetags.measures import measure_href
from smarketing.web.views.common import active_terms, page, period_context, period_from

PLAN = [("leads", "Lead", "lead_to_mql"), ("mqls", "MQL", "mql_to_sql"), ("sqls", "SQL", "sql_to_opportunity"),
        ("opportunities", "Opportunity", "win_rate"), ("deals", "Customer", None)]
# The measure that counts each planned stage's actuals in the period (events), as the goals query's pacing does.
ACTUALS = {"leads": "leads_created", "mqls": "mqls_entered", "sqls": "sqls_entered",
           "opportunities": "opportunities_opened", "deals": "deals_won", "revenue": "revenue_won"}
STAGE_LABELS = {"leads": "Leads", "mqls": "MQLs", "sqls": "SQLs", "opportunities": "Opportunities", "deals": "Deals won",
                "revenue": "Revenue won"}
RATES = [r for _, _, r in PLAN if r]
FALLBACK_RATE = 20.0  # percent, until history can be measured
FALLBACK_DEAL = 25_000.0


def what_if(measured: Any, cleaned: dict[str, Any], months: list[Any]) -> dict[str, int]:
    """The analytics reverse waterfall over the entered rates (measured lags kept, so months line up)."""
    from smarketing.analytics.queries.goals import Rates, reverse_waterfall

    lags = ({k: v for k, v in measured.rates.model_dump().items() if k.startswith("days_")} if measured is not None
            else {"days_lead_to_mql": 0.0, "days_mql_to_sql": 0.0, "days_sql_to_opportunity": 0.0,
                  "days_opportunity_to_won": 0.0})
    rates = Rates.model_validate({**{r: cleaned[r] / 100 for r in RATES}, "average_deal_size": cleaned["avg_deal"],
                                  **lags})
    needed, _per_month = reverse_waterfall(revenue=cleaned["revenue"], rates=rates, months=months)
    return needed


@login_required
def goals_page(request: HttpRequest) -> HttpResponse:
    """The planner: inputs in the URL (GET form), defaults from the playbook goal and the measured goals query."""
    from smarketing.analytics.queries.goals import parse_period as plan_period

    period, error = period_from(request)
    _version, terms = active_terms()
    data = goals_data.goals_data(terms=terms, period=period)
    measures = metrics(period, names=ACTUALS.values())
    measured = data.result
    rates = measured.rates if measured is not None else None
    defaults: dict[str, Any] = {
        "revenue": round(data.goal or 1_000_000), "avg_deal": round(rates.average_deal_size if rates else FALLBACK_DEAL),
        **{r: round(getattr(rates, r) * 100, 1) if rates and getattr(rates, r) > 0 else FALLBACK_RATE for r in RATES}}
    form = GoalPlanForm({**defaults, **{k: v for k, v in request.GET.items() if k in GoalPlanForm.base_fields}})
    rows: list[dict[str, Any]] = []
    if form.is_valid():
        months = plan_period(period.key).months if goals_data.CALENDAR.match(period.key) else [period.start.date()]
        needed = what_if(measured, form.cleaned_data, months)
        for key, label, rate in PLAN:
            got = measures.get(ACTUALS[key]).value if measures is not None else None
            rows.append({"stage": label, "required": needed[key], "actual": got, "measure": ACTUALS[key],
                         "gap": None if got is None else got - needed[key],
                         "rate": form.cleaned_data[rate] / 100 if rate else None,
                         "historical": getattr(rates, rate) if rates is not None and rate else None})
    tables = {"plan": Table("plan", "Reverse waterfall", [
        Column("stage", "Stage"), Column("required", "Required", "int"), Column("actual", "Reached so far", "int"),
        Column("gap", "Gap", "int"), Column("rate", "Planned conversion to next", "pct"),
        Column("historical", "Measured conversion", "pct")], rows, period=period.label,
        links={i: measure_href(r["measure"], period.key) for i, r in enumerate(rows)})}
    if measured is not None:
        tables["measured"] = Table("measured", "Plan from measured history", [
            Column("stage", "Stage"), Column("target", "Needed in the period", "int"),
            Column("target_to_date", "Needed by today", "int"), Column("actual_to_date", "Actual to date", "int"),
            Column("pacing", "Pacing", "pct"), Column("status", "Status")],
            [p.model_dump() for p in measured.pacing], period=period.label)
    pacing_rows = [{"pacing": p, "measure": ACTUALS.get(p.stage, ""), "label": STAGE_LABELS.get(p.stage, p.stage)}
                   for p in measured.pacing] if measured else []
    return page(request, "web/goals.html", {
        "measures": measures, "pacing_rows": pacing_rows, "measured": measured, "measured_note": data.note, "measured_computing": data.computing,
        "goals_spec": data.spec,
        **period_context(request, period, error), "form": form, "rows": rows, "goal": data.goal,
        "goal_source": data.goal_source, "currency": data.currency, "goals": terms.goals if terms else [],
        "chart": charts.funnel_chart(
            [charts.Bar(str(r["stage"]), None if r["actual"] is None else float(r["actual"]),
                        float(r["required"] or 0), href=measure_href(r["measure"], period.key)) for r in rows],
            title=f"Reached vs required, {period.label}", value_name="Reached so far", target_name="Required"),
    }, tables=tables)
