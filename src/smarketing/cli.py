"""The `smarketing` command. Each domain app contributes commands through `<app>/cli.py: register(app)`.

A command's module is imported only when the command line names it, and Django is set up just before a command's
own code runs (smarketing.commands): `smarketing --help` and a command group's help load neither. The set-up's
objects are frozen out of the garbage collector (`setup`), so neither later collections nor the interpreter's
last ones at exit walk them; a command the user ran closes its database connections when it ends.
Domain and configuration errors are printed without a traceback and exit with status 2.
When `smarketing service` listens on the data folder, a command typed by the user runs in a child of that warm
process instead of here (smarketing.core.command_client): only the standard library loads before that check.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import typer
    from typer import _click

    from smarketing.commands import LazyCommands


def build_app() -> typer.Typer:
    """Every command of the product; a command's module loads when the command line names it."""
    import typer

    app = typer.Typer(cls=_commands_class(), help="smarketing: one revenue team for marketing and sales.",
                      no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False)

    @app.callback()
    def commands() -> None:
        pass

    return app


def _commands_class() -> type[LazyCommands]:
    from smarketing.commands import LazyCommands

    class Commands(LazyCommands):
        """The lazy top-level group, every group's and command's unset `--help` read as False (see _help_flag)."""

        def get_help_option(self, ctx: _click.Context) -> Any:
            return _help_flag(super().get_help_option(ctx))

        def loaded(self, name: str) -> _click.Command:
            command = super().loaded(name)
            _help_flags(command)
            return command

    return Commands


def _help_flag(option: Any) -> Any:
    # Why: Typer (0.29) leaves an unset --help as None, not a bool, so parsing any command line below the top
    # group coerced that None through a pydantic TypeAdapter: `smarketing playbook --help`, and a command whose
    # options are flags, imported pydantic (about 0.08 s) for nothing. An absent flag is False, which needs no
    # coercion; the help callback reads both the same.
    if option is not None and option.default is None:
        option.default = False
    return option


def _help_flags(command: _click.Command) -> None:
    if "get_help_option" in command.__dict__:  # already wrapped
        return
    get_help_option = command.get_help_option
    command.get_help_option = lambda ctx: _help_flag(get_help_option(ctx))  # type: ignore[method-assign]
    for sub in getattr(command, "commands", {}).values():
        _help_flags(sub)


def _fail(message: str) -> None:
    import typer

    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise SystemExit(2)


def setup() -> None:
    """Configure Django from the environment (configuration errors end the command with status 2)."""
    import gc

    from smarketing.settings.env import ConfigError

    # Why: set-up creates some hundred thousand objects that live as long as the process (modules, classes, the
    # app registry), and the collector walked them all in every full collection: during set-up and, at exit, in
    # the interpreter's last collections (about 0.15 s of a command's start and end). Frozen, the collector skips
    # them; what set-up left unreachable is a few thousand objects, kept.
    gc.disable()
    try:
        import django

        django.setup()
    except ConfigError as exc:
        _fail(str(exc))
    finally:
        gc.freeze()
        gc.enable()


def _close_connections() -> None:
    # Why: the database wrapper was created in set-up, so it is frozen (setup) and the interpreter's last
    # collection no longer closes its connection; closed here, SQLite checkpoints its WAL into the database file
    # when a command ends, as before. A failing close is ignored, as it was there, so it cannot hide the command's
    # own error.
    django_apps = sys.modules.get("django.apps")
    if django_apps is not None and django_apps.apps.ready:
        import contextlib

        from django.db import DatabaseError, connections

        with contextlib.suppress(DatabaseError):
            connections.close_all()


def _user_error(exc: Exception) -> bool:
    from smarketing.core.errors import DomainError
    from smarketing.settings.env import ConfigError

    if isinstance(exc, (DomainError, ConfigError)):
        return True
    # Why not imported: the playbook schema loads pydantic, and only a command that loaded it can raise this.
    schema = sys.modules.get("smarketing.playbook.schema")
    return schema is not None and isinstance(exc, schema.PlaybookInvalid)


def run(app: typer.Typer, argv: list[str]) -> None:
    """Run one command line; raises SystemExit with its status, as a console script does."""
    try:
        app(args=argv, prog_name="smarketing", standalone_mode=True)
    except Exception as exc:
        if not _user_error(exc):
            raise
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
        try:
            run(build_app(), argv)
        finally:
            _close_connections()
        return
    run(build_app(), argv)


if __name__ == "__main__":
    main()
