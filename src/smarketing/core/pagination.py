"""Limit/offset paging shared by the API and selectors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")
MAX_LIMIT = 500


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


def paginate(queryset: Any, *, limit: int = 50, offset: int = 0) -> Page[Any]:
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    return Page(items=list(queryset[offset : offset + limit]), total=queryset.count(), limit=limit, offset=offset)
