"""Attribution commands; `register(app)` adds them to the smarketing CLI.

    smarketing attribution --model markov --order 2 --level account --credit revenue --json
    smarketing attribution --paths paths.csv --model markov --order 3 --json
    smarketing attribution --model w_shaped --opportunity 42
    smarketing roi --model linear
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import typer

from smarketing.core.errors import ValidationFailed

MODELS_HELP = ("first_touch, last_touch, linear, time_decay, u_shaped, w_shaped, full_path, custom, markov, "
               "shapley")


def parse_weights(text: str | None) -> tuple[float, ...] | None:
    """`0.4,0.2,0.4` → (0.4, 0.2, 0.4); a bad number is an error naming the weights."""
    if text is None:
        return None
    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise ValidationFailed(f"weights must be numbers separated by commas, e.g. 0.4,0.2,0.4; got {text!r}",
                               field="weights") from None


def _spec(kind: str, data: dict[str, Any]) -> Any:
    from smarketing.analytics.registry import parse_spec

    return parse_spec(kind, {k: v for k, v in data.items() if v is not None})


def _print_rows(title: str, weights: dict[str, Any], rows: list[Any], value_label: str, definition: str = "") -> None:
    from rich.console import Console
    from rich.table import Table

    shown = ", ".join(f"{k}={v}" for k, v in weights.items() if not isinstance(v, dict))
    said = f"\n{definition}" if definition else ""
    table = Table(title=f"{title}\nweights: {shown}{said}", title_justify="left")
    for col in ("", "conversions", value_label, "share", "weight", "touches"):
        table.add_column(col, justify="left" if not col else "right")
    for r in rows:
        table.add_row(r.name, f"{r.conversions:.3f}", f"{r.value:,.2f}", f"{r.share:.1%}",
                      "" if r.weight is None else f"{r.weight:.4f}", str(r.touches))
    Console().print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def attribution(
        model: str = typer.Option("last_touch", help=MODELS_HELP),
        level: str = typer.Option("contact", help="contact or account (the buying committee)"),
        order: int = typer.Option(1, help="Markov order 1-3"),
        half_life: float = typer.Option(7.0, "--half-life", help="Time decay half-life in days"),
        weights: str | None = typer.Option(None, help="Custom position weights first,…,last; must sum to 1"),
        credit: str = typer.Option("conversions", help="conversions, pipeline or revenue"),
        conversion: str = typer.Option("opportunity_created",
                                       help="opportunity_created, opportunity_won or a stage reached (mql, sql…)"),
        window_days: float | None = typer.Option(None, "--window-days", help="Only touches this many days before"),
        start: str | None = typer.Option(None, help="First day of conversions (YYYY-MM-DD)"),
        end: str | None = typer.Option(None, help="Last day of conversions (YYYY-MM-DD)"),
        paths: Path | None = typer.Option(None, help="Attribute a paths file (path;total_conversions;"
                                                     "total_conversion_value;total_null) instead of the database"),
        opportunity: int | None = typer.Option(None, help="Decompose one opportunity's credit over its touches"),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Credit channels and campaigns with conversions, pipeline or revenue under an attribution model."""
        w = parse_weights(weights)
        if paths is not None:
            from smarketing.analytics.kernels import AttributionModel, read_paths_file
            from smarketing.analytics.queries.attribution import attribute_paths

            try:
                m = AttributionModel(model)
            except ValueError:
                raise ValidationFailed(f"model {model!r} is unknown; use one of {MODELS_HELP}", field="model") from None
            if not 1 <= order <= 3:
                raise ValidationFailed(f"Markov order must be 1, 2 or 3, got {order}", field="order")
            paths_result = attribute_paths(read_paths_file(paths), model=m, order=order, weights=w)
            if as_json:
                typer.echo(paths_result.model_dump_json(indent=2))
            else:
                _print_rows(f"{m.value} attribution of {paths.name} ({paths_result.journeys:,.0f} journeys, "
                            f"{paths_result.total_conversions:,.0f} conversions)", paths_result.weights,
                            paths_result.channels, "value", paths_result.definition)
            return
        from smarketing.analytics.registry import run_query

        data: dict[str, Any] = {"model": model, "level": level, "order": order, "half_life_days": half_life,
                                "weights": list(w) if w is not None else None, "credit": credit,
                                "conversion": conversion, "window_days": window_days,
                                "start": date.fromisoformat(start) if start else None,
                                "end": date.fromisoformat(end) if end else None}
        if opportunity is not None:
            data["opportunity_id"] = opportunity
            deal: Any = run_query(_spec("opportunity_attribution", data))
            if as_json:
                typer.echo(deal.model_dump_json(indent=2))
                return
            typer.echo(f"opportunity {deal.opportunity_id}: value {deal.value:,.2f}; weights {deal.weights}")
            typer.echo(deal.definition)
            for t in deal.touches:
                typer.echo(f"  touch {t.touch_id}  {t.channel:<16} {t.campaign:<30} {t.share:7.2%}  {t.value:12,.2f}")
            return
        result: Any = run_query(_spec("attribution", data))
        if as_json:
            typer.echo(result.model_dump_json(indent=2))
            return
        title = (f"{result.query.model.value} attribution, {result.query.level} level, crediting {credit} "
                 f"({result.journeys} journeys, {result.total_conversions:g} conversions, "
                 f"{result.unattributed_conversions:g} without touches)")
        _print_rows(title + " — channels", result.weights, result.channels, credit,
                    f"{result.definition}\nMethod: {result.method}.")
        _print_rows("campaigns", result.weights, result.campaigns, credit)

    @app.command()
    def roi(
        model: str = typer.Option("linear", help=MODELS_HELP),
        level: str = typer.Option("contact", help="contact or account"),
        order: int = typer.Option(1, help="Markov order 1-3"),
        half_life: float = typer.Option(7.0, "--half-life", help="Time decay half-life in days"),
        weights: str | None = typer.Option(None, help="Custom position weights first,…,last; must sum to 1"),
        start: str | None = typer.Option(None, help="First day (YYYY-MM-DD)"),
        end: str | None = typer.Option(None, help="Last day (YYYY-MM-DD)"),
        as_json: bool = typer.Option(False, "--json", help="Print JSON"),
    ) -> None:
        """Campaign ROI, ROAS, cost per MQL/SQL/opportunity and pipeline influenced."""
        from smarketing.analytics.registry import run_query

        w = parse_weights(weights)
        roi_result: Any = run_query(_spec("roi", {"model": model, "level": level, "order": order, "half_life_days": half_life,
                                         "weights": list(w) if w is not None else None,
                                         "start": date.fromisoformat(start) if start else None,
                                         "end": date.fromisoformat(end) if end else None}))
        if as_json:
            typer.echo(roi_result.model_dump_json(indent=2))
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=f"Campaign ROI under {roi_result.query.model.value} ({roi_result.query.level} level); "
                            f"weights: {json.dumps(roi_result.weights)}\n{roi_result.definition}\n"
                            f"Method: {roi_result.method}. ROI = (attributed revenue − cost) / cost, in percent.",
                      title_justify="left")
        cols = ("campaign", "cost", "MQLs", "SQLs", "opps", "pipeline", "revenue", "cost/MQL", "cost/SQL", "cost/opp",
                "ROAS", "ROI", "pipeline/cost", "pipeline influenced")
        for c in cols:
            table.add_column(c, justify="left" if c == "campaign" else "right")

        def f(x: float | None, fmt: str = "{:,.2f}") -> str:
            return "—" if x is None else fmt.format(x)

        for r in [*roi_result.campaigns, roi_result.total]:
            table.add_row(r.name, f(r.cost), f(r.mqls, "{:.2f}"), f(r.sqls, "{:.2f}"), f(r.opportunities, "{:.2f}"),
                          f(r.pipeline), f(r.revenue), f(r.cost_per_mql), f(r.cost_per_sql),
                          f(r.cost_per_opportunity), f(r.roas, "{:.2f}"), f(r.roi, "{:,.1f} %"),
                          f(r.pipeline_per_cost, "{:,.2f}"), f(r.pipeline_influenced))
        Console().print(table)
