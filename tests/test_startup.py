"""Start-up loads no heavy library: `smarketing --help` and the web server's start (settings, URL conf, WSGI app)
import only the frameworks; scikit-learn, pandas, ibis and the rest load when a command or page needs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HEAVY = ("sklearn", "scipy", "pandas", "numba", "duckdb", "ibis", "pyarrow", "torch", "sentence_transformers",
         "pyspark")

REPORT = f"""
import json, sys
print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))
"""

CLI_HELP = """
from smarketing.cli import main
try:
    main(["--help"])
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


def _heavy_loaded(code: str, data_dir: Path) -> list[str]:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "smarketing.settings.test", "SMARKETING_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_cli_help_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a fresh interpreter, when `smarketing --help` runs, then no heavy library was imported.
    assert _heavy_loaded(CLI_HELP, tmp_path) == []


def test_web_start_imports_no_heavy_library(tmp_path: Path) -> None:
    # Given a fresh interpreter, when Django starts and loads the URL conf and the WSGI handler,
    # then no heavy library was imported.
    assert _heavy_loaded(WEB_START, tmp_path) == []
