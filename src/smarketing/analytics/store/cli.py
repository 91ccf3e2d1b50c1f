"""`smarketing store status | sync | rebuild`: the history store from the command line."""

from __future__ import annotations

import json
from typing import Any

import typer

store_app = typer.Typer(help="The history store: the database mirrored into Parquet for fast analytics.",
                        no_args_is_help=True)


def _lake_line() -> str:
    from smarketing.analytics.store.layout import configured_lake

    return f"lake: {configured_lake().url}"


@store_app.command()
def status(json_out: bool = typer.Option(False, "--json", help="Print the status as JSON")) -> None:
    """Each table of the store beside the database: rows, files, mark, how far behind, drift."""
    from smarketing.analytics.store.status import store_status
    from smarketing.core.cli_format import Col, console, print_table, text_col
    from smarketing.core.formatting import number

    rows = store_status()
    if json_out:
        typer.echo(json.dumps([r.as_dict() for r in rows], indent=2))
        return
    typer.echo(_lake_line())
    print_table(console(), [text_col("table"), text_col("kind"), Col("in lake"), Col("in database"), Col("files"),
                            text_col("mark"), Col("behind"), text_col("last copied"), text_col("drift")],
                [[r.table, r.kind, number(r.lake_rows), number(r.database_rows), number(r.files), r.mark,
                  number(r.behind), r.synced_at or "never", "rebuild" if r.drift else ""] for r in rows])


def _summary(state: Any, seconds: float) -> dict[str, Any]:
    copied = sum(state.copied.values())
    return {"lake": state.lake.url, "copied": state.copied, "rows_copied": copied, "seconds": round(seconds, 3),
            "as_of": state.as_of.isoformat()}


@store_app.command()
def sync(json_out: bool = typer.Option(False, "--json", help="Print what was copied as JSON")) -> None:
    """Copy what the database committed since the last catch-up (queries do this themselves too)."""
    import time

    from smarketing.analytics.store.sync import store_catch_up

    started = time.perf_counter()
    summary = _summary(store_catch_up(), time.perf_counter() - started)
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(f"{_lake_line()}\ncopied {summary['rows_copied']:,} row(s) in {summary['seconds']:.2f} s; "
               f"as of {summary['as_of']}")


@store_app.command()
def rebuild(json_out: bool = typer.Option(False, "--json", help="Print what was copied as JSON")) -> None:
    """Empty the store and copy every table again, with a progress bar (also compacts the history's files)."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from smarketing.analytics.store.sync import store_rebuild

    started = time.perf_counter()
    with Progress(TextColumn("{task.description:<18}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  transient=json_out, disable=json_out) as bar:
        tasks: dict[str, Any] = {}

        def progress(table: str, done: int, total: int) -> None:
            if table not in tasks:
                tasks[table] = bar.add_task(table, total=max(total, 1))
            bar.update(tasks[table], completed=done, total=max(total, 1))

        state = store_rebuild(progress=progress)
    summary = _summary(state, time.perf_counter() - started)
    if json_out:
        typer.echo(json.dumps(summary, indent=2))
        return
    rate = summary["rows_copied"] / summary["seconds"] if summary["seconds"] else 0
    typer.echo(f"{_lake_line()}\nrebuilt: {summary['rows_copied']:,} row(s) in {summary['seconds']:.2f} s "
               f"({rate:,.0f} rows/s); as of {summary['as_of']}")


def register(app: typer.Typer) -> None:
    app.add_typer(store_app, name="store")
