from django.contrib import admin
from django.urls import include, path

from smarketing.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("smarketing.web.urls")),
]
