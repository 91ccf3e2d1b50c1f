"""One registry of analytics query kinds: spec → expression → engine → typed result.

A query kind is a frozen spec type (`<Kind>Query`), a typed result (`<Kind>Result`) and a runner
`run(engine, spec) -> result`. The API, the web pages and the CLI all go through `run_query`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from smarketing.core.errors import ValidationFailed


class QuerySpec(BaseModel):
    """Base of every `<Kind>Query`: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class QueryResult(BaseModel):
    """Base of every `<Kind>Result`: plain data, serialisable to JSON."""

    model_config = ConfigDict(frozen=True)

    # Only a query's own result fills it (run_query); it is left out of the JSON when empty, so rows never show it.
    warnings: list[str] = Field(default_factory=list, exclude_if=lambda v: not v,
                                description="Stored rows skipped because no engine can represent them (a date "
                                            "outside 1900–2200, a number that is not finite); absent when none")
    # Only a query's own result fills it (run_query), when the engine read the history store. (Not `as_of`:
    # some results already use that name for the moment their figures are computed at.)
    data_as_of: datetime | None = Field(default=None, exclude_if=lambda v: v is None,
                                        description="The data read was complete as of this moment (UTC): when the "
                                                    "history store was last caught up with the database; absent "
                                                    "when the query read the tables live")


S = TypeVar("S", bound=QuerySpec)
R = TypeVar("R", bound=QueryResult)


@dataclass(frozen=True)
class QueryKind:
    name: str
    spec: type[QuerySpec]
    result: type[QueryResult]
    run: Callable[[Any, Any], QueryResult]
    summary: str


REGISTRY: dict[str, QueryKind] = {}


def query_kind(name: str, *, spec: type[S], result: type[R]) -> Callable[[Callable[[Any, S], R]], Callable[[Any, S], R]]:
    """Register `fn(engine, spec) -> result` as query kind `name`."""

    def decorate(fn: Callable[[Any, S], R]) -> Callable[[Any, S], R]:
        summary = (fn.__doc__ or "").strip().splitlines()[0] if fn.__doc__ else name
        REGISTRY[name] = QueryKind(name, spec, result, fn, summary)
        return fn

    return decorate


def _load_kinds() -> None:
    # Importing the query modules registers their kinds. They load on the first query, not at start-up (they pull
    # in Ibis and the kernels); a broken module fails here, loudly.
    import smarketing.analytics.metrics.query
    import smarketing.analytics.queries.attribution
    import smarketing.analytics.queries.attribution_opportunity
    import smarketing.analytics.queries.funnel
    import smarketing.analytics.queries.goals
    import smarketing.analytics.queries.journeys
    import smarketing.analytics.queries.roi  # noqa: F401


def all_kinds() -> list[QueryKind]:
    """Every registered query kind (their modules loaded), by name: the same order whichever query a process ran
    first (registration follows the order modules happen to be imported in)."""
    _load_kinds()
    return sorted(REGISTRY.values(), key=lambda k: k.name)


def get_kind(name: str) -> QueryKind:
    if name not in REGISTRY:  # a caller that imported its query module (the CLI's commands do) loads no other
        _load_kinds()
    if name not in REGISTRY:
        raise ValidationFailed(f"unknown query kind {name!r}; known: {sorted(REGISTRY)}", field="kind")
    return REGISTRY[name]


def kind_for_spec(spec: QuerySpec) -> QueryKind:
    for loaded in (False, True):
        if loaded:
            _load_kinds()
        for kind in REGISTRY.values():
            if type(spec) is kind.spec:
                return kind
    raise ValidationFailed(f"{type(spec).__name__} is not a registered query spec", field="kind")


def run_query(spec: QuerySpec, *, engine: Any = None) -> QueryResult:
    """Run a spec on `engine`, or on the configured engine opened (and closed) for this query."""
    from smarketing.analytics.engine import open_engine

    kind = kind_for_spec(spec)
    if engine is not None:
        return _with_warnings(kind.run(engine, spec), engine)
    with open_engine() as eng:
        return _with_warnings(kind.run(eng, spec), eng)


def _with_warnings(result: QueryResult, engine: Any) -> QueryResult:
    update: dict[str, Any] = {}
    warnings = list(getattr(engine, "warnings", []))
    if warnings:
        update["warnings"] = warnings
    as_of = getattr(engine, "as_of", None)
    if as_of is not None:
        update["data_as_of"] = as_of
    return result.model_copy(update=update) if update else result


def parse_spec(kind: str, data: dict[str, Any]) -> QuerySpec:
    """Validate raw input into the kind's spec, turning pydantic errors into a DomainError naming the field."""
    from pydantic import ValidationError

    spec_type = get_kind(kind).spec
    try:
        return spec_type.model_validate(data)
    except ValidationError as exc:
        details = [{"field": ".".join(str(p) for p in e["loc"]) or "(spec)", "message": e["msg"]} for e in exc.errors()]
        message = "; ".join(f"{d['field']}: {d['message']}" for d in details)
        raise ValidationFailed(message, field=details[0]["field"], record=f"query:{kind}", details=details) from None
