from django.contrib import admin
from django.urls import include, path, re_path

from smarketing.api import api, api_not_found

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    re_path(r"^api/", api_not_found),
    path("", include("smarketing.web.urls")),
]
