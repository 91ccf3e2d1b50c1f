"""Commands to run the product: migrate, serve, worker."""

from __future__ import annotations

import typer


def serve_app(*, host: str, port: int, threads: int = 8, access_log: bool = False) -> None:
    """Serve the WSGI app with waitress until interrupted (used by `serve` and `demo`).

    `serve` checks the production secrets first; `demo` serves on the generated local ones on purpose, which is
    why this does not load `smarketing.wsgi` (the module for WSGI servers, which refuses them with debug off).
    """
    from django.core.wsgi import get_wsgi_application
    from waitress import serve as waitress_serve

    from smarketing.core.access_log import WsgiApp

    application: WsgiApp = get_wsgi_application()
    if access_log:
        from smarketing.core.access_log import with_access_log

        application = with_access_log(application)
    typer.echo(f"smarketing is serving on http://{host}:{port}/  (API docs: /api/docs, admin: /admin/)")
    waitress_serve(application, host=host, port=port, threads=threads, ident="smarketing", _quiet=True)


def register(app: typer.Typer) -> None:
    @app.command()
    def migrate() -> None:
        """Create or upgrade the database schema (the database comes from DATABASE_URL)."""
        from django.core.management import call_command

        call_command("migrate", interactive=False, verbosity=1)
        from smarketing.playbook.services import playbook_bootstrap

        version = playbook_bootstrap()
        typer.echo(f"database ready; active playbook v{version.number}")

    @app.command()
    def serve(host: str = typer.Option("127.0.0.1", help="Address to bind"),
              port: int = typer.Option(8000, help="Port to bind"),
              threads: int = typer.Option(8, help="Worker threads"),
              access_log: bool = typer.Option(True, "--access-log/--no-access-log",
                                              help="Log each request (client, method, path, status, bytes, seconds) "
                                                   "to standard error")) -> None:
        """Serve the web app, the API (/api/docs) and the admin (/admin/)."""
        from django.core.management import call_command

        from smarketing.core.migrations_state import migrations_pending
        from smarketing.core.startup import require_production_secrets

        require_production_secrets()
        # Why the check: migrate loads every migration and renders the models' history even with nothing to apply.
        if migrations_pending():
            call_command("migrate", interactive=False, verbosity=0)
        serve_app(host=host, port=port, threads=threads, access_log=access_log)

    @app.command()
    def worker(queues: str = typer.Option("default,sla,scoring,themes", help="Comma-separated queues"),
               batch: bool = typer.Option(False, "--batch", help="Run until the queues are empty, then exit"),
               interval: float = typer.Option(0.1, help="Seconds between polls of an empty queue (a page waiting "
                                                          "for a figure also waits for the next poll)")) -> None:
        """Run the background task worker (database-backed queue)."""
        from django.core.management import call_command

        from smarketing.core.task_queue import tasks_reclaim_stale, worker_id_new
        from smarketing.core.tasks import tasks_reclaim_schedule
        from smarketing.lifecycle.tasks import sla_check_schedule
        from smarketing.lifecycle.tasks_notifications import notifications_digest_schedule

        # A worker killed mid-task leaves that run RUNNING for ever: take such runs back now and every minute
        # after (tasks_reclaim), and make sure the SLA loop is queued.
        reclaimed = tasks_reclaim_stale()
        if reclaimed.requeued or reclaimed.failed:
            typer.echo(f"reclaimed tasks of dead workers: {len(reclaimed.requeued)} requeued, "
                       f"{len(reclaimed.failed)} failed after too many attempts")
        tasks_reclaim_schedule()
        sla_check_schedule()
        notifications_digest_schedule()
        if not batch:
            # A worker that stays loads the analytics once now (every query kind's SQL compiled, the cached kernels
            # loaded: seconds), so the first figure a page waits for is not the one that pays for it.
            from smarketing.analytics.warm import preload
            from smarketing.web.data.warm import worker_warm

            preload()
            # And reads what the pages' figures keep of the whole history (each worker its own), so the first
            # figure of a new period is a slice of it.
            warmed = worker_warm()
            if warmed is not None:
                typer.echo(f"read ahead what this quarter's figures keep ({warmed['seconds']:.1f} s)")
        args = ["--queue-name", queues, "--interval", str(interval), "--worker-id", worker_id_new()]
        if batch:
            args.append("--batch")
        call_command("db_worker", *args)

    @app.command()
    def service() -> None:
        """Keep the product loaded and run the CLI's commands in it, so each answers without the start-up cost
        (`make demo` runs it; in production run it beside the server). Commands find it by the data folder;
        SMARKETING_COMMAND_SERVICE=off makes a command run in its own process."""
        from smarketing.cli import build_app, run
        from smarketing.core.command_service import ServiceRunning, command_service_run
        from smarketing.core.errors import DomainError
        from smarketing.settings.env import command_socket_path

        socket_path = command_socket_path()
        if socket_path is None:
            raise DomainError("SMARKETING_COMMAND_SERVICE is off: commands run in their own processes")
        app_for_children = build_app()
        try:
            command_service_run(socket_path=socket_path, run=lambda argv: run(app_for_children, argv),
                                log=typer.echo)
        except ServiceRunning as exc:
            raise DomainError(str(exc)) from None
