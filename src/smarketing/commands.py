"""The index of the CLI's commands, and the top-level group that loads a command's module only when it runs.

`smarketing --help` lists the commands from `COMMANDS` without importing them (Click's lazy loading of
subcommands); a command line that names a command imports its module, and a command group's help needs no more.
Django is set up just before a command's own code runs, so a command module imports models and services inside
its functions (tests/test_startup.py checks that each imports without Django set up).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from importlib import import_module
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_group

if TYPE_CHECKING:
    from typer import _click

# Each top-level command: the module whose `register(app)` adds it, and the first paragraph of its help as
# `smarketing --help` lists it, in the listing's order. tests/test_startup.py checks this table against the
# commands the modules register (names, helps, order), so it cannot drift from them.
COMMANDS: dict[str, tuple[str, str]] = {
    "migrate": ("smarketing.core.cli",
                "Create or upgrade the database schema (the database comes from DATABASE_URL)."),
    "serve": ("smarketing.core.cli", "Serve the web app, the API (/api/docs) and the admin (/admin/)."),
    "worker": ("smarketing.core.cli", "Run the background task worker (database-backed queue)."),
    "service": ("smarketing.core.cli",
                "Keep the product loaded and run the CLI's commands in it, so each answers without the start-up "
                "cost\n(`make demo` runs it; in production run it beside the server). Commands find it by the "
                "data folder;\nSMARKETING_COMMAND_SERVICE=off makes a command run in its own process."),
    "createuser": ("smarketing.team.cli", "Create a user with a role (and optionally an API token); the password "
                   "must pass the password policy."),
    "token": ("smarketing.team.cli", "Issue an API token for an existing user (the secret is printed once), or "
              "list or revoke theirs."),
    "seed": ("smarketing.demo.cli", "Seed the synthetic demo company into the configured database (nothing is "
             "written if it fails)."),
    "demo": ("smarketing.demo.cli", "Migrate, seed the demo company if the database is empty, print how to log "
             "in, then serve the app (with\nthe task worker, so SLA breaches act, themes appear and figures are "
             "warm, and the command service, so\ncommands answer at once)."),
    "funnel": ("smarketing.analytics.cli", "Volume, conversion, velocity and value between two lifecycle stages."),
    "goals": ("smarketing.analytics.cli", "Reverse waterfall: leads, MQLs, SQLs and opportunities needed for a "
              "revenue goal, with pacing."),
    "journeys": ("smarketing.analytics.cli",
                 "Paths, directly-follows graph and conformance to the playbook's ideal journeys."),
    "attribution": ("smarketing.analytics.attribution_cli", "Credit channels and campaigns with conversions, "
                    "pipeline or revenue under an attribution model."),
    "roi": ("smarketing.analytics.attribution_cli",
            "Campaign ROI, ROAS, cost per MQL/SQL/opportunity and pipeline influenced."),
    "notifications": ("smarketing.team.cli",
                      "Notification emails: the daily digest (SMARKETING_SMTP_* must be set)."),
    "playbook": ("smarketing.playbook.cli", "The shared playbook: show, export, import, sign off, diff."),
    "import": ("smarketing.ingest.cli", "Import data from files (CSV mappings)."),
    "score": ("smarketing.scoring.cli", "Lead scoring: explain, predictive model, MQL threshold, rebuild."),
    "handoff": ("smarketing.lifecycle.cli",
                "MQL handoff: qualify, the queue, accept / reject / recycle, closed-loop report."),
    "sla": ("smarketing.lifecycle.cli", "The two-sided SLA: status, compliance, one check pass."),
    "webhook": ("smarketing.lifecycle.cli", "Outgoing webhooks (signed HMAC-SHA256, retried with backoff)."),
    "correct": ("smarketing.lifecycle.cli",
                "RevOps: correct a bad history row (a recorded reversal, never an edit)."),
    "metrics": ("smarketing.analytics.cli", "Named measures for a period: value, basis and definition; "
                "`records NAME` lists the records behind one."),
    "store": ("smarketing.analytics.store.cli",
              "The history store: the database mirrored into Parquet for fast analytics."),
    "feedback": ("smarketing.feedback.cli",
                 "Customer feedback from sales: import, themes and insights for marketing."),
    "campaign": ("smarketing.campaigns.cli", "Campaigns as sales carries them: briefs and message consistency."),
}
COMMAND_MODULES = list(dict.fromkeys(module for module, _ in COMMANDS.values()))


def module_commands(module: str) -> TyperGroup:
    """The commands `module` registers, as one group (imported now; Django need not be set up)."""
    app = typer.Typer()
    import_module(module).register(app)
    group = get_group(app)
    assert isinstance(group, TyperGroup)
    return group


class LazyCommands(TyperGroup):
    """The top-level group: lists `COMMANDS` without importing them, and imports a command's module when the
    command line names it (Click's lazy loading of subcommands)."""

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        # Stand-ins carrying the name and help that the listing and "did you mean" need.
        self.commands.update({name: TyperCommand(name, help=help_text) for name, (_, help_text) in COMMANDS.items()})
        self._loaded: dict[str, TyperGroup] = {}

    def resolve_command(self, ctx: _click.Context, args: list[str]) -> tuple[str | None, _click.Command | None,
                                                                               list[str]]:
        name, command, rest = super().resolve_command(ctx, args)
        if name is None:
            return name, command, rest
        return name, self.loaded(name), rest

    def loaded(self, name: str) -> _click.Command:
        """The command `name` as its module registers it, every callback in it setting Django up first."""
        module = COMMANDS[name][0]
        if module not in self._loaded:
            group = module_commands(module)
            _setup_before_callbacks(group)
            self._loaded[module] = group
        return self._loaded[module].commands[name]


def _setup_before_callbacks(command: _click.Command) -> None:
    # Why callbacks: Click parses a command line (and answers --help) before calling any of them.
    if command.callback is not None:
        command.callback = _after_setup(command.callback)
    for sub in getattr(command, "commands", {}).values():
        _setup_before_callbacks(sub)


F = TypeVar("F", bound=Callable[..., Any])


def django_unless(no_django: Callable[[dict[str, Any]], bool]) -> Callable[[F], F]:
    """Mark a command whose invocations for which `no_django(its parameters)` holds need no Django: none is set up
    for them (`attribution --paths` reads a file, not the database)."""
    def mark(callback: F) -> F:
        callback.__dict__["no_django"] = no_django  # Typer's wrapper copies it (functools.wraps)
        return callback

    return mark


def _after_setup(callback: Callable[..., Any]) -> Callable[..., Any]:
    no_django = callback.__dict__.get("no_django")

    @wraps(callback)
    def with_django(*args: Any, **kwargs: Any) -> Any:
        from django.apps import apps

        if not apps.ready and not (no_django is not None and no_django(kwargs)):
            from smarketing.cli import setup

            setup()
        return callback(*args, **kwargs)

    return with_django
