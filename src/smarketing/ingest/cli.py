"""`smarketing import …`: load public datasets and CRM exports; `register(app)` adds the group to the CLI."""

from __future__ import annotations

from pathlib import Path

import typer

import_app = typer.Typer(help="Import datasets and CRM exports.", no_args_is_help=True)


@import_app.command("olist")
def import_olist(folder: Path = typer.Argument(None, help="Folder with the two Olist marketing-funnel CSVs "
                                                          "(default: ../shared/datasets/olist)")) -> None:
    """Load the Olist MQLs and closed deals as contacts, won opportunities and stage history."""
    from smarketing.ingest.olist import default_folder, olist_import

    report = olist_import(folder=folder or default_folder())
    typer.echo(f"olist: {report.contacts_created} contacts, {report.accounts_created} accounts, "
               f"{report.opportunities_created} won opportunities, {report.stage_changes_created} stage changes "
               f"created; {report.already_present} MQLs were already imported")
    for note in report.notes:
        typer.echo(f"note: {note}")


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
