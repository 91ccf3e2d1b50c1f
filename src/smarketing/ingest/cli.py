"""`smarketing import …`: one sub-command per source mapping, each defined beside its mapping."""

from __future__ import annotations

import typer

from smarketing.ingest import touchpoints, xeducation

import_app = typer.Typer(help="Import data from files (CSV mappings).", no_args_is_help=True)
import_app.command("xeducation")(xeducation.command)
import_app.command("touchpoints")(touchpoints.command)

try:  # the Olist mapping lives in its own module, added separately
    from smarketing.ingest import olist
except ImportError:
    olist = None  # type: ignore[assignment]
if getattr(olist, "command", None) is not None:
    import_app.command("olist")(olist.command)  # type: ignore[attr-defined,unused-ignore]


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
