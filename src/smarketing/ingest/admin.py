from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from smarketing.core.admin import AppendOnlyAdmin
from smarketing.ingest.models import ImportRun


@admin.register(ImportRun)
class ImportRunAdmin(AppendOnlyAdmin):
    """Import runs, read-only: only the import service writes them (CLI, API, web page)."""

    list_display = ("id", "created_at", "system", "status", "dry_run", "skip_invalid", "problems_count", "actor")
    list_filter = ("system", "status", "dry_run")
    search_fields = ("mapping", "error")
    raw_id_fields = ("actor",)
    readonly_fields = [f.name for f in ImportRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
