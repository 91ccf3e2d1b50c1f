"""`smarketing import …`: one sub-command per source mapping, each defined beside its mapping."""

from __future__ import annotations

import typer

from smarketing.ingest import members, olist, touchpoints, xeducation

import_app = typer.Typer(help="Import data from files (CSV mappings).", no_args_is_help=True)
import_app.command("xeducation")(xeducation.command)
import_app.command("touchpoints")(touchpoints.command)
import_app.command("olist")(olist.command)
import_app.command("members")(members.command)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
