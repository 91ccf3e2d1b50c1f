"""Start-up loads no heavy library: `smarketing --help`, `smarketing playbook show` and the web server's start
(settings, URL conf, WSGI app) import only the frameworks; scikit-learn, pandas, ibis and the rest load when a
command or page needs them, and the two commands do not load NumPy or django-ninja either. `smarketing --help` loads no Django
and each command's help sets no Django up, from an index of commands that matches what the modules register;
a group's or a command's help loads no pydantic either.
Django's set-up loads no app's services, admin or pydantic, and the server answers its first page without building
the API (django-ninja), which the first request under /api/ builds."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
from importlib import import_module
from pathlib import Path

import typer
from typer.main import get_group

from smarketing.commands import COMMAND_MODULES, COMMANDS, module_commands

HEAVY = ("sklearn", "scipy", "pandas", "numba", "duckdb", "ibis", "pyarrow", "torch", "sentence_transformers",
         "pyspark")
# Loaded by the web server's URL conf (its views compute figures; the API is django-ninja's), but not by a
# command that needs none.
CLI_HEAVY = (*HEAVY, "numpy", "ninja")

REPORT = f"""
import json, sys
print(json.dumps(sorted(m for m in {CLI_HEAVY!r} if m in sys.modules)))
"""

CLI_HELP = """
from smarketing.cli import main
try:
    main(["--help"])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
""" + REPORT

PLAYBOOK_SHOW = """
from smarketing.cli import main
try:
    main(["playbook", "show"])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
""" + REPORT

WEB_START = """
import django
django.setup()
import smarketing.urls
from django.core.handlers.wsgi import WSGIHandler
WSGIHandler()
""" + REPORT


def _env(data_dir: Path) -> dict[str, str]:
    # The data dir's own SQLite database, whatever DATABASE_URL the suite runs with (a command here may migrate).
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return {**env, "DJANGO_SETTINGS_MODULE": "smarketing.settings.test", "SMARKETING_DATA_DIR": str(data_dir)}


def _run(code: str, data_dir: Path, columns: int | None = None) -> list[str]:
    env = _env(data_dir) if columns is None else {**_env(data_dir), "COLUMNS": str(columns)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def _heavy_loaded(code: str, data_dir: Path) -> list[str]:
    return json.loads(_run(code, data_dir)[-1])


def test_cli_help_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a fresh interpreter, when `smarketing --help` runs, then no heavy library was imported.
    assert _heavy_loaded(CLI_HELP, tmp_path) == []


def test_cli_help_loads_no_django_and_lists_every_command(tmp_path: Path) -> None:
    # Given a fresh interpreter, when `smarketing --help` runs, then Django was not even imported and the listing
    # names every command with the first line of its help.
    code = """
import sys
from smarketing.cli import main
try:
    main(["--help"])
except SystemExit as exc:
    assert exc.code in (0, None), exc.code
print("django loaded:", "django" in sys.modules)
"""
    out = "\n".join(_run(code, tmp_path, columns=250))
    assert out.endswith("django loaded: False")
    for name, (_, help_text) in COMMANDS.items():
        assert f" {name} " in out and help_text.splitlines()[0] in out, name


def test_each_command_help_sets_no_django_up(tmp_path: Path) -> None:
    # Given a fresh interpreter, when `smarketing NAME --help` runs for every command (so every command module
    # is imported), then each printed its own help and Django was never set up.
    code = f"""
import sys
from django.apps import apps
from smarketing.cli import main
for name in {list(COMMANDS)!r}:
    try:
        main([name, "--help"])
    except SystemExit as exc:
        assert exc.code in (0, None), (name, exc.code)
print("django set up:", apps.ready)
"""
    lines = _run(code, tmp_path, columns=250)
    assert lines[-1] == "django set up: False"
    usages = [line.strip() for line in lines if line.strip().startswith("Usage: smarketing ")]
    assert [usage.split()[2] for usage in usages] == list(COMMANDS)


def test_a_group_or_command_help_loads_no_pydantic(tmp_path: Path) -> None:
    # Given a fresh interpreter, when `smarketing playbook --help` and `smarketing playbook show --help` run, then
    # each printed its help and pydantic was not imported (Typer coerces an unset `--help` through a pydantic
    # TypeAdapter unless it reads as False: smarketing.cli._help_flag).
    code = """
import sys
from smarketing.cli import main
for argv in (["playbook", "--help"], ["playbook", "show", "--help"]):
    try:
        main(argv)
    except SystemExit as exc:
        assert exc.code in (0, None), (argv, exc.code)
print("pydantic loaded:", "pydantic" in sys.modules)
"""
    lines = _run(code, tmp_path, columns=250)
    assert lines[-1] == "pydantic loaded: False"
    usages = [line.strip() for line in lines if line.strip().startswith("Usage: smarketing ")]
    assert [usage.split()[2:4] for usage in usages] == [["playbook", "[OPTIONS]"], ["playbook", "show"]]
    assert any("--version" in line for line in lines)


def test_command_index_matches_the_registered_commands() -> None:
    # Given every command module registered into one app, as before commands loaded lazily, when its commands are
    # listed, then the index names the same commands, each with its module and the first paragraph of its help.
    app = typer.Typer()
    for module in COMMAND_MODULES:
        import_module(module).register(app)
    registered = get_group(app).commands
    module_of = {name: module for module in COMMAND_MODULES for name in module_commands(module).commands}
    assert {name: (module_of[name], inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0])
            for name, command in registered.items()} == COMMANDS


def test_playbook_show_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a migrated database (the shipped playbook as v1), when `smarketing playbook show` runs in a fresh
    # interpreter, then it printed the playbook and no heavy library was imported.
    _run("from smarketing.cli import main\nmain(['migrate'])", tmp_path)
    lines = _run(PLAYBOOK_SHOW, tmp_path)
    assert any("playbook v1" in line for line in lines), lines[:5]
    assert json.loads(lines[-1]) == []


def test_a_command_sets_django_up_with_its_objects_frozen_out_of_the_collector(tmp_path: Path) -> None:
    # Given a fresh interpreter, when a command sets Django up, then the collector is on again afterwards and the
    # set-up's objects are frozen (skipped by every later collection, the interpreter's last ones at exit too).
    code = """
import gc
from smarketing.cli import setup
setup()
print(gc.isenabled(), gc.get_freeze_count() > 50_000)
"""
    assert _run(code, tmp_path)[-1] == "True True"


def test_a_command_leaves_the_sqlite_database_checkpointed(tmp_path: Path) -> None:
    # Given a migrated SQLite database (in WAL mode), when `smarketing playbook show` and a command that writes run
    # as the user runs them, then each closed its connection at the end: no -wal or -shm file is left beside the
    # database (its frozen connection is closed by the command, not by the interpreter's last collection).
    _run("from smarketing.cli import main\nmain(['migrate'])", tmp_path)
    env = _env(tmp_path)
    for argv in (["playbook", "show"], ["createuser", "walcheck", "--role", "viewer", "--password", "Wal-check-9137"]):
        done = subprocess.run([sys.executable, "-m", "smarketing.cli", *argv], env=env, capture_output=True,
                              text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        assert sorted(p.name for p in tmp_path.glob("*.db*")) == ["smarketing.db"], argv


def test_web_start_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a fresh interpreter, when Django starts and loads the URL conf and the WSGI handler,
    # then no heavy library was imported.
    assert [m for m in _heavy_loaded(WEB_START, tmp_path) if m in HEAVY] == []


def test_django_set_up_loads_no_app_services_admin_or_pydantic(tmp_path: Path) -> None:
    # Given a fresh interpreter, when Django is set up (what every command does before its own code), then no
    # app's services or admin module was imported (apps register hooks through their light hooks modules and the
    # admin's modules load with the URL conf), nor pydantic, YAML or django-ninja.
    code = """
import json, sys
import django
django.setup()
print(json.dumps(sorted(m for m in sys.modules if m.startswith("smarketing.") and m.rsplit(".", 1)[-1] in
                        ("services", "admin", "schema", "selectors") or m in ("pydantic", "yaml", "ninja"))))
"""
    assert json.loads(_run(code, tmp_path)[-1]) == []


def test_web_server_answers_its_first_page_without_building_the_api(tmp_path: Path) -> None:
    # Given a fresh interpreter serving the app, when the login page is asked for first, then it answered without
    # django-ninja loaded (the API is built on first use); and a request under /api/ after it builds the API, whose
    # docs, schema and JSON errors answer as ever.
    _run("from smarketing.cli import main\nmain(['migrate'])", tmp_path)
    code = """
import json, sys
import django
django.setup()
from django.test import Client
from smarketing.api_urls import api_built
client = Client()
page = client.get("/login/")
print(json.dumps({"page": page.status_code, "ninja": "ninja" in sys.modules, "built": api_built()}))
me = client.get("/api/team/me")
schema = client.get("/api/openapi.json")
print(json.dumps({"me": [me.status_code, me.json()["code"]], "docs": client.get("/api/docs").status_code,
                  "schema": [schema.status_code, schema.json()["info"]["title"]], "built": api_built()}))
"""
    first, then = (json.loads(line) for line in _run(code, tmp_path)[-2:])
    assert first == {"page": 200, "ninja": False, "built": False}
    assert then == {"me": [401, "unauthenticated"], "docs": 200, "schema": [200, "smarketing API"], "built": True}


def test_web_server_answers_its_first_page_without_importing_the_other_pages_views(tmp_path: Path) -> None:
    # Given a fresh interpreter serving the app, when the login page is asked for first, then no other page's view
    # module was imported (the URL conf names them by path: web.lazy_views); and once the login page's preload has
    # run, every page's view module is imported, so the first page after logging in does not import its own.
    _run("from smarketing.cli import main\nmain(['migrate'])", tmp_path)
    code = """
import json, sys
import django
django.setup()
from django.conf import settings
from django.test import Client
from smarketing.web.data import warm

settings.SMARKETING_WEB_WARM = False  # the preload runs below, not on a thread beside the first request

def views():
    return sorted(m.rsplit(".", 1)[-1] for m in sys.modules if m.startswith("smarketing.web.views."))

page = Client().get("/login/")
print(json.dumps({"page": page.status_code, "views": views()}))
warm.preload()
print(json.dumps(views()))
"""
    first, then = (json.loads(line) for line in _run(code, tmp_path)[-2:])
    assert first == {"page": 200, "views": ["auth"]}
    page_modules = sorted(p.stem for p in (Path(__file__).resolve().parents[1] / "src" / "smarketing" / "web" / "views")
                          .glob("*.py") if p.stem != "__init__")
    assert then == page_modules
