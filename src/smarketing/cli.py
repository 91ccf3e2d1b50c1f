"""The `smarketing` command. Each domain app contributes commands through `<app>/cli.py: register(app)`.

Django is set up before any app module is imported, so command modules may import models freely.
Domain and configuration errors are printed without a traceback and exit with status 2.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module

import typer

COMMAND_MODULES = [
    "smarketing.core.cli",
    "smarketing.team.cli",
    "smarketing.playbook.cli",
    "smarketing.demo.cli",
    "smarketing.ingest.cli",
    "smarketing.scoring.cli",
    "smarketing.lifecycle.cli",
    "smarketing.analytics.cli",
    "smarketing.analytics.attribution_cli",
    "smarketing.analytics.store.cli",
    "smarketing.feedback.cli",
    "smarketing.campaigns.cli",
]


def build_app() -> typer.Typer:
    app = typer.Typer(help="smarketing: one revenue team for marketing and sales.", no_args_is_help=True,
                      pretty_exceptions_enable=False, add_completion=False)
    for name in COMMAND_MODULES:
        register = getattr(import_module(name), "register", None)
        if register is not None:
            register(app)
    return app


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise SystemExit(2)


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
    from smarketing.settings.env import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        _fail(str(exc))
    from smarketing.core.errors import DomainError
    from smarketing.playbook.schema import PlaybookInvalid

    app = build_app()
    try:
        app(args=argv if argv is not None else sys.argv[1:], prog_name="smarketing", standalone_mode=True)
    except (DomainError, PlaybookInvalid, ConfigError) as exc:
        _fail(getattr(exc, "message", None) or str(exc))


if __name__ == "__main__":
    main()
