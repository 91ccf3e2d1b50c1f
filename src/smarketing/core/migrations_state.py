"""Which migrations on disk the database has not applied, read without loading them: `serve` runs `migrate` only
when some are missing.

Why: `migrate` imports every migration module, renders the models' history and sends post-migrate signals (about a
tenth of a second and more as migrations accumulate) even when there is nothing to apply; listing the migration
files and reading the django_migrations table takes a few milliseconds.
"""

from __future__ import annotations

import pkgutil
from collections.abc import Set
from importlib.util import find_spec

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

Migration = tuple[str, str]  # (app label, migration name), as django_migrations records them


def migrations_on_disk() -> frozenset[Migration]:
    """Every installed app's migrations, by the names of their files (as Django's migration loader finds them)."""
    found: set[Migration] = set()
    for app in apps.get_app_configs():
        module_name, _explicit = MigrationLoader.migrations_module(app.label)
        if module_name is None:
            continue
        try:
            spec = find_spec(module_name)
        except ModuleNotFoundError:  # the app's package has no such subpackage
            continue
        if spec is None or not spec.submodule_search_locations:
            continue
        found.update((app.label, name) for _, name, is_pkg in pkgutil.iter_modules(spec.submodule_search_locations)
                     if not is_pkg and name[0] not in "_~")
    return frozenset(found)


def migrations_recorded(*, using: str = DEFAULT_DB_ALIAS) -> frozenset[Migration] | None:
    """The migrations the database records as applied; None when it has no django_migrations table yet."""
    connection = connections[using]
    table = MigrationRecorder.Migration._meta.db_table
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return None
        cursor.execute(f"SELECT app, name FROM {connection.ops.quote_name(table)}")
        return frozenset((str(app), str(name)) for app, name in cursor.fetchall())


def migrations_unapplied(*, on_disk: Set[Migration], recorded: Set[Migration] | None) -> frozenset[Migration]:
    """The migrations on disk that the database has not recorded (all of them when it records none)."""
    return frozenset(on_disk) - (recorded or frozenset())


def migrations_pending(*, using: str = DEFAULT_DB_ALIAS) -> bool:
    """Whether `migrate` has anything to apply to the database (a fresh database always has)."""
    recorded = migrations_recorded(using=using)
    return recorded is None or bool(migrations_unapplied(on_disk=migrations_on_disk(), recorded=recorded))
