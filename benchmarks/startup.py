"""Start-up benchmark: what a user waits for before any work, each timed as a whole fresh process (best of N).

    python benchmarks/startup.py            # best of 5
    python benchmarks/startup.py --runs 10

Measures `smarketing --help`, `smarketing playbook --help` and `smarketing playbook show` (on a migrated SQLite
database in a temporary folder) beside the peer `python -c "import typer, django"` (the bare frameworks), and
`python -c "import django; django.setup()"` with the product's settings (what any command that reads the database
sets up before its own work) beside the same set-up of a bare project (auth and contenttypes on SQLite), alone and
with the product's third-party apps (admin, sessions, messages, static files, humanize, django-htmx, django-tasks
with its database backend, django-axes), so the rows part what Django, the third-party apps and the product's own
apps cost. `playbook show` is set beside a peer command of its shape: a Typer command with the same options (Typer
coerces a non-flag option through pydantic) that sets the bare project up and prints what one query read. And
`smarketing serve` from its start to the first answered request for the login page beside the peer server: bare
Django behind waitress answering one view (`python -c` with a one-view URL conf), started and polled the same way;
`smarketing serve` runs as in production (debug off, this run's own secrets).
Each round runs every case once, peers included, so all see the same load; prints the best wall-clock seconds,
the CPU seconds of the best round's process, and the ratio to and the seconds over the row each case is set
beside (its `beside` column).

Every process finds compiled bytecode, as an installed product does: they write it into a cache in the temporary
folder (PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE says (with it, each run of a source checkout
compiles every module it imports again), and one untimed round fills that cache first.
"""

from __future__ import annotations

import argparse
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

PEER = [sys.executable, "-c", "import typer, django"]
SETUP = [sys.executable, "-c", "import django; django.setup()"]
# A bare project: Django's auth and contenttypes on SQLite (the database file is argv[1]); with "+apps" (argv[2])
# also the third-party apps the product installs, without its own.
BARE_PROJECT = """
import sys
import django
from django.conf import settings

apps = ["django.contrib.auth", "django.contrib.contenttypes"]
if sys.argv[2:] == ["+apps"]:
    apps = ["django.contrib.admin.apps.SimpleAdminConfig", *apps, "django.contrib.sessions",
            "django.contrib.messages", "django.contrib.staticfiles", "django.contrib.humanize", "django_htmx",
            "django_tasks", "django_tasks_db", "axes"]
settings.configure(INSTALLED_APPS=apps, USE_TZ=True,
                   DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": sys.argv[1]}},
                   TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}})
django.setup()
"""
BARE_MIGRATE = BARE_PROJECT + """
from django.core.management import call_command

call_command("migrate", verbosity=0)
"""
# The shape of `smarketing playbook show` on the bare frameworks: a Typer command with the same two options that
# sets the bare project up and prints what one query read.
PEER_COMMAND = """
import sys
import typer

database = sys.argv.pop(1)
app = typer.Typer()


@app.command()
def show(version: int | None = typer.Option(None, "--version", "-v"),
         as_json: bool = typer.Option(False, "--json")) -> None:
    import django
    from django.conf import settings

    settings.configure(INSTALLED_APPS=["django.contrib.auth", "django.contrib.contenttypes"], USE_TZ=True,
                       DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": database}})
    django.setup()
    from django.contrib.contenttypes.models import ContentType

    typer.echo(ContentType.objects.filter(app_label="auth").order_by("model").first())


app()
"""
PEER_SERVER = """
import sys
import django
from django.conf import settings
from django.http import HttpResponse
from django.urls import path

settings.configure(ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1"], SECRET_KEY="peer-only", DEBUG=False)
django.setup()
urlpatterns = [path("login/", lambda request: HttpResponse("<form method=post>sign in</form>"))]

from django.core.wsgi import get_wsgi_application
from waitress import serve

serve(get_wsgi_application(), host="127.0.0.1", port=int(sys.argv[1]), _quiet=True)
"""
POLL_SECONDS = 0.01
SERVER_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one whole process run to its end."""
    cpu = _children_cpu()
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    return elapsed, _children_cpu() - cpu


def serve_once(argv: list[str], env: dict[str, str], port: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds) from starting a server process to its first answered GET /login/.

    The CPU seconds are the server's until it is stopped right after that answer (read once it has exited)."""
    url = f"http://127.0.0.1:{port}/login/"
    cpu = _children_cpu()
    t0 = time.perf_counter()
    server = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while True:
            if server.poll() is not None:
                raise SystemExit(f"{' '.join(argv[:3])} exited ({server.returncode}):\n"
                                 f"{server.stderr.read().decode() if server.stderr else ''}")
            if time.perf_counter() - t0 > SERVER_TIMEOUT:
                raise SystemExit(f"{' '.join(argv[:3])} did not answer {url} in {SERVER_TIMEOUT:.0f} s")
            try:
                with urllib.request.urlopen(url, timeout=SERVER_TIMEOUT) as answer:
                    answer.read()
                    if answer.status == 200:
                        break
            except OSError:
                time.sleep(POLL_SECONDS)
        elapsed = time.perf_counter() - t0
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    return elapsed, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="rounds; the best of each case is reported")
    args = parser.parse_args()

    cli = str(Path(sys.executable).with_name("smarketing"))
    with tempfile.TemporaryDirectory(prefix="smarketing-bench-startup-") as data_dir:
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
        # Each command in its own process, as without `smarketing service` (this folder has none anyway).
        env.update(SMARKETING_DATA_DIR=data_dir, SMARKETING_COMMAND_SERVICE="off",
                   PYTHONPYCACHEPREFIX=str(Path(data_dir) / "pycache"))
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
        bare_db = str(Path(data_dir) / "bare.sqlite3")
        subprocess.run([sys.executable, "-c", BARE_MIGRATE, bare_db, "+apps"], env=env, check=True,
                       capture_output=True)
        # The server runs as in production (no debug), which refuses generated local secrets: this run's own.
        serve_env = {**env, "SMARKETING_SECRET_KEY": secrets.token_urlsafe(50),
                     "SMARKETING_WEBHOOK_SECRET": secrets.token_urlsafe(50),
                     "SMARKETING_ALLOWED_HOSTS": "127.0.0.1,localhost"}

        setup_env = {**env, "DJANGO_SETTINGS_MODULE": "smarketing.settings.base"}
        # Each case with the row it is set beside (its peer): the bare frameworks, the bare project's set-up, or
        # the peer command of playbook show's shape.
        import_peer, bare, command_peer = ("python -c 'import typer, django' (peer)",
                                           "django.setup(), bare project (peer)",
                                           "Typer command, bare project, 1 query (peer)")
        commands = [(import_peer, PEER, env, import_peer),
                    (bare, [sys.executable, "-c", BARE_PROJECT, bare_db], env, import_peer),
                    ("django.setup(), bare + third-party apps", [sys.executable, "-c", BARE_PROJECT, bare_db,
                                                                 "+apps"], env, bare),
                    ("django.setup(), product settings", SETUP, setup_env, bare),
                    ("smarketing --help", [cli, "--help"], env, import_peer),
                    ("smarketing playbook --help", [cli, "playbook", "--help"], env, import_peer),
                    (command_peer, [sys.executable, "-c", PEER_COMMAND, bare_db], env, import_peer),
                    ("smarketing playbook show", [cli, "playbook", "show"], env, command_peer)]
        servers = [("bare Django + waitress, first answer (peer)", [sys.executable, "-c", PEER_SERVER], env),
                   ("smarketing serve, first answer", [cli, "serve", "--host", "127.0.0.1", "--port"], serve_env)]
        best: dict[str, tuple[float, float]] = {}

        def keep(name: str, timing: tuple[float, float]) -> None:
            if name not in best or timing[0] < best[name][0]:
                best[name] = timing

        def round_of_all() -> None:
            for name, argv, command_env, _ in commands:
                keep(name, run_once(argv, command_env))
            for name, argv, server_env in servers:
                port = free_port()
                keep(name, serve_once([*argv, str(port)], server_env, port))

        round_of_all()  # untimed: fills the bytecode cache
        best.clear()
        loads = [os.getloadavg()[0]]
        for _ in range(args.runs):
            round_of_all()
            loads.append(os.getloadavg()[0])

    print(f"best of {args.runs} whole processes, each round interleaved; 1-minute load average "
          f"{min(loads):.2f}-{max(loads):.2f}")
    print(f"{'':>2} {'case':<46} {'seconds':>8} {'cpu s':>7} {'beside':>6} {'x':>5} {'over':>9}")
    row_of = {name: row for row, (name, *_) in enumerate(commands, 1)}
    for name, _, _, beside in commands:
        seconds, cpu = best[name]
        peer = best[beside][0]
        print(f"{row_of[name]:>2} {name:<46} {seconds:>8.3f} {cpu:>7.3f} {row_of[beside]:>6} {seconds / peer:>5.1f} "
              f"{seconds - peer:>+8.3f}s")
    server_peer = best[servers[0][0]][0]
    for row, (name, _, _) in enumerate(servers, len(commands) + 1):
        seconds, cpu = best[name]
        print(f"{row:>2} {name:<46} {seconds:>8.3f} {cpu:>7.3f} {len(commands) + 1:>6} {seconds / server_peer:>5.1f} "
              f"{seconds - server_peer:>+8.3f}s")


if __name__ == "__main__":
    main()
