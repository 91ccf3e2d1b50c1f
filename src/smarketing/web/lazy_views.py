"""Views that the URL conf names by their dotted path and that import their module on their first call.

Why: importing every view module with the URL conf loads the analytics (NumPy, the metrics, the queries) and the
playbook's schema (pydantic) before the server answers its first request, most of a second that the login page does
not need. A view's module now loads when a request first reaches it, or earlier in the login page's background
preload (web.data.warm), which loads them all.

Every such import runs under `IMPORT_LOCK`, which the preload and the API's build (web.data.warm) hold too, so no two
threads import the product's modules at once: two threads taking the import locks of modules that import each other
in opposite orders make Python hand one of them a partially initialized module.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import import_module
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver

IMPORT_LOCK = threading.RLock()


class LazyView:
    """A view named by its dotted path ("smarketing.web.views.funnel.funnel_page"); its module is imported on the
    first call (under `IMPORT_LOCK`), then every call goes straight to the view."""

    def __init__(self, dotted: str) -> None:
        module, _, name = dotted.rpartition(".")
        if not module:
            raise ValueError(f"a lazy view needs a module and a name, not {dotted!r}")
        self.module_name = module
        self.view_name = name
        self.__name__ = self.__qualname__ = name
        self.__module__ = module
        self._view: Callable[..., HttpResponse] | None = None

    def load(self) -> Callable[..., HttpResponse]:
        """The view itself, importing its module the first time."""
        view = self._view
        if view is None:
            with IMPORT_LOCK:
                view = self._view
                if view is None:
                    view = self._view = getattr(import_module(self.module_name), self.view_name)
        return view

    def __call__(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return self.load()(request, *args, **kwargs)

    def __repr__(self) -> str:
        return f"LazyView({self.module_name}.{self.view_name})"


def lazy_view(dotted: str) -> LazyView:
    """The view at `dotted`, imported when first called or by `lazy_views_load`."""
    return LazyView(dotted)


def lazy_views_load() -> None:
    """Import the module of every lazy view in the URL conf (the preload does, so no visitor waits for them)."""
    def load(patterns: list[URLPattern | URLResolver]) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                load(pattern.url_patterns)
            elif isinstance(pattern.callback, LazyView):
                pattern.callback.load()

    with IMPORT_LOCK:
        load(get_resolver().url_patterns)
