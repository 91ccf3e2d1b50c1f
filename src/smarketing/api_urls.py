"""The API's place in the URL conf, built on first use rather than when the URL conf loads.

Building the API takes most of a second (django-ninja makes about a thousand pydantic models from the routers'
schemas) and no web page needs it, so the server answers its first page without it: the /api/ resolver reads its
patterns from `api_patterns()`, which builds the API once, whichever thread asks first. The login page's preload
(web.data.warm) builds it in the background, and a request under /api/ that arrives before then waits for that
preload (web.middleware.PreloadedMiddleware), so no two threads import the API's modules at once.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver
from django.urls.resolvers import RoutePattern
from django.views.decorators.csrf import csrf_exempt

from smarketing.core.middleware import json_error

# The API's URL namespace (NinjaAPI's `urls_namespace`; smarketing.api passes this one) and the app name that
# NinjaAPI.urls gives its patterns: the resolver needs both before the API exists, for `reverse` to find it.
API_NAMESPACE = "api-1"
API_APP_NAME = "ninja"

_build_lock = threading.Lock()
_patterns: list[URLPattern | URLResolver] | None = None


def api_patterns() -> list[URLPattern | URLResolver]:
    """The API's URL patterns: the first call builds the API (once, whatever the threads), later ones return them."""
    global _patterns
    if _patterns is None:
        with _build_lock:
            if _patterns is None:
                _patterns = _build()
    return _patterns


def _build() -> list[URLPattern | URLResolver]:
    from smarketing.api import api

    patterns, app_name, namespace = api.urls
    if (app_name, namespace) != (API_APP_NAME, API_NAMESPACE):
        # Why: the /api/ resolver was made with these names before the API existed, for `reverse` to find it.
        raise ImproperlyConfigured(f"the API's URLs are named {app_name}:{namespace}, not the "
                                   f"{API_APP_NAME}:{API_NAMESPACE} that smarketing.api_urls mounts")
    return list(patterns)


def api_built() -> bool:
    """Whether the API is built (a request under /api/ then needs no import)."""
    return _patterns is not None


class _ApiUrlconf(ModuleType):
    """The /api/ resolver's URL conf module: its `urlpatterns` are the API's, built when first read."""

    @property
    def urlpatterns(self) -> list[URLPattern | URLResolver]:
        return api_patterns()


class _ApiResolver(URLResolver):
    """The resolver of the API's URLs, which builds the API only when a request or a `reverse` needs its URLs.

    Why: Django fills every included resolver's reverse lookups when any URL is first reversed (a page's
    `{% url %}`), which would build the API for the first page; this one fills its own only once the API is built,
    and reversing one of its names builds it first."""

    def _populate(self) -> None:
        if api_built():
            super()._populate()

    @property
    def reverse_dict(self) -> Any:
        api_patterns()
        return super().reverse_dict

    @property
    def namespace_dict(self) -> Any:
        api_patterns()
        return super().namespace_dict

    @property
    def app_dict(self) -> Any:
        api_patterns()
        return super().app_dict


def api_urls(route: str) -> URLResolver:
    """The API mounted at `route`, as `path(route, api.urls)` would mount it, but built on first use."""
    return _ApiResolver(RoutePattern(route), _ApiUrlconf(f"{__name__}.api"), app_name=API_APP_NAME, namespace=API_NAMESPACE)


@csrf_exempt  # Why: the API takes bearer tokens, so an unknown path answers its JSON 404, never the CSRF page
def api_not_found(request: HttpRequest) -> HttpResponse:
    """JSON 404 for a path under /api/ that no endpoint serves, whatever the method (not the site's HTML page)."""
    return json_error(404, f"no API endpoint at {request.path}; the endpoints are listed at /api/docs")
