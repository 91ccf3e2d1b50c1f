"""Helpers every page uses: rendering with the shared context, the period picker, the active playbook."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from smarketing.core.errors import DomainError, NotFound
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.schema import Playbook
from smarketing.web.context import web
from smarketing.web.periods import Period, current_quarter_key, parse_period, period_choices
from smarketing.web.tables import Table, csv_response, wants_csv


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
            return render(request, "web/403.html" if exc.status == 403 else "web/error.html",
                          {**web(request), "message": exc.message}, status=exc.status)

    return wrapped


def page(request: HttpRequest, template: str, context: Mapping[str, Any], *, status: int = 200,
         tables: Mapping[str, Table] | None = None) -> HttpResponse:
    """Render a page (or, with ?format=csv, one of its tables as CSV)."""
    from smarketing.web.data.common import pending, skipped_rows

    computing = pending()  # read (and reset) in every branch, so the flag never leaks into the thread's next request
    skipped = skipped_rows()
    if tables is not None and wants_csv(request):
        return csv_response(tables, request)
    return render(request, template, {**web(request), **context, "tables": tables or {}, "computing": computing,
                                      "skipped_rows": skipped}, status=status)


def period_from(request: HttpRequest) -> tuple[Period, str]:
    """The period in ?period= (default: this quarter) and an error message if the value was not understood."""
    key = request.GET.get("period") or current_quarter_key()
    try:
        return parse_period(key), ""
    except DomainError as exc:
        return parse_period(current_quarter_key()), exc.message


def period_context(request: HttpRequest, period: Period, error: str = "") -> dict[str, Any]:
    choices = period_choices()
    if period.key not in {k for k, _ in choices}:
        choices.insert(0, (period.key, period.label))
    return {"period": period, "period_choices": choices, "period_error": error}


def active_terms() -> tuple[PlaybookVersion | None, Playbook | None]:
    from smarketing.playbook.selectors import playbook_active_terms

    try:
        return playbook_active_terms()
    except DomainError:
        return None, None
