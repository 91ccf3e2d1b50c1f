"""Production refuses insecure defaults: `smarketing serve` and the WSGI app will not start with debug off and a
secret missing, and `check --deploy` is clean behind the documented production settings."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARKETING_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update({"SMARKETING_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"})
    env.update(extra)
    return env


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize(("given", "missing"), [
    ({}, "SMARKETING_SECRET_KEY and SMARKETING_WEBHOOK_SECRET are not set"),
    ({"SMARKETING_SECRET_KEY": "k" * 50}, "SMARKETING_WEBHOOK_SECRET is not set"),
    ({"SMARKETING_WEBHOOK_SECRET": "w" * 30}, "SMARKETING_SECRET_KEY is not set"),
])
def test_serve_refuses_to_start_in_production_without_its_secrets(tmp_path, given, missing):
    result = _run([str(BIN / "smarketing"), "serve", "--port", "1"], _env(tmp_path, **given))

    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and missing in lines[0], result.stderr
    assert "Traceback" not in result.stderr


def test_the_wsgi_app_refuses_to_load_in_production_without_its_secrets(tmp_path):
    result = _run([sys.executable, "-c", "import smarketing.wsgi"], _env(tmp_path))

    assert result.returncode != 0
    assert "SMARKETING_SECRET_KEY and SMARKETING_WEBHOOK_SECRET are not set" in result.stderr


def test_the_wsgi_app_loads_with_its_secrets(tmp_path):
    env = _env(tmp_path, SMARKETING_SECRET_KEY=secrets.token_urlsafe(50), SMARKETING_WEBHOOK_SECRET="w" * 30)

    result = _run([sys.executable, "-c", "import smarketing.wsgi"], env)

    assert result.returncode == 0, result.stderr


def test_debug_mode_serves_on_the_generated_local_secrets(tmp_path):
    env = _env(tmp_path, SMARKETING_DEBUG="true")

    result = _run([sys.executable, "-c", "import smarketing.wsgi"], env)

    assert result.returncode == 0, result.stderr
    assert (tmp_path / ".secret_key").stat().st_mode & 0o777 == 0o600


def test_check_deploy_is_clean_behind_the_production_settings(tmp_path):
    env = _env(tmp_path, SMARKETING_SECRET_KEY=secrets.token_urlsafe(50), SMARKETING_WEBHOOK_SECRET="w" * 30,
               SMARKETING_HTTPS="true", DJANGO_SETTINGS_MODULE="smarketing.settings.base")

    result = _run([sys.executable, "-m", "django", "check", "--deploy", "--fail-level", "WARNING"], env)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_names_what_the_local_defaults_leave_open(tmp_path):
    env = _env(tmp_path, DJANGO_SETTINGS_MODULE="smarketing.settings.base")

    result = _run([sys.executable, "-m", "django", "check", "--deploy"], env)

    assert "SECURE_HSTS_SECONDS" in result.stderr + result.stdout
