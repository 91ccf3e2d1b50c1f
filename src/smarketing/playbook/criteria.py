"""Pure evaluation of playbook criteria over plain facts (no ORM).

Facts are a flat mapping with namespaced keys: "contact.title", "account.industry", "score.total",
"contact.attributes.country". Scoring, routing and stage entry all test criteria through here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from smarketing.playbook.schema import Criterion

MISSING = object()


def _num(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def holds(criterion: Criterion, facts: Mapping[str, Any]) -> bool:
    """Whether one criterion holds; a missing or empty fact never satisfies a comparison."""
    actual = facts.get(criterion.field, MISSING)
    op, expected = criterion.op, criterion.value
    if op == "exists":
        return actual not in (MISSING, None, "")
    if actual is MISSING or actual is None:
        return op in ("!=", "not_in")
    if op in (">=", ">", "<=", "<"):
        a = _num(actual)
        if a is None:
            return False
        e = float(expected)
        return {">=": a >= e, ">": a > e, "<=": a <= e, "<": a < e}[op]
    if op == "==":
        return _norm(actual) == _norm(expected)
    if op == "!=":
        return _norm(actual) != _norm(expected)
    if op == "in":
        return _norm(actual) in {_norm(v) for v in expected}
    if op == "not_in":
        return _norm(actual) not in {_norm(v) for v in expected}
    if op == "contains":
        return str(expected).lower() in str(actual).lower()
    raise ValueError(f"unknown op {op!r}")


def all_hold(criteria: Iterable[Criterion], facts: Mapping[str, Any]) -> bool:
    """Whether every criterion holds (an empty list holds)."""
    return all(holds(c, facts) for c in criteria)


def _norm(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value
