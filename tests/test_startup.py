"""Start-up loads no heavy library: `smarketing --help`, `smarketing playbook show` and the web server's start
(settings, URL conf, WSGI app) import only the frameworks; scikit-learn, pandas, ibis and the rest load when a
command or page needs them, and the two commands do not load NumPy either."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("sklearn", "scipy", "pandas", "numba", "duckdb", "ibis", "pyarrow", "torch", "sentence_transformers",
         "pyspark")
# Loaded by the web server's URL conf (its views compute figures), but not by a command that needs none.
CLI_HEAVY = (*HEAVY, "numpy")

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


def _run(code: str, data_dir: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", code], env=_env(data_dir), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()


def _heavy_loaded(code: str, data_dir: Path) -> list[str]:
    return json.loads(_run(code, data_dir)[-1])


def test_cli_help_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a fresh interpreter, when `smarketing --help` runs, then no heavy library was imported.
    assert _heavy_loaded(CLI_HELP, tmp_path) == []


def test_playbook_show_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a migrated database (the shipped playbook as v1), when `smarketing playbook show` runs in a fresh
    # interpreter, then it printed the playbook and no heavy library was imported.
    _run("from smarketing.cli import main\nmain(['migrate'])", tmp_path)
    lines = _run(PLAYBOOK_SHOW, tmp_path)
    assert any("playbook v1" in line for line in lines), lines[:5]
    assert json.loads(lines[-1]) == []


def test_web_start_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a fresh interpreter, when Django starts and loads the URL conf and the WSGI handler,
    # then no heavy library was imported.
    assert [m for m in _heavy_loaded(WEB_START, tmp_path) if m in HEAVY] == []
