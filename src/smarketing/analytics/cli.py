"""`smarketing funnel | goals | journeys`: rich tables for people, `--json` for machines.

Each command parses options into a query spec, runs it through the registry and renders the typed result.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table


def _run(kind: str, data: dict[str, Any], engine: str | None) -> Any:
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.registry import parse_spec, run_query

    spec = parse_spec(kind, {k: v for k, v in data.items() if v is not None})
    with open_engine(engine) as eng:  # type: ignore[arg-type]
        return run_query(spec, engine=eng)


def _num(value: float | int | None, pct: bool = False, digits: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value:.{digits}%}" if pct else f"{value:,.{digits}f}" if isinstance(value, float) else f"{value:,}"


def _emit_json(result: Any) -> None:
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))


def render_funnel(result: Any, console: Console) -> None:
    from smarketing.analytics.queries.funnel import describe_filters

    q = result.query
    where = describe_filters(q.filters)
    title = (f"Funnel {q.from_stage} → {q.to_stage} ({q.level}s)" + (f" by {q.by}" if q.by else "")
             + (f" where {where}" if where else ""))
    steps = Table(title=title + " — steps")
    for col in ("stage", "reached", "from previous", "from start", "median days", "mean days"):
        steps.add_column(col, justify="left" if col == "stage" else "right")
    for s in result.total.steps:
        steps.add_row(s.stage, _num(s.reached), _num(s.conversion_from_previous, pct=True),
                      _num(s.conversion_from_start, pct=True), _num(s.median_days_from_previous),
                      _num(s.mean_days_from_previous))
    console.print(steps)
    groups = Table(title=title)
    for col in ("group", "entered", "converted", "rate", "median days", "mean days", "days in stage", "pipeline",
                "won", "outcomes won/lost/open/none"):
        groups.add_column(col, justify="left" if col == "group" else "right")
    for g in [*result.groups, result.total]:
        o = g.outcomes
        groups.add_row(g.key if g is not result.total else "[bold]all[/bold]", _num(g.entered), _num(g.converted),
                       _num(g.conversion_rate, pct=True), _num(g.median_days_to_convert),
                       _num(g.mean_days_to_convert), _num(g.median_days_in_stage), _num(g.pipeline_value, digits=0),
                       _num(g.won_value, digits=0), f"{o['won']}/{o['lost']}/{o['open']}/{o['none']}")
    console.print(groups)


def render_goals(result: Any, console: Console) -> None:
    r = result.rates
    console.print(f"[bold]Goal {result.query.period}[/bold]: {result.revenue:,.0f} revenue "
                  f"({result.period_start} – {result.period_end})")
    console.print(f"measured: lead→MQL {r.lead_to_mql:.1%}, MQL→SQL {r.mql_to_sql:.1%}, "
                  f"SQL→opp {r.sql_to_opportunity:.1%}, win rate {r.win_rate:.1%}, deal size {r.average_deal_size:,.0f}; "
                  f"lags {r.days_lead_to_mql:.0f}/{r.days_mql_to_sql:.0f}/{r.days_sql_to_opportunity:.0f}/"
                  f"{r.days_opportunity_to_won:.0f} days")
    stages = ["leads", "mqls", "sqls", "opportunities", "deals", "revenue"]
    months = Table(title="Targets (actual) by month")
    months.add_column("month")
    for s in stages:
        months.add_column(s, justify="right")
    for m in result.months:
        months.add_row(m.month, *[f"{m.targets[s]:,.1f} ({m.actuals.get(s, 0):,.0f})" if s in m.targets else ""
                                  for s in stages])
    months.add_row("[bold]needed[/bold]", *[_num(result.needed[s]) for s in stages])
    console.print(months)
    pacing = Table(title="Pacing")
    for col in ("stage", "target", "target to date", "actual to date", "pacing", "status"):
        pacing.add_column(col, justify="left" if col in ("stage", "status") else "right")
    for p in result.pacing:
        pacing.add_row(p.stage, _num(p.target), _num(p.target_to_date), _num(p.actual_to_date),
                       _num(p.pacing, pct=True), p.status)
    console.print(pacing)


def render_journeys(result: Any, console: Console) -> None:
    console.print(f"[bold]Journeys[/bold] ({result.query.level}s): {result.subjects:,} subjects, "
                  f"{result.events:,} events, kernel {result.kernel}")
    for c in result.conformance:
        console.print(f"[bold]{c.journey}[/bold]: {' → '.join(c.steps)}")
        console.print(f"  {c.conforming:,}/{c.subjects:,} conform ({_num(c.conformance_rate, pct=True)}); "
                      f"conversion to {c.outcome}: conforming {_num(c.conversion_conforming, pct=True)}, "
                      f"non-conforming {_num(c.conversion_non_conforming, pct=True)}")
        if c.deviations:
            dev = Table(title=f"Where {c.journey} journeys deviate (first missing step)")
            for col in ("step", "subjects", "skipped it", "stopped there"):
                dev.add_column(col, justify="left" if col == "step" else "right")
            for d in c.deviations:
                dev.add_row(f"{d.step_index + 1}. {d.step}", _num(d.subjects), _num(d.skipped), _num(d.stopped))
            console.print(dev)
    paths = Table(title="Top paths")
    for col in ("path", "subjects", "share", "converted"):
        paths.add_column(col, justify="left" if col == "path" else "right")
    for p in result.top_paths:
        paths.add_row(" → ".join(p.path), _num(p.subjects), _num(p.share, pct=True), _num(p.converted))
    console.print(paths)
    edges = Table(title="Directly-follows graph (top 25 edges)")
    for col in ("from", "to", "count", "mean days"):
        edges.add_column(col, justify="right" if col in ("count", "mean days") else "left")
    for e in result.edges[:25]:
        edges.add_row(e.source, e.target, _num(e.count), _num(e.mean_days, digits=2))
    console.print(edges)


def measure_text(unit: str, value: float | None) -> str:
    """A measure's value for a terminal: counts whole, money with two decimals, ratios as percentages."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def render_metrics(result: Any, console: Console) -> None:
    from smarketing.analytics.queries.funnel import describe_filters

    where = describe_filters(result.filters)
    table = Table(title=f"Measures, {result.label} ({result.start:%Y-%m-%d %H:%M} – {result.end:%Y-%m-%d %H:%M} UTC, "
                        f"{result.timezone})" + (f" where {where}" if where else ""))
    for col in ("measure", "value", "basis", "definition"):
        table.add_column(col, justify="right" if col == "value" else "left")
    for m in result.measures:
        value = measure_text(m.unit, m.value)
        if m.unit == "ratio" and m.denominator is not None:
            value += f" ({m.numerator:,.0f}/{m.denominator:,.0f})"
        table.add_row(f"{m.label}\n[dim]{m.name}[/dim]", value, m.basis,
                      m.definition + (f" [dim]({m.note})[/dim]" if m.note else ""))
    console.print(table)


def render_measure_records(result: Any, console: Console) -> None:
    from smarketing.analytics.queries.funnel import describe_filters

    where = describe_filters(result.filters)
    table = Table(title=f"{result.name}, {result.period}" + (f" where {where}" if where else "")
                  + f": {result.total:,} records (showing {result.offset + 1 if result.items else 0}–"
                    f"{result.offset + len(result.items)})")
    for col in ("kind", "id", "record", "when", "amount"):
        table.add_column(col, justify="right" if col in ("id", "amount") else "left")
    for r in result.items:
        table.add_row(r.kind, str(r.id), r.label, f"{r.occurred_at:%Y-%m-%d %H:%M}" if r.occurred_at else "",
                      f"{r.amount:,.2f}" if r.amount is not None else "")
    console.print(table)


ENGINE_HELP = "Analytics engine (default: SMARKETING_ANALYTICS_ENGINE)"
PERIOD_HELP = "2026, 2026-Q4, 2026-11, last-30d or 2026-10-01..2026-12-31"
WHERE_HELP = ("Only FIELD=VALUE on source, segment, owner, country or campaign (repeat it: one field's values are "
              "ORed, fields ANDed; '(none)' for a missing value)")


def register(app: typer.Typer) -> None:
    @app.command()
    def funnel(
        from_stage: str = typer.Option(..., "--from", help="Stage the cohort enters, e.g. mql"),
        to_stage: str = typer.Option(..., "--to", help="Stage that counts as converted, e.g. customer"),
        by: str = typer.Option(None, "--by", help="Group by source, campaign, segment, owner, cohort_month…"),
        window: float = typer.Option(None, "--window", help="Count conversions only within N days"),
        level: str = typer.Option("contact", "--level", help="contact or account"),
        start: str = typer.Option(None, "--start", help="First day of entries (YYYY-MM-DD)"),
        end: str = typer.Option(None, "--end", help="Last day of entries (YYYY-MM-DD)"),
        where: list[str] = typer.Option(None, "--where", help="Only FIELD=VALUE (a group field; repeat it: one "
                                        "field's values are ORed, fields ANDed; '(none)' for a missing value)"),
        engine: str = typer.Option(None, "--engine", help=ENGINE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Volume, conversion, velocity and value between two lifecycle stages."""
        from smarketing.analytics.queries.funnel import filters_from_terms

        filters = filters_from_terms(where or [], sep="=", source="--where") or None
        result = _run("funnel", {"from_stage": from_stage, "to_stage": to_stage, "by": by, "window_days": window,
                                 "level": level, "start": start, "end": end, "filters": filters}, engine)
        if as_json:
            _emit_json(result)
        else:
            render_funnel(result, Console())

    @app.command()
    def goals(
        period: str = typer.Option(..., "--period", help="2026, 2026-Q4 or 2026-11"),
        revenue: float = typer.Option(None, "--revenue", help="Revenue goal (default: the playbook's goal)"),
        segment: str = typer.Option("", "--segment", help="Only this account segment"),
        lookback: int = typer.Option(365, "--lookback", help="Days of history used to measure rates"),
        as_of: str = typer.Option(None, "--as-of", help="Pacing date (default today)"),
        engine: str = typer.Option(None, "--engine", help=ENGINE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Reverse waterfall: leads, MQLs, SQLs and opportunities needed for a revenue goal, with pacing."""
        result = _run("goals", {"period": period, "revenue": revenue, "segment": segment, "lookback_days": lookback,
                                "as_of": as_of}, engine)
        if as_json:
            _emit_json(result)
        else:
            render_goals(result, Console())

    @app.command()
    def journeys(
        level: str = typer.Option("contact", "--level", help="contact or account"),
        top: int = typer.Option(10, "--top", help="How many top paths"),
        start: str = typer.Option(None, "--start", help="First day of events (YYYY-MM-DD)"),
        end: str = typer.Option(None, "--end", help="Last day of events (YYYY-MM-DD)"),
        engine: str = typer.Option(None, "--engine", help=ENGINE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Paths, directly-follows graph and conformance to the playbook's ideal journeys."""
        result = _run("journeys", {"level": level, "top": top, "start": start, "end": end}, engine)
        if as_json:
            _emit_json(result)
        else:
            render_journeys(result, Console())


    metrics_app = typer.Typer(help="Named measures for a period: value, basis and definition; `records NAME` lists "
                                   "the records behind one.", invoke_without_command=True)
    app.add_typer(metrics_app, name="metrics")

    @metrics_app.callback()
    def metrics(
        ctx: typer.Context,
        period: str = typer.Option(None, "--period", help=PERIOD_HELP),
        where: list[str] = typer.Option(None, "--where", help=WHERE_HELP),
        name: list[str] = typer.Option(None, "--name", help="Only this measure (repeat it); default all"),
        model: str = typer.Option(None, "--model", help="Attribution model of the campaign measures (default "
                                  "linear)"),
        engine: str = typer.Option(None, "--engine", help=ENGINE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Every measure (or the named ones) for a period and filters: value, basis and definition."""
        if ctx.invoked_subcommand is not None:
            return
        from smarketing.analytics.queries.funnel import filters_from_terms
        from smarketing.core.errors import ValidationFailed

        if not period:
            raise ValidationFailed("--period is required, e.g. --period 2026-Q4", field="period")
        result = _run("metrics", {"period": period, "names": name or [], "model": model,
                                  "filters": filters_from_terms(where or [], sep="=", source="--where")}, engine)
        if as_json:
            _emit_json(result)
        else:
            render_metrics(result, Console())

    @metrics_app.command("records")
    def metrics_records(
        name: str = typer.Argument(..., help="The measure, e.g. mqls_entered"),
        period: str = typer.Option(..., "--period", help=PERIOD_HELP),
        where: list[str] = typer.Option(None, "--where", help=WHERE_HELP),
        offset: int = typer.Option(0, "--offset", help="Skip this many records"),
        limit: int = typer.Option(50, "--limit", help="At most this many records (1-500)"),
        model: str = typer.Option(None, "--model", help="Attribution model of the campaign measures (default "
                                  "linear)"),
        engine: str = typer.Option(None, "--engine", help=ENGINE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """The records one measure counts (its numerator for a ratio), oldest first."""
        from smarketing.analytics.queries.funnel import filters_from_terms

        result = _run("measure_records", {"name": name, "period": period, "offset": offset, "limit": limit,
                                          "model": model,
                                          "filters": filters_from_terms(where or [], sep="=", source="--where")},
                      engine)
        if as_json:
            _emit_json(result)
        else:
            render_measure_records(result, Console())
