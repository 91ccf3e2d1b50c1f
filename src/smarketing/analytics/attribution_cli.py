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

from smarketing.commands import django_unless
from smarketing.core.cli_format import Col, console, print_table, text_col
from smarketing.core.errors import ValidationFailed
from smarketing.core.formatting import money, percent, percent_value

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


def _print_rows(title: str, weights: dict[str, Any], rows: list[Any], key: str, credit: str,
                definition: str = "") -> None:
    """One row per channel or campaign; `credit` names what the value column credits (conversions → no second
    column, as the credited value is the conversions themselves)."""
    from rich.text import Text


    con = console()
    con.print(Text(title, style="bold"))
    con.print(Text("weights: " + ", ".join(f"{k}={v}" for k, v in weights.items() if not isinstance(v, dict))))
    if definition:
        con.print(Text(definition))
    with_value = credit != "conversions"
    columns = [text_col(key), Col("conversions"), *([Col(f"{credit} credited")] if with_value else []),
               Col("share"), Col("weight"), Col("touches")]
    print_table(con, columns, [[r.name, f"{r.conversions:,.3f}", *([money(r.value, 2)] if with_value else []),
                                percent(r.share, 1), "" if r.weight is None else f"{r.weight:.4f}",
                                f"{r.touches:,}"] for r in rows])


def register(app: typer.Typer) -> None:
    @app.command()
    @django_unless(lambda params: params.get("paths") is not None)  # a paths file is attributed without the database
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
                            paths_result.channels, "channel", "value", paths_result.definition)
            return
        import smarketing.analytics.queries.attribution  # noqa: F401 - registers its kinds (and loads no other)
        from smarketing.analytics.registry import run_query

        data: dict[str, Any] = {"model": model, "level": level, "order": order, "half_life_days": half_life,
                                "weights": list(w) if w is not None else None, "credit": credit,
                                "conversion": conversion, "window_days": window_days,
                                "start": date.fromisoformat(start) if start else None,
                                "end": date.fromisoformat(end) if end else None}
        if opportunity is not None:
            import smarketing.analytics.queries.attribution_opportunity  # noqa: F401 - registers its kind

            data["opportunity_id"] = opportunity
            deal: Any = run_query(_spec("opportunity_attribution", data))
            if as_json:
                typer.echo(deal.model_dump_json(indent=2))
                return

            typer.echo(f"opportunity {deal.opportunity_id}: value {deal.value:,.2f}; weights {deal.weights}")
            typer.echo(deal.definition)
            print_table(console(), [Col("touch"), text_col("channel"), text_col("campaign"), Col("share"),
                                    Col("value credited")],
                        [[str(t.touch_id), t.channel, t.campaign, percent(t.share, 2), money(t.value, 2)]
                         for t in deal.touches])
            return
        result: Any = run_query(_spec("attribution", data))
        if as_json:
            typer.echo(result.model_dump_json(indent=2))
            return
        title = (f"{result.query.model.value} attribution, {result.query.level} level, crediting {credit} "
                 f"({result.journeys} journeys, {result.total_conversions:g} conversions, "
                 f"{result.unattributed_conversions:g} without touches)")
        _print_rows(title + " — channels", result.weights, result.channels, "channel", credit,
                    f"{result.definition}\nMethod: {result.method}.")
        typer.echo("")
        _print_rows("Campaigns", result.weights, result.campaigns, "campaign", credit)

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
        import smarketing.analytics.queries.roi  # noqa: F401 - registers its kind (and loads no other)
        from smarketing.analytics.registry import run_query

        w = parse_weights(weights)
        roi_result: Any = run_query(_spec("roi", {"model": model, "level": level, "order": order, "half_life_days": half_life,
                                         "weights": list(w) if w is not None else None,
                                         "start": date.fromisoformat(start) if start else None,
                                         "end": date.fromisoformat(end) if end else None}))
        if as_json:
            typer.echo(roi_result.model_dump_json(indent=2))
            return
        from rich.text import Text


        con = console()
        con.print(Text(f"Campaign ROI under {roi_result.query.model.value} ({roi_result.query.level} level)",
                       style="bold"))
        con.print(Text(f"weights: {json.dumps(roi_result.weights)}\n{roi_result.definition}\n"
                       f"Method: {roi_result.method}. ROI = (attributed revenue − cost) / cost, in percent; "
                       "ROAS and pipeline/cost are ratios."))
        columns = [text_col("campaign"), Col("cost"), Col("MQLs"), Col("SQLs"), Col("opps"), Col("pipeline"),
                   Col("revenue"), Col("cost/MQL"), Col("cost/SQL"), Col("cost/opp"), Col("ROAS"), Col("ROI"),
                   Col("pipeline/cost"), Col("pipeline influenced")]

        def ratio(x: float | None) -> str:
            return "—" if x is None else f"{x:,.2f}"

        print_table(con, columns, [
            [r.name, money(r.cost), ratio(r.mqls), ratio(r.sqls), ratio(r.opportunities), money(r.pipeline),
             money(r.revenue), money(r.cost_per_mql), money(r.cost_per_sql), money(r.cost_per_opportunity),
             ratio(r.roas), percent_value(r.roi), ratio(r.pipeline_per_cost), money(r.pipeline_influenced)]
            for r in [*roi_result.campaigns, roi_result.total]], bold_last=True)
