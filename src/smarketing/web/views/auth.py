"""Log in: Django's view, which also starts warming the scoreboard's figures (worker) and this web process's
routes, kernels and templates (a background thread) while the user types."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponse


class WarmingLoginView(auth_views.LoginView):
    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = super().get(request, *args, **kwargs)
        if getattr(settings, "SMARKETING_WEB_WARM", True):
            from smarketing.web.data.warm import preload_in_background, warm_async

            # The page is rendered first, so its own imports never run beside the preload's (see preload_wait).
            response.render()  # type: ignore[attr-defined]
            warm_async()
            preload_in_background()
        return response
