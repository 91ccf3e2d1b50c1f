"""Commands of the demo company: `seed` (seed only) and `demo` (migrate, seed the small company if empty, serve)."""

from __future__ import annotations

import subprocess
import sys
from contextlib import nullcontext
from datetime import date, timedelta
from pathlib import Path

import typer

SIZES = ("small", "medium", "large")
AS_OF_HELP = ("Last simulated day: YYYY-MM-DD, or 'today' (the simulated year ends as today begins, so its last "
              "full day is yesterday and nothing lies in the future)")


def _last_day(value: str) -> date | None:
    """The --as-of option: empty for the catalog's fixed day, 'today' or an ISO date not after today."""
    from smarketing.core import clock
    from smarketing.core.errors import ValidationFailed

    value = value.strip().lower()
    if not value:
        return None
    today = clock.now().date()
    if value == "today":
        return today - timedelta(days=1)
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ValidationFailed(f"--as-of {value!r} is neither 'today' nor a date YYYY-MM-DD", field="as-of") from None
    if day > today:
        raise ValidationFailed(f"--as-of {day} is in the future; the simulated year ends today at the latest",
                               field="as-of")
    return day


def _seed_with_progress(size: str, seed: int, force: bool, last_day: date | None = None) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from smarketing.demo.catalog import simulated_year_ending, window_start
    from smarketing.demo.services import DEMO_PASSWORD, demo_seed

    bar = Progress(TextColumn("[bold]seeding {task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("chunks · {task.fields[rows]:,} rows"), TimeElapsedColumn())
    task = bar.add_task(f"{size} demo (seed {seed})", total=None, rows=0)

    def progress(done: int, total: int, rows: int) -> None:
        bar.start()  # shown from the first chunk on, so a refusal prints no empty bar
        bar.update(task, completed=done, total=total, rows=rows)

    try:
        with simulated_year_ending(last_day) if last_day else nullcontext():
            result = demo_seed(size=size, seed=seed, progress=progress, force=force)
            first = window_start()
    finally:
        bar.stop()
    counts = ", ".join(f"{v:,} {k.replace('_', ' ')}" for k, v in result.counts.items())
    typer.echo(f"seeded the {size} demo company in {result.seconds:.1f}s: {counts}")
    typer.echo(f"its simulated year runs from {first} to {first + timedelta(days=364)}")
    _store_build()
    _print_logins([u for u, _ in result.logins], DEMO_PASSWORD)


def _store_build() -> None:
    """Copy the new company into the history store now, so the first analytics command answers at once."""
    import time

    from smarketing.analytics.store.sync import store_catch_up

    started = time.perf_counter()
    state = store_catch_up()
    typer.echo(f"history store built in {time.perf_counter() - started:.1f}s: {sum(state.copied.values()):,} rows "
               f"({state.lake.url})")


def _warm_before_serving() -> None:
    """Load the web app's routes, kernels and templates and compute this quarter's scoreboard figures now, so the
    first login answers at once instead of computing them inside the first visitor's request."""
    import time

    from smarketing.core.errors import DomainError
    from smarketing.web.data.warm import preload, warm

    started = time.perf_counter()
    preload()
    try:
        warm()
    except DomainError as exc:  # the pages will say what is wrong; the demo still starts
        typer.echo(f"could not warm the scoreboard's figures: {exc.message}")
        return
    typer.echo(f"this quarter's figures are ready ({time.perf_counter() - started:.1f}s)")


def _queue_start_work() -> None:
    """Have the worker group feedback into themes (when no run exists yet) and warm this quarter's figures now, so
    the first pages show themes and answer at once."""
    from smarketing.analytics.tasks import kernels_compile_task
    from smarketing.feedback.selectors import feedback_list
    from smarketing.feedback.tasks import themes_rebuild_task
    from smarketing.feedback.theme_selectors import theme_run_latest
    from smarketing.web.data.warm import warm_async

    # Why the priorities: SLA breaches due at start are acted on first (they may change the figures' data), then
    # figures are warmed again if they did, then every analytics command is run once so a fresh install's kernels
    # are compiled before someone types a command (a second or two each otherwise), then themes are found (the
    # slowest, up to a minute with embeddings).
    work = []
    if warm_async(priority=-10):
        work.append("this quarter's figures")
    kernels_compile_task.using(priority=-15).enqueue()
    if theme_run_latest() is None and feedback_list().exists():
        themes_rebuild_task.using(priority=-20).enqueue()
        work.append("feedback themes")
    if work:
        typer.echo(f"the worker is computing {' and '.join(work)} (ready in about a minute)")


def _start_beside(command: str) -> tuple[subprocess.Popen[bytes], Path]:
    """Start `smarketing COMMAND` as its own process (as in production), with the same interpreter and
    environment; its lines go to `<data dir>/COMMAND.log`, not over the server's output."""
    from django.conf import settings

    log_path = Path(settings.DATA_DIR) / f"{command}.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen([sys.executable, "-m", "smarketing.cli", command], stdout=log,
                                   stderr=subprocess.STDOUT)
    return process, log_path


def _print_logins(usernames: list[str], password: str) -> None:
    typer.echo("log in at /login/ with one user per role (password: " + password + "):")
    for username in usernames:
        typer.echo(f"  {username}")


def register(app: typer.Typer) -> None:
    @app.command()
    def seed(size: str = typer.Option("small", "--size", help="small (~2.3k contacts), medium (~24k) or large "
                                                                "(~100k contacts, 5M touchpoints)"),
             seed: int = typer.Option(1, "--seed", help="Same seed, same company"),
             force: bool = typer.Option(False, "--force", help="Seed even if the database already has contacts"),
             as_of: str = typer.Option("", "--as-of", help=AS_OF_HELP + "; default: the fixed 2026-11-23")
             ) -> None:
        """Seed the synthetic demo company into the configured database (nothing is written if it fails)."""
        from django.core.management import call_command

        from smarketing.core.errors import ValidationFailed

        if size not in SIZES:
            raise ValidationFailed(f"--size must be one of {', '.join(SIZES)}", field="size")
        last_day = _last_day(as_of)
        call_command("migrate", interactive=False, verbosity=0)
        _seed_with_progress(size, seed, force, last_day)

    @app.command()
    def demo(size: str = typer.Option("small", "--size", help="Size to seed when the database is empty"),
             seed: int = typer.Option(1, "--seed", help="Seed of the demo company"),
             host: str = typer.Option("127.0.0.1", help="Address to bind"),
             port: int = typer.Option(8000, help="Port to bind"),
             as_of: str = typer.Option("today", "--as-of", help=AS_OF_HELP + " (when it seeds)"),
             warm: bool = typer.Option(True, "--warm/--no-warm", help="Compute this quarter's scoreboard figures "
                                                                     "before serving, so the first login answers at once"),
             worker: bool = typer.Option(True, "--worker/--no-worker",
                                         help="Also run the task worker (SLA checks, themes, won-deal outcomes, "
                                              "warm figures) beside the server"),
             workers: int = typer.Option(2, "--workers", min=1,
                                         help="Task worker processes (two compute a page's figures side by side)"),
             service: bool = typer.Option(True, "--service/--no-service",
                                          help="Also run the command service, so `smarketing` commands typed "
                                               "in another terminal answer without loading the product")) -> None:
        """Migrate, seed the demo company if the database is empty, print how to log in, then serve the app (with
        the task worker, so SLA breaches act, themes appear and figures are warm, and the command service, so
        commands answer at once)."""
        import signal

        from django.conf import settings
        from django.core.management import call_command

        from smarketing.core.cli import serve_app
        from smarketing.core.errors import ValidationFailed
        from smarketing.demo.selectors import database_is_empty, demo_seed_latest
        from smarketing.demo.services import DEMO_PASSWORD

        if size not in SIZES:
            raise ValidationFailed(f"--size must be one of {', '.join(SIZES)}", field="size")
        last_day = _last_day(as_of)
        call_command("migrate", interactive=False, verbosity=0)
        if database_is_empty():
            _seed_with_progress(size, seed, force=False, last_day=last_day)
        else:
            run = demo_seed_latest()
            what = f"the {run.size} demo company (seed {run.seed})" if run else "existing data"
            typer.echo(f"the database already has {what}; not seeding")
            if run is not None:
                _print_logins(["maria.marketing", "sam.sales", "rita.revops", "vic.viewer"], DEMO_PASSWORD)
        if warm:
            _warm_before_serving()
        typer.echo(f"open http://{host}:{port}/login/ (stop with Ctrl+C)")
        # The worker is its own process (as in production), started with the same interpreter and environment, and
        # stopped with the server; its line per task goes to a log file, not over the server's output.
        background: list[subprocess.Popen[bytes]] = []
        if worker:
            for _ in range(workers):
                process, log_path = _start_beside("worker")
                background.append(process)
                typer.echo(f"task worker running (pid {process.pid}); its log: {log_path}")
            _queue_start_work()
        if service:
            process, log_path = _start_beside("service")
            background.append(process)
            typer.echo(f"command service running (pid {process.pid}): `smarketing` commands in another terminal "
                       f"run in it (with SMARKETING_DATA_DIR={Path(settings.DATA_DIR)}); its log: {log_path}")
        # Why: a SIGTERM (a service manager, `kill`) must stop the worker too, as Ctrl+C does.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            serve_app(host=host, port=port)
        finally:
            for process in background:
                process.terminate()
            for process in background:
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
