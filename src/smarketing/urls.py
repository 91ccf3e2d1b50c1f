from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from smarketing.api import api, api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico wherever a page names no icon (the admin, raw API responses).
    path("favicon.ico", RedirectView.as_view(url=static("web/favicon.svg"), permanent=True)),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("", include("smarketing.web.urls")),
]

# Django's own refusals render in the site's layout, like the pages' own (web/views/errors.py).
handler403 = "smarketing.web.views.errors.permission_denied"
handler404 = "smarketing.web.views.errors.page_not_found"
handler500 = "smarketing.web.views.errors.server_error"
