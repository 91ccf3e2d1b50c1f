"""The period picker: reporting periods named in URLs (`2026`, `2026-Q4`, `2026-11`, `last-90d`,
`2026-10-01..2026-12-31`) are the metrics layer's `ReportingPeriod`; this module offers the choices and resolves
a page's scope (period, comparison with the previous period, filters) from the address or the session."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest

from smarketing.analytics.metrics import (
    CONTACT_FILTERS,
    ReportingPeriod,
    reporting_period,
    reporting_timezone,
)
from smarketing.core import clock
from smarketing.core.errors import DomainError

Period = ReportingPeriod


def page_timezone() -> str:
    """The reporting time zone (UTC while no playbook is active, so pages still open)."""
    try:
        return reporting_timezone()
    except DomainError:
        return "UTC"


def parse_period(key: str) -> ReportingPeriod:
    """A period from its URL key in the reporting time zone; a bad key raises ValidationFailed naming `period`."""
    return reporting_period(key, tz=page_timezone())


def current_quarter_key(now: datetime | None = None) -> str:
    now = now or clock.now()
    return f"{now.year}-Q{(now.month - 1) // 3 + 1}"


def period_choices(now: datetime | None = None) -> list[tuple[str, str]]:
    """The periods offered in the picker: this and the three previous quarters, this year and last year, rolling."""
    now = now or clock.now()
    out = []
    y, q = now.year, (now.month - 1) // 3 + 1
    for _ in range(4):
        out.append((f"{y}-Q{q}", f"Q{q} {y}"))
        q -= 1
        if q == 0:
            y, q = y - 1, 4
    for year in (now.year, now.year - 1):
        out.append((str(year), f"year {year}"))
    out += [("last-30d", "last 30 days"), ("last-90d", "last 90 days"), ("last-365d", "last 365 days")]
    return out


# ---- the scope a page shows: period, comparison and filters, kept in the address and in the session
SESSION_KEY = "smk_scope"
# The contact filters the measures take, and the funnel's cohort month.
SCOPE_FILTERS: tuple[str, ...] = (*CONTACT_FILTERS, "cohort_month")
SCOPE_KEYS = ("period", "from", "to", "compare", *SCOPE_FILTERS)
# The pages whose navigation links carry the scope (the others show no period).
SCOPED_PAGES = frozenset({"home", "funnel", "campaigns", "journeys", "feedback", "goals", "metrics"})


@dataclass(frozen=True)
class Scope:
    """What a page shows: its period, whether it compares with the previous one, the filters, and what was wrong
    with the address (`error` for the period key, `field_errors` for the custom range's `from` / `to`)."""

    period: ReportingPeriod
    compare: bool = False
    filters: dict[str, list[str]] = field(default_factory=dict)
    error: str = ""
    field_errors: dict[str, str] = field(default_factory=dict)
    range_input: dict[str, str] = field(default_factory=dict)  # what was typed in the range form, shown back
    remembered: bool = False  # read from the session (the address named none of it)

    @property
    def previous(self) -> ReportingPeriod | None:
        """The period a comparison reads (the metrics layer's), or None when there is none with a name."""
        from smarketing.analytics.metrics import previous_period

        try:
            return previous_period(self.period)
        except DomainError:
            return None

    def params(self, *, compare: bool | None = None) -> list[tuple[str, str]]:
        out = [("period", self.period.key)]
        if compare is not None:
            out.append(("compare", "prev" if compare else "off"))
        elif self.compare:
            out.append(("compare", "prev"))
        out += [(name, value) for name, values in self.filters.items() for value in values]
        return out

    @property
    def query(self) -> str:
        """`period=2026-Q4&compare=prev&source=webinar`: the scope as an address carries it."""
        return urlencode(self.params())

    @property
    def toggled_query(self) -> str:
        """The same scope with the comparison switched."""
        return urlencode(self.params(compare=not self.compare))


def _raw_from(data: Any) -> dict[str, Any]:
    """The scope keys of a QueryDict (or the session's stored dict)."""
    out: dict[str, Any] = {}
    for key in SCOPE_KEYS:
        values = data.getlist(key) if hasattr(data, "getlist") else data.get(key)
        if values in (None, "", []):
            continue
        out[key] = [v for v in values if v] if isinstance(values, list) else values
    return out


def _single(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key, "")
    return (value[-1] if value else "") if isinstance(value, list) else str(value)


def _default() -> ReportingPeriod:
    return parse_period(current_quarter_key())


def scope_resolve(raw: dict[str, Any], *, fallback: ReportingPeriod | None = None,
                  compare_default: bool = False) -> Scope:
    """The scope named by address keys: a custom range (`from`, `to`) or a `period` key, `compare=prev` (`off`, or
    absent: `compare_default`) and the filters. A period the address does not name, or a bad range, is `fallback`
    (else this quarter); a bad range names its field, a bad key says why."""
    from smarketing.web.forms import PeriodRangeForm

    filters = {name: sorted(set(values if isinstance(values, list) else [values]))
               for name in SCOPE_FILTERS if (values := raw.get(name))}
    compare = _single(raw, "compare") == "prev" if "compare" in raw else compare_default
    if "from" in raw or "to" in raw:
        typed = {"from": _single(raw, "from"), "to": _single(raw, "to")}
        form = PeriodRangeForm(typed)
        if form.is_valid():
            try:
                return Scope(parse_period(form.period_key), compare, filters, range_input=typed)
            except DomainError as exc:
                form.add_error("from", exc.message)
        errors = {name: " ".join(str(e) for e in errs) for name, errs in form.errors.items()}
        return Scope(fallback or _default(), compare, filters, error="The custom period was not applied.",
                     field_errors=errors, range_input=typed)
    key = _single(raw, "period")
    if key:
        try:
            return Scope(parse_period(key), compare, filters)
        except DomainError as exc:
            return Scope(fallback or _default(), compare, filters, error=exc.message)
    return Scope(fallback or _default(), compare, filters)


def _filters_valid(filters: dict[str, list[str]]) -> bool:
    """Whether the funnel's query would take these filters (a bad one is explained by the page, never remembered)."""
    from smarketing.analytics.queries.funnel import _check_filter

    try:
        for name, values in filters.items():
            _check_filter("contact", name, values)
    except DomainError:
        return False
    return True


def scope_from(request: HttpRequest) -> Scope:
    """The request's scope: from the address when it names any of it (and then remembered in the session), else
    the last one chosen in this session, else this quarter with no comparison and no filters."""
    cached: Scope | None = getattr(request, "_smk_scope", None)
    if cached is not None:
        return cached
    session = getattr(request, "session", None)
    stored = session.get(SESSION_KEY) if session is not None else None
    raw = _raw_from(request.GET)
    if raw:
        remembered = None
        if stored and stored.get("period"):
            try:
                remembered = parse_period(stored["period"])
            except DomainError:
                remembered = None
        scope = scope_resolve(raw, fallback=remembered, compare_default=bool(stored and stored.get("compare")))
        if session is not None and not scope.error and _filters_valid(scope.filters):
            chosen = {"period": scope.period.key, "compare": "prev" if scope.compare else "", "filters": scope.filters}
            if chosen != stored:  # an unchanged choice leaves the session unmodified: no session write per page
                session[SESSION_KEY] = chosen
    elif stored:
        scope = scope_resolve({"period": stored.get("period", ""), "compare": stored.get("compare", ""),
                               **stored.get("filters", {})})
        scope = Scope(scope.period, scope.compare, scope.filters, remembered=True)
    else:
        scope = scope_resolve({})
    request._smk_scope = scope  # type: ignore[attr-defined]
    return scope


def scope_query(request: HttpRequest) -> str:
    """The remembered scope as a query string for links (`?period=…`), or "" when nothing was chosen."""
    scope: Scope | None = getattr(request, "_smk_scope", None)
    if scope is not None:
        return "?" + scope.query
    session = getattr(request, "session", None)
    stored = session.get(SESSION_KEY) if session is not None else None
    if not stored or not stored.get("period"):
        return ""
    params = [("period", stored["period"])] + ([("compare", "prev")] if stored.get("compare") else [])
    params += [(name, v) for name, values in stored.get("filters", {}).items() for v in values]
    return "?" + urlencode(params)


def scope_forget(request: HttpRequest) -> None:
    """Forget the remembered scope (the "reset" link)."""
    session = getattr(request, "session", None)
    if session is not None:
        session.pop(SESSION_KEY, None)
