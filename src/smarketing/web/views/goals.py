"""Goals: the reverse-waterfall planner (revenue goal back to the volume every stage must produce)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse

from smarketing.lifecycle.enums import FUNNEL_ORDER
from smarketing.web import charts
from smarketing.web.data import funnel as funnel_data
from smarketing.web.data import scoreboard as sb
from smarketing.web.forms import GoalPlanForm
from smarketing.web.planner import reverse_waterfall
from smarketing.web.tables import Column, Table
from smarketing.web.views.common import active_terms, page, period_context, period_from

STAGES = [s.value for s in FUNNEL_ORDER]
SHORT = funnel_data.SHORT


@login_required
def goals_page(request: HttpRequest) -> HttpResponse:
    """The planner: inputs in the URL (GET form), defaults from the playbook goal and historical rates."""
    period, error = period_from(request)
    _version, terms = active_terms()
    goal, goal_source, currency = sb.goal_for(terms, period)
    hist = funnel_data.overall_conversion()
    deal = sb.avg_won_deal()
    defaults = {"revenue": round(goal or 1_000_000), "avg_deal": round(deal or 25_000),
                **{s: round((hist.get(s) or 0.2) * 100, 1) for s in STAGES[:-1]}}
    form = GoalPlanForm({**defaults, **{k: v for k, v in request.GET.items() if k in GoalPlanForm.base_fields}})
    plan = []
    if form.is_valid():
        d = form.cleaned_data
        rates = {s: d[s] / 100 for s in STAGES[:-1]}
        plan = reverse_waterfall(revenue=d["revenue"], avg_deal=d["avg_deal"], stages=STAGES, rates=rates)
    actual = {r.stage: r.volume for r in funnel_data.funnel(period=period).stages}
    rows = [{"stage": SHORT[r.stage], "required": r.required, "actual": actual.get(r.stage),
             "gap": (actual.get(r.stage) or 0) - r.required, "rate": r.rate_to_next, "historical": hist.get(r.stage)}
            for r in plan]
    tables = {"plan": Table("plan", "Reverse waterfall", [
        Column("stage", "Stage"), Column("required", "Required", "int"), Column("actual", "Reached so far", "int"),
        Column("gap", "Gap", "int"), Column("rate", "Planned conversion to next", "pct"),
        Column("historical", "Historical conversion", "pct")], rows, period=period.label)}
    from smarketing.web.analytics_adapter import goals_plan

    measured, measured_note = goals_plan(period=period)
    if measured is not None:
        tables["measured"] = Table("measured", "Plan from measured history", [
            Column("stage", "Stage"), Column("target", "Needed in the period", "int"),
            Column("target_to_date", "Needed by today", "int"), Column("actual_to_date", "Actual to date", "int"),
            Column("pacing", "Pacing", "pct"), Column("status", "Status")],
            [p.model_dump() for p in measured.pacing], period=period.label)
    return page(request, "web/goals.html", {
        "measured": measured, "measured_note": measured_note,
        **period_context(request, period, error), "form": form, "rows": rows, "goal": goal, "goal_source": goal_source,
        "currency": currency, "goals": terms.goals if terms else [],
        "chart": charts.funnel_chart([charts.Bar(str(r["stage"]), float(r["actual"] or 0), float(r["required"] or 0))
                                      for r in rows],
                                     title=f"Reached vs required, {period.label}"),
    }, tables=tables)
