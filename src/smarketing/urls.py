from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from smarketing.api_urls import api_not_found, api_urls

# The admin's modules load with the URL conf (settings list the admin without its autodiscovery at set-up, so
# a CLI command, which never loads the URL conf, does not import them).
admin.autodiscover()

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico wherever a page names no icon (the admin, raw API responses).
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    # The API is built on the first request that needs it (api_urls), not here: no page needs it.
    api_urls("api/"),
    re_path(r"^api/", api_not_found),
    path("", include("smarketing.web.urls")),
]

# Django's own refusals render in the site's layout, like the pages' own (web/views/errors.py).
handler403 = "smarketing.web.views.errors.permission_denied"
handler404 = "smarketing.web.views.errors.page_not_found"
handler500 = "smarketing.web.views.errors.server_error"
