"""Limit/offset paging shared by the API, the web pages and the selectors, within documented bounds.

`limit` is 1–MAX_LIMIT and `offset` 0–MAX_OFFSET everywhere: a value outside is the caller's error (422 in the API,
400 on a page), never clamped silently and never passed on to the database, where 2^70 overflows the column type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from smarketing.core.errors import BadParameter

T = TypeVar("T")
MAX_LIMIT = 500
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def paging_check(*, limit: int, offset: int, max_limit: int = MAX_LIMIT) -> None:
    """Refuse a limit or offset outside the bounds, naming the parameter."""
    if not 1 <= limit <= max_limit:
        raise BadParameter(f"limit must be a whole number from 1 to {max_limit}, not {limit}", field="limit")
    if not 0 <= offset <= MAX_OFFSET:
        raise BadParameter(f"offset must be a whole number from 0 to {MAX_OFFSET:,}, not {offset}", field="offset")


def offset_from_query(raw: str | None) -> int:
    """The `?offset=` of a page: absent or empty is 0; anything but a whole number in bounds is a 400 naming it."""
    if raw is None or raw.strip() == "":
        return 0
    text = raw.strip()
    if not text.isdigit() or len(text) > len(str(MAX_OFFSET)) or int(text) > MAX_OFFSET:
        raise BadParameter(f"offset must be a whole number from 0 to {MAX_OFFSET:,}, not {raw[:40]!r}",
                           field="offset")
    return int(text)


def paginate(queryset: Any, *, limit: int = 50, offset: int = 0) -> Page[Any]:
    paging_check(limit=limit, offset=offset)
    return Page(items=list(queryset[offset : offset + limit]), total=queryset.count(), limit=limit, offset=offset)
