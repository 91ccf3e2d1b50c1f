"""django-ninja's Swagger UI files (static files and templates) as an installed app, without loading django-ninja.

Django's app loaders find static files and templates under an app's `path`; this app's path is django-ninja's
package folder, found without importing the package, so every process that sets Django up (each CLI command) does
not pay for importing django-ninja, as the `ninja` entry in INSTALLED_APPS did. /api/docs renders ninja's own
offline page from these files (core.apitools.SwaggerOffline). Django also lists ninja's management command
(export_openapi_schema) under this app, where it does not load: /api/openapi.json serves that document.
"""

from __future__ import annotations

from importlib.util import find_spec
from pathlib import Path

from django.apps import AppConfig


def _ninja_folder() -> str:
    spec = find_spec("ninja")
    if spec is None or spec.origin is None:
        raise ImportError("django-ninja is not installed", name="ninja")
    return str(Path(spec.origin).parent)


class NinjaAssetsConfig(AppConfig):
    name = "smarketing.core.ninja_assets"
    label = "ninja_assets"
    verbose_name = "django-ninja's static files and templates"
    path = _ninja_folder()
