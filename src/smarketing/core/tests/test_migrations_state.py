"""`serve` migrates only when the database lacks a migration on disk: the files are listed as Django's loader finds
them and compared with the django_migrations table, without loading any migration."""

from __future__ import annotations

import os
import secrets
import sqlite3
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader

from smarketing.core.migrations_state import (
    migrations_on_disk,
    migrations_pending,
    migrations_recorded,
    migrations_unapplied,
)
from smarketing.testing.servers import launch_server, stop_process


def test_unapplied_are_the_migrations_on_disk_the_database_has_not_recorded():
    on_disk = {("crm", "0001_initial"), ("crm", "0002_more"), ("team", "0001_initial")}

    assert migrations_unapplied(on_disk=on_disk, recorded={("crm", "0001_initial"), ("team", "0001_initial"),
                                                           ("gone", "0001_initial")}) == {("crm", "0002_more")}
    assert migrations_unapplied(on_disk=on_disk, recorded=on_disk) == frozenset()
    # a database without the django_migrations table has applied none
    assert migrations_unapplied(on_disk=on_disk, recorded=None) == on_disk


def test_the_migrations_on_disk_are_those_djangos_loader_finds():
    loader = MigrationLoader(None, ignore_no_migrations=True)

    assert migrations_on_disk() == set(loader.disk_migrations)


@pytest.mark.django_db
def test_a_migrated_database_has_nothing_pending():
    assert migrations_recorded() >= migrations_on_disk()  # type: ignore[operator]
    assert not migrations_pending()


@pytest.mark.django_db
def test_a_database_missing_one_migration_has_it_pending():
    # Given a migrated database that no longer records one migration
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = %s AND name = %s", ["crm", "0001_initial"])
    # then that one is unapplied and `migrate` has work to do
    assert migrations_unapplied(on_disk=migrations_on_disk(), recorded=migrations_recorded()) == {
        ("crm", "0001_initial")}
    assert migrations_pending()


def _serve_until_login_answers(env: dict[str, str], log: Path) -> None:
    # Migrating a new database before the first answer takes a while on a loaded machine: 120 s, not 90.
    stop_process(launch_server(env, log, seconds=120).proc)


def _recorded(db: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(db) as conn:
        return set(conn.execute("SELECT app, name FROM django_migrations"))


def test_serve_migrates_a_new_database_and_one_missing_a_migration(tmp_path):
    # Given an empty data folder and production secrets
    db = tmp_path / "db.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SMARKETING_") and k != "DJANGO_SETTINGS_MODULE"}
    env.update(SMARKETING_DATA_DIR=str(tmp_path), DATABASE_URL=f"sqlite:///{db}", SMARKETING_COMMAND_SERVICE="off",
               SMARKETING_SECRET_KEY=secrets.token_urlsafe(50), SMARKETING_WEBHOOK_SECRET=secrets.token_urlsafe(50),
               SMARKETING_ALLOWED_HOSTS="127.0.0.1")
    # when the server starts, then it created the schema before answering: every migration on disk is applied
    _serve_until_login_answers(env, tmp_path / "serve.log")
    applied = _recorded(db)
    assert applied >= migrations_on_disk()
    # and given the database then misses the sessions app's migration (undone as `migrate` would undo it) ...
    latest = max(name for app, name in applied if app == "sessions")
    with sqlite3.connect(db) as conn:
        conn.execute("DELETE FROM django_migrations WHERE app = 'sessions' AND name = ?", [latest])
        conn.execute("DROP TABLE django_session")
    # when the server starts again, then it applied that migration again (its table is back)
    _serve_until_login_answers(env, tmp_path / "serve.log")
    assert _recorded(db) == applied
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM django_session").fetchone() == (0,)
