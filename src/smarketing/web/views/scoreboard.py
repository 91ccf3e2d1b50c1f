"""The scoreboard: the one page both teams open first."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from smarketing.core import clock
from smarketing.web import charts
from smarketing.web.data import funnel as funnel_data
from smarketing.web.data import goals as goals_data
from smarketing.web.data import scoreboard as sb
from smarketing.web.data.funnel import COHORT_MEASURES
from smarketing.web.data.measures import metrics
from smarketing.web.data.pages import feedback_by_kind
from smarketing.web.formatting import money
from smarketing.web.periods import scope_from
from smarketing.web.tables import Column, Table
from smarketing.web.templatetags.measures import measure_href
from smarketing.web.views.campaigns import campaign_performance
from smarketing.web.views.common import active_terms, page, period_context, period_from


def _empty_hint(span: tuple[object, object]) -> str:
    first, last = span
    if first is None or last is None:
        return ""
    return (f"Pick another period above: recorded history runs from {first:%B %Y} to {last:%B %Y}."  # type: ignore[str-format]
            )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    period, error = period_from(request)
    scope = scope_from(request)
    compare = scope.compare and scope.previous is not None
    version, terms = active_terms()
    measures = metrics(period, compare=compare, names=sb.SCOREBOARD_MEASURES)
    goals = goals_data.goals_data(terms=terms, period=period)
    pacing = goals_data.pacing(goals, period)
    fun = funnel_data.funnel(period=period)
    targets = goals_data.funnel_targets(goals)
    # The funnel rows may be shared through the cache, so the targets go on copies.
    fun = dataclasses.replace(fun, stages=[dataclasses.replace(r, target=targets.get(r.stage)) for r in fun.stages])
    sla = sb.sla_lines(terms=terms, period=period, result=measures)
    perf = campaign_performance(period=period, model="linear", compare=compare)
    feedback = feedback_by_kind(period=period)
    themes = (feedback or [])[:6]
    changes = sb.week_changes()
    stage_rows = [{**vars(r), "measure": COHORT_MEASURES.get(r.stage, "")} for r in fun.stages]
    compared = measures is not None and measures.previous is not None
    if measures is not None:  # each stage's volume is its measure's value where one exists
        for row in stage_rows:
            if row["measure"]:
                value = measures.get(row["measure"])
                row["volume"] = value.value
                if value.change is not None:
                    row["previous"], row["delta"] = value.change.previous, value.change.delta
    tables = {
        "pacing": Table("pacing", "Won revenue, cumulative by month", [
            Column("month", "Month"), Column("won", "Won to date", "money"),
            Column("target", "Planned to date", "money")],
            [{"month": m, "won": dict(pacing.series).get(m), "target": t} for m, t in pacing.target_series],
            period=period.label),
        "funnel": Table("funnel", "Funnel against reverse-waterfall targets", [
            Column("label", "Stage"), Column("volume", "Contacts reached", "int"),
            Column("target", "Target", "int"), Column("conversion", "Conversion to next", "pct"),
            Column("velocity_days", "Median days to next", "days"), Column("value", "Value", "money"),
            *([Column("previous", f"Reached, {measures.previous.label}", "int"),  # type: ignore[union-attr]
               Column("delta", "Change", "int")] if compared else [])],
            stage_rows, period=f"cohort entering in {period.label}"),
        "sla": Table("sla", "SLA compliance", [
            Column("side", "Side"), Column("commitment", "Commitment"), Column("value", "Actual", "row"),
            Column("target", "Target to date", "row"), Column("status", "Status"), Column("detail", "Detail")],
            [{"side": s.side, "commitment": s.commitment, "value": s.value, "target": s.target, "status": s.status,
              "detail": s.detail, "kind": "pct" if s.unit == "ratio" else "int"} for s in sla], period=period.label),
        "campaigns": perf.table("campaigns", limit=6),
        "themes": Table("themes", "Top feedback by revenue at stake", [
            Column("theme", "Theme"), Column("items", "Items", "int"), Column("accounts", "Accounts", "int"),
            Column("revenue_at_stake", "Open pipeline at stake", "money")], themes, period=period.label),
        "changes": Table("changes", "What changed since last week", [
            Column("label", "Measure"), Column("this_week", "Last 7 days", "row"),
            Column("last_week", "7 days before", "row"), Column("delta", "Change", "row")],
            [{"label": c.label, "this_week": c.this_week.value, "last_week": c.last_week.value, "delta": c.delta,
              "kind": "money" if c.this_week.unit == "money" else "int"} for c in changes.rows],
            period=f"last 7 days against {changes.last_label}"),
    }
    fmt_money = lambda v: money(v, pacing.currency)  # noqa: E731
    feedback_href = f"{reverse('feedback')}?{urlencode({'period': period.key})}"
    context = {
        **period_context(request, period, error), "compare_offered": True,
        "playbook_version": version, "measures": measures, "compared": compared, "measures_computing": measures is None,
        "period_running": clock.now() < period.end, "pacing": pacing, "goals_spec": goals.spec, "funnel": fun,
        "stage_rows": stage_rows, "sla": sla, "perf": perf, "themes": themes, "themes_computing": feedback is None,
        "changes": changes,
        "pacing_chart": charts.line_chart(pacing.series, title=f"Won revenue vs goal, {period.label}",
                                          fmt=fmt_money, target=pacing.target_series,
                                          hrefs=sb.pacing_hrefs(period, [m for m, _ in pacing.series]),
                                          value_name="Won to date", target_name="Planned to date"),
        "funnel_chart": charts.funnel_chart(
            [charts.Bar(r["label"], r["volume"] or 0, r["target"],
                        href=measure_href(r["measure"], period.key) if r["measure"] else "") for r in stage_rows],
            title=f"Funnel for the cohort entering in {period.label}"),
        # Feedback kinds have no record page; each bar opens the feedback page for the period, where the themes are.
        "theme_chart": charts.bar_chart([charts.Bar(t["theme"], t["revenue_at_stake"], href=feedback_href)
                                         for t in themes], title="Open pipeline at stake by feedback", fmt=fmt_money,
                                        value_name="Open pipeline at stake"),
        "empty_hint": _empty_hint(sb.data_span()),
    }
    return page(request, "web/scoreboard.html", context, tables=tables)
