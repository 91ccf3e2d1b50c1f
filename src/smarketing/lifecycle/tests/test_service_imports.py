"""The lifecycle's service modules import on their own and never import each other in a circle.

A cycle is the sign of a service that acts on another's event inline; the house way out is to record the event
and act on it in a task on commit (`services_sla_clocks` records a breach, `services_sla_breach` acts on it).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import smarketing.lifecycle

PACKAGE = "smarketing.lifecycle"
LIFECYCLE = Path(smarketing.lifecycle.__file__).parent
SERVICE_MODULES = sorted(f"{PACKAGE}.{p.stem}" for p in LIFECYCLE.glob("services*.py"))


def imported_modules(module: str) -> set[str]:
    """Every module a module imports, at the top or inside a function (a deferred import is still a dependency)."""
    tree = ast.parse((LIFECYCLE / f"{module.rsplit('.', 1)[1]}.py").read_text())
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            # `from smarketing.lifecycle import services_handoff` imports a module, not a name
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def service_graph() -> dict[str, set[str]]:
    return {m: imported_modules(m) & set(SERVICE_MODULES) - {m} for m in SERVICE_MODULES}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of the graph as a path that ends where it started, or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state and (cycle := visit(nxt)) is not None:
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for start in sorted(graph):
        if start not in state and (cycle := visit(start)) is not None:
            return cycle
    return None


def test_the_service_modules_are_found():
    assert {f"{PACKAGE}.services", f"{PACKAGE}.services_handoff", f"{PACKAGE}.services_sla_clocks",
            f"{PACKAGE}.services_sla_breach", f"{PACKAGE}.services_sla_check"} <= set(SERVICE_MODULES)


def test_no_import_cycle_between_lifecycle_service_modules():
    assert find_cycle(service_graph()) is None, " -> ".join(find_cycle(service_graph()) or [])


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": set()}

    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


@pytest.mark.parametrize("module", SERVICE_MODULES)
def test_each_service_module_imports_in_a_fresh_interpreter(module):
    code = f"import django; django.setup(); import {module}"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**_env(), "DJANGO_SETTINGS_MODULE": "smarketing.settings.test"})

    assert run.returncode == 0, run.stderr[-2000:]


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)
