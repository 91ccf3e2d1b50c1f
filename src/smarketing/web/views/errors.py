"""The error pages in the site's layout (navigation, search, the user's menu): 403, 404, 500 and other refusals.

Every refusal renders through here, whether a view returns it (`forbidden_page`, `error_page`) or Django's handlers
do (`handler403`, `handler404`, `handler500` in the root URL conf and `CSRF_FAILURE_VIEW` in the settings name the
functions below).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.urls import Resolver404

from smarketing.web.context import web

log = logging.getLogger(__name__)

NOT_FOUND = "There is no page at this address. It may have moved, or the record it showed was removed."
SERVER_ERROR = ("Something went wrong on our side and the page could not be shown. It has been logged; "
                "try again in a moment.")
# The last resort when even the layout cannot render (the database is down): plain, but still a page a screen
# reader can read.
BARE_500 = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Server error · smarketing</title>'
            '</head><body><main><h1>Server error</h1><p>' + SERVER_ERROR + '</p><p><a href="/">Back to the '
            'scoreboard</a></p></main></body></html>')


def forbidden_page(request: HttpRequest, message: str) -> HttpResponse:
    """The 403 page, with the layout, saying why."""
    return render(request, "web/403.html", {**web(request), "message": message}, status=403)


def error_page(request: HttpRequest, message: str, *, status: int, heading: str = "That did not work",
               title: str = "Cannot do that") -> HttpResponse:
    """An error page (4xx/5xx) with the layout and the message."""
    return render(request, "web/error.html", {**web(request), "message": message, "heading": heading, "title": title},
                  status=status)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's handler403 (a PermissionDenied raised anywhere in a page)."""
    return forbidden_page(request, str(exception or "") or "You are not allowed to open this page.")


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """Django's handler404: a page's own reason ("contact 42 not found") when it gave one, else a plain one."""
    said = "" if exception is None or isinstance(exception, Resolver404) else str(exception)
    return error_page(request, said or NOT_FOUND, status=404, heading="Page not found", title="Not found")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a form sent from a page that is too old (or from another site) is refused in the
    layout, saying what to do, instead of Django's bare page."""
    return forbidden_page(request, "This form was sent from a page that has expired (or from another site), so it "
                                   "was not accepted. Reload the page and send it again.")


def server_error(request: HttpRequest) -> HttpResponse:
    """Django's handler500: the layout when it can render, else a bare page (never a second traceback)."""
    try:
        return error_page(request, SERVER_ERROR, status=500, heading="Server error", title="Server error")
    except Exception:  # the layout reads the database, which may be what failed
        log.exception("the 500 page could not render with the layout")
        return HttpResponseServerError(BARE_500)
