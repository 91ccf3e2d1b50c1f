"""`smarketing import …`: one sub-command per source mapping, each defined beside its mapping."""

from __future__ import annotations

import typer

from smarketing.ingest import cli_company, members, olist, touchpoints, xeducation

import_app = typer.Typer(help="Import data from files (CSV mappings).", no_args_is_help=True)
import_app.command("xeducation")(xeducation.command)
import_app.command("touchpoints")(touchpoints.command)
import_app.command("olist")(olist.command)
import_app.command("members")(members.command)
import_app.command("hubspot")(cli_company.hubspot)
import_app.command("salesforce")(cli_company.salesforce)
import_app.command("pipedrive")(cli_company.pipedrive)
import_app.command("csv")(cli_company.any_csv)
import_app.command("cleanup")(cli_company.cleanup)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
