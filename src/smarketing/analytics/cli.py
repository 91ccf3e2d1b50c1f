"""`smarketing funnel | goals | journeys`: rich tables for people, `--json` for machines.

Each command parses options into a query spec, runs it through the registry and renders the typed result.
"""

from __future__ import annotations

import json
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from smarketing.core.cli_format import Col, console, print_table, text_col
from smarketing.core.formatting import days, money, number, percent


def _run(kind: str, data: dict[str, Any], engine: str | None) -> Any:
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.registry import parse_spec, run_query

    spec = parse_spec(kind, {k: v for k, v in data.items() if v is not None})
    with open_engine(engine) as eng:  # type: ignore[arg-type]
        result = run_query(spec, engine=eng)
    warn_skipped_rows(result)
    return result


def warn_skipped_rows(result: Any) -> None:
    """Print the result's notes about stored rows analytics skipped (on stderr, so --json stays clean)."""
    for warning in getattr(result, "warnings", []):
        typer.secho(f"note: {warning}", err=True, fg=typer.colors.YELLOW)


def _emit_json(result: Any) -> None:
    typer.echo(json.dumps(result.model_dump(mode="json"), indent=2))


def render_funnel(result: Any, console: Console) -> None:
    from smarketing.analytics.queries.funnel import describe_filters

    q = result.query
    where = describe_filters(q.filters)
    title = (f"Funnel {q.from_stage} → {q.to_stage} ({q.level}s)" + (f" by {q.by}" if q.by else "")
             + (f" where {where}" if where else ""))
    print_table(console, [text_col("stage"), Col("reached"), Col("from previous"), Col("from start"),
                          Col("median days"), Col("mean days")],
                [[s.stage, number(s.reached), percent(s.conversion_from_previous, 1),
                  percent(s.conversion_from_start, 1), days(s.median_days_from_previous),
                  days(s.mean_days_from_previous)] for s in result.total.steps], title=title + " — steps")
    console.print()
    rows = [[g.key if g is not result.total else "all", number(g.entered), number(g.converted),
             percent(g.conversion_rate, 1), days(g.median_days_to_convert), days(g.mean_days_to_convert),
             days(g.median_days_in_stage), money(g.pipeline_value), money(g.won_value),
             "/".join(str(g.outcomes[k]) for k in ("won", "lost", "open", "none"))]
            for g in [*result.groups, result.total]]
    print_table(console, [text_col(q.by or "group"), Col("entered"), Col("converted"), Col("rate"),
                          Col("median days"), Col("mean days"), Col("days in stage"), Col("pipeline"), Col("won"),
                          Col("won/lost/open/none")], rows, title=title, bold_last=True,
                legend=[f"median/mean days: to convert; days in stage: median days in {q.from_stage} before "
                        "leaving it; won/lost/open/none: the cohort by its opportunities' best outcome"])


def render_goals(result: Any, console: Console) -> None:
    r = result.rates
    console.print(Text(f"Goal {result.query.period}: {money(result.revenue)} revenue "
                       f"({result.period_start} – {result.period_end})", style="bold"))
    console.print(f"measured: lead→MQL {percent(r.lead_to_mql, 1)}, MQL→SQL {percent(r.mql_to_sql, 1)}, "
                  f"SQL→opp {percent(r.sql_to_opportunity, 1)}, win rate {percent(r.win_rate, 1)}, deal size "
                  f"{money(r.average_deal_size)}; lags {r.days_lead_to_mql:.0f}/{r.days_mql_to_sql:.0f}/"
                  f"{r.days_sql_to_opportunity:.0f}/{r.days_opportunity_to_won:.0f} days")
    stages = ["leads", "mqls", "sqls", "opportunities", "deals", "revenue"]
    months = [[m.month, *[f"{number(m.targets[s])} ({m.actuals.get(s, 0):,.0f})" if s in m.targets else ""
                          for s in stages]] for m in result.months]
    months.append(["needed", *[number(result.needed[s]) for s in stages]])
    console.print()
    print_table(console, [text_col("month"), *[Col(s) for s in stages]], months, title="Targets (actual) by month",
                bold_last=True)
    console.print()
    print_table(console, [text_col("stage"), Col("target"), Col("target to date"), Col("actual to date"),
                          Col("pacing"), text_col("status")],
                [[p.stage, number(p.target), number(p.target_to_date), number(p.actual_to_date),
                  percent(p.pacing, 1), p.status.replace("_", " ")] for p in result.pacing], title="Pacing")


def render_journeys(result: Any, console: Console) -> None:
    console.print(Text(f"Journeys ({result.query.level}s): {result.subjects:,} subjects, {result.events:,} events, "
                       f"kernel {result.kernel}", style="bold"))
    for c in result.conformance:
        console.print()
        console.print(Text(f"{c.journey}: {' → '.join(c.steps)}", style="bold"))
        console.print(f"  {c.conforming:,}/{c.subjects:,} conform ({percent(c.conformance_rate, 1)}); "
                      f"conversion to {c.outcome}: conforming {percent(c.conversion_conforming, 1)}, "
                      f"non-conforming {percent(c.conversion_non_conforming, 1)}")
        if c.deviations:
            print_table(console, [text_col("step"), Col("subjects"), Col("skipped it"), Col("stopped there")],
                        [[f"{d.step_index + 1}. {d.step}", number(d.subjects), number(d.skipped), number(d.stopped)]
                         for d in c.deviations], title=f"Where {c.journey} journeys deviate (first missing step)")
    console.print()
    print_table(console, [text_col("path"), Col("subjects"), Col("share"), Col("converted")],
                [[" → ".join(p.path), number(p.subjects), percent(p.share, 1), number(p.converted)]
                 for p in result.top_paths], title="Top paths")
    console.print()
    print_table(console, [text_col("from"), text_col("to"), Col("count"), Col("mean days")],
                [[e.source, e.target, number(e.count), number(e.mean_days, digits=2)] for e in result.edges[:25]],
                title="Directly-follows graph (top 25 edges)")


def measure_text(unit: str, value: float | None) -> str:
    """A measure's value for a terminal: counts whole, money with two decimals, ratios as percentages."""
    if value is None:
        return "—"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "money":
        return f"{value:,.2f}"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def change_text(unit: str, c: Any) -> str:
    """A change for a terminal: the direction in words, the difference (points for a ratio) and the percentage."""
    if c is None or c.delta is None:
        return "—"
    if c.direction == "same":
        return "no change"
    sign = "+" if c.delta > 0 else "−"
    size = f"{abs(c.delta) * 100:.1f} pts" if unit == "ratio" else measure_text(unit, abs(c.delta))
    pct = f" ({sign}{abs(c.delta_percent):.1f} %)" if c.delta_percent is not None else ""
    return f"{c.direction} {sign}{size}{pct}"


def render_metrics(result: Any, console: Console) -> None:
    from smarketing.analytics.queries.funnel import describe_filters

    where = describe_filters(result.filters)
    before = result.previous
    table = Table(title=f"Measures, {result.label} ({result.start:%Y-%m-%d %H:%M} – {result.end:%Y-%m-%d %H:%M} UTC, "
                        f"{result.timezone})" + (f" where {where}" if where else "")
                  + (f", compared with {before.label}" if before else ""))
    cols = ("measure", "value", *(("previous", "change") if before else ()), "basis", "definition")
    for col in cols:
        table.add_column(col, justify="right" if col in ("value", "previous", "change") else "left")
    for m in result.measures:
        value = measure_text(m.unit, m.value)
        if m.unit == "ratio" and m.denominator is not None:
            value += f" ({m.numerator:,.0f}/{m.denominator:,.0f})"
        compared = []
        if before:
            c = m.change
            compared = [measure_text(m.unit, c.previous if c else None), change_text(m.unit, c)]
        table.add_row(f"{m.label}\n[dim]{m.name}[/dim]", value, *compared, m.basis,
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
        timezone: str = typer.Option(None, "--timezone", help="Time zone of the --start/--end days, e.g. "
                                     "America/New_York (default UTC; the pages use the playbook calendar's)"),
        engine: str = typer.Option(None, "--engine", help=ENGINE_HELP),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Volume, conversion, velocity and value between two lifecycle stages."""
        from smarketing.analytics.queries.funnel import filters_from_terms

        filters = filters_from_terms(where or [], sep="=", source="--where") or None
        result = _run("funnel", {"from_stage": from_stage, "to_stage": to_stage, "by": by, "window_days": window,
                                 "level": level, "start": start, "end": end, "filters": filters,
                                 "timezone": timezone}, engine)
        if as_json:
            _emit_json(result)
        else:
            render_funnel(result, console())

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
            render_goals(result, console())

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
        import smarketing.analytics.queries.journeys  # noqa: F401 - registers its kind (and loads no other)

        result = _run("journeys", {"level": level, "top": top, "start": start, "end": end}, engine)
        if as_json:
            _emit_json(result)
        else:
            render_journeys(result, console())


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
        compare: str = typer.Option(None, "--compare", help="prev: also the previous period (same length, just "
                                    "before: the previous quarter of a quarter) and each measure's change"),
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
        result = _run("metrics", {"period": period, "names": name or [], "model": model, "compare": compare,
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
