"""Requests wait for the web process's preload (smarketing.web.data.warm) while it runs on its background thread."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from smarketing.api_urls import api_built
from smarketing.core.middleware import API_PREFIX


class PreloadedMiddleware:
    """Hold a request until a running preload has finished, so no request imports the analytics kernels at the same
    time as the preload thread (see `warm.preload_wait`); once it finished, or when none started, this costs nothing.

    A request under /api/ before the API is built (it is built on first use, smarketing.api_urls) builds it itself,
    under the preload's lock (`warm.preload_api`); requests arriving meanwhile wait for that in the same way."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from smarketing.web.data import warm

        if not api_built() and request.path.startswith(API_PREFIX):
            warm.preload_api()
        else:
            warm.preload_wait()
        return self.get_response(request)
