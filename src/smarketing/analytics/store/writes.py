"""Every write to a table the history store mirrors queues the store's debounced catch-up (`tasks.store_catch_up_soon`)
once its transaction commits, whatever made it: a service's save, an import's bulk insert, a queryset's update, the
admin. The writes are noticed on the database connection (an execute wrapper, installed on each connection Django
opens), so no write path can forget to say it wrote: a sales decision, a stage change or an SLA event reaches the
store (and the figures refreshed after a catch-up, `CAUGHT_UP_HOOKS`) as a recorded touch does.

Statements that change no mirrored table (the task queue's own rows, the figure cache, sessions) queue nothing; a
transaction queues its catch-up once, however many rows it writes.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

# The table an INSERT, UPDATE or DELETE changes, as Django's backends write them (quoted with "…" or `…`).
_WRITE = re.compile(r'\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+[`"\[]?(\w+)', re.IGNORECASE)


def table_written(sql: str) -> str | None:
    """The table an INSERT, UPDATE or DELETE statement changes; None for any other statement."""
    found = _WRITE.match(sql)
    return found.group(1).lower() if found else None


@functools.cache
def mirrored_tables() -> frozenset[str]:
    """The database tables of the models the store mirrors (`layout.TABLES`)."""
    from django.apps import apps

    from smarketing.analytics.store.layout import TABLES

    return frozenset(apps.get_model(t.model)._meta.db_table.lower() for t in TABLES.values())


def _noticing(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
    result = execute(sql, params, many, context)
    if isinstance(sql, str) and table_written(sql) in mirrored_tables():
        _catch_up_on_commit(context["connection"])
    return result


def _catch_up_on_commit(connection: Any) -> None:
    from django.conf import settings

    from smarketing.analytics.store.tasks import store_catch_up_soon

    if settings.SMARKETING.get("ANALYTICS_STORE", "lake") != "lake":
        return  # the analytics read the live tables: there is no store to keep up
    if connection.in_atomic_block and any(entry[1] is store_catch_up_soon for entry in connection.run_on_commit):
        return  # this transaction queues it already
    # Robust: a catch-up that cannot be queued (say, a data migration writing before the task queue's table exists)
    # is logged and leaves the write alone; queries catch the store up for themselves anyway.
    connection.on_commit(store_catch_up_soon, robust=True)


def notice_writes(sender: Any, connection: Any, **kwargs: Any) -> None:
    """Django's `connection_created` receiver: watch the new connection's writes (registered in analytics' ready)."""
    if _noticing not in connection.execute_wrappers:
        connection.execute_wrappers.append(_noticing)
