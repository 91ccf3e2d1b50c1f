"""Helpers every page uses: rendering with the shared context, the period picker, the active playbook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smarketing.core.errors import DomainError, NotFound
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.schema import Playbook
from smarketing.web.context import web
from smarketing.web.periods import Period, period_choices, scope_from
from smarketing.web.tables import Table, csv_response, wants_csv
from smarketing.web.views.errors import error_page, forbidden_page


def domain_errors(view: Any) -> Any:
    """Turn a DomainError raised by a read into the right status: 404 page, 403 page, or a 4xx with the message."""
    from functools import wraps

    from django.http import Http404

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            raise Http404(exc.message) from None
        except DomainError as exc:
            if exc.status == 403:
                return forbidden_page(request, exc.message)
            return error_page(request, exc.message, status=exc.status)

    return wrapped


def page(request: HttpRequest, template: str, context: Mapping[str, Any], *, status: int = 200,
         tables: Mapping[str, Table] | None = None) -> HttpResponse:
    """Render a page (or, with ?format=csv, one of its tables as CSV)."""
    from smarketing.web.data.common import pending, skipped_rows

    computing = pending()  # read (and reset) in every branch, so the flag never leaks into the thread's next request
    skipped = skipped_rows()
    if tables is not None and wants_csv(request):
        return csv_response(tables, request)
    # The figures still being computed: the page polls for them (views/figures.py) and fetches itself once ready.
    computing_query = urlencode([("k", key) for key in computing])
    return render(request, template, {**web(request), **context, "tables": tables or {}, "computing": computing,
                                      "computing_query": computing_query, "skipped_rows": skipped}, status=status)


def period_from(request: HttpRequest) -> tuple[Period, str]:
    """The page's period (the address's ?period= or ?from=&to=, else the session's last, else this quarter) and
    an error message if the address's value was not understood (see `web.periods.scope_from`)."""
    scope = scope_from(request)
    return scope.period, scope.error


def period_context(request: HttpRequest, period: Period, error: str = "") -> dict[str, Any]:
    choices = period_choices()
    if period.key not in {k for k, _ in choices}:
        choices.insert(0, (period.key, period.label))
    return {"period": period, "period_choices": choices, "period_error": error, "scope": scope_from(request)}


def active_terms() -> tuple[PlaybookVersion | None, Playbook | None]:
    from smarketing.playbook.selectors import playbook_active_terms

    try:
        return playbook_active_terms()
    except DomainError:
        return None, None
