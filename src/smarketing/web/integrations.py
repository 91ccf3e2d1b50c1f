"""The seams to other apps' code: use the owning app's service or query kind when it exists.

Pages ask here first; while a piece is not installed yet these return None (the page shows an empty
state naming what is missing) or fall back to the web app's read-only helpers in `web.data`.
"""

from __future__ import annotations

import logging
from importlib import import_module
from typing import Any

from smarketing.core.errors import DomainError

log = logging.getLogger(__name__)


def optional(module: str, name: str) -> Any:
    """`module.name` if that module exists and defines it, else None."""
    try:
        mod = import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            return None
        log.warning("optional %s.%s unavailable: %s", module, name, exc)
        return None
    except ImportError as exc:  # another app's module half-way through a change must not break the pages
        log.warning("optional %s.%s unavailable: %s", module, name, exc)
        return None
    return getattr(mod, name, None)


def has_query(kind: str) -> bool:
    """Whether the analytics registry has this query kind (False while analytics is not installed)."""
    try:
        from smarketing.analytics.registry import REGISTRY, _load_kinds

        _load_kinds()
    except ImportError as exc:
        log.warning("analytics registry unavailable: %s", exc)
        return False
    return kind in REGISTRY


def run_query(kind: str, data: dict[str, Any]) -> Any:
    """Run an analytics query kind on the configured engine; None when the kind is not registered yet."""
    if not has_query(kind):
        return None
    from smarketing.analytics.registry import parse_spec
    from smarketing.analytics.registry import run_query as run

    return run(parse_spec(kind, data))


def safe(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, str]:
    """Call a read that may fail on partial data; returns (value, error message for the page)."""
    from smarketing.web.analytics_adapter import Pending

    try:
        return fn(*args, **kwargs), ""
    except Pending:
        raise
    except DomainError as exc:
        return None, exc.message
    except Exception as exc:  # noqa: BLE001 - one broken panel must not take the whole page down
        log.exception("web panel failed: %s", getattr(fn, "__name__", fn))
        return None, f"this panel could not be computed ({type(exc).__name__}); the other panels are unaffected"
