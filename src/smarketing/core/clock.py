"""The one source of 'now', so tests and the simulator can pin time."""

from __future__ import annotations

from datetime import UTC, datetime

_frozen: datetime | None = None


def now() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin now() to `at` (timezone-aware) or release it with None."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("clock.freeze needs a timezone-aware datetime")
    _frozen = at
