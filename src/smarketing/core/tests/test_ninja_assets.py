"""/api/docs renders django-ninja's offline Swagger UI from the product's own static files, with django-ninja
listed in INSTALLED_APPS through core.ninja_assets (which does not import it)."""

from __future__ import annotations

import re

from django.contrib.staticfiles import finders
from django.test import Client


def test_swagger_ui_files_are_found_as_static_files() -> None:
    # Given the installed apps, when the static files finders look for Swagger UI's files, then they find them.
    for name in ("ninja/swagger-ui-bundle.js", "ninja/swagger-ui-init.js", "ninja/swagger-ui.css",
                 "ninja/favicon.svg"):
        assert finders.find(name), name


def test_api_docs_page_uses_the_products_own_files(client: Client) -> None:
    # Given the API, when its documentation page is opened, then every asset it names is one of the product's
    # static files, and none is on another host.
    response = client.get("/api/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert "/static/ninja/swagger-ui-bundle.js" in assets and "/static/ninja/swagger-ui.css" in assets
    assert [a for a in assets if not a.startswith("/static/")] == []
    assert "/api/openapi.json" in html
