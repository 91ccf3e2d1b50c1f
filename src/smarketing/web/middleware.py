"""Requests wait for the web process's preload (smarketing.web.data.warm) while it runs on its background thread."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class PreloadedMiddleware:
    """Hold a request until a running preload has finished, so no request imports the analytics kernels at the same
    time as the preload thread (see `warm.preload_wait`); once it finished, or when none started, this costs nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from smarketing.web.data.warm import preload_wait

        preload_wait()
        return self.get_response(request)
