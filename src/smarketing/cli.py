"""The `smarketing` command. Each domain app contributes commands through `<app>/cli.py: register(app)`.

Django is set up before any app module is imported, so command modules may import models freely.
Domain and configuration errors are printed without a traceback and exit with status 2.
When `smarketing service` listens on the data folder, a command typed by the user runs in a child of that warm
process instead of here (smarketing.core.command_client): only the standard library loads before that check.
"""

from __future__ import annotations

import os
import sys
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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
    import typer

    app = typer.Typer(help="smarketing: one revenue team for marketing and sales.", no_args_is_help=True,
                      pretty_exceptions_enable=False, add_completion=False)
    for name in COMMAND_MODULES:
        register = getattr(import_module(name), "register", None)
        if register is not None:
            register(app)
    return app


def _fail(message: str) -> None:
    import typer

    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise SystemExit(2)


def setup() -> None:
    """Configure Django from the environment (configuration errors end the command with status 2)."""
    from smarketing.settings.env import ConfigError

    try:
        import django

        django.setup()
    except ConfigError as exc:
        _fail(str(exc))


def run(app: typer.Typer, argv: list[str]) -> None:
    """Run one command line; raises SystemExit with its status, as a console script does."""
    from smarketing.core.errors import DomainError
    from smarketing.playbook.schema import PlaybookInvalid
    from smarketing.settings.env import ConfigError

    try:
        app(args=argv, prog_name="smarketing", standalone_mode=True)
    except (DomainError, PlaybookInvalid, ConfigError) as exc:
        _fail(getattr(exc, "message", None) or str(exc))


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
    if argv is None:  # the console script: a user's command, which the command service may run
        from smarketing.core.command_client import run_through_service
        from smarketing.settings.env import command_socket_path, settings_environment

        argv = sys.argv[1:]
        status = run_through_service(argv, command_socket_path(), settings_environment())
        if status is not None:
            raise SystemExit(status)
    setup()
    run(build_app(), argv)


if __name__ == "__main__":
    main()
