"""Admin pieces shared by every app."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from smarketing.core.models import TaskReclaim


class AppendOnlyAdmin(admin.ModelAdmin):
    """History rows (stage changes, touchpoints, handoff decisions, SLA events, feedback …) can be read and
    added, never edited or deleted."""

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False



@admin.register(TaskReclaim)
class TaskReclaimAdmin(AppendOnlyAdmin):
    """Tasks taken back from dead workers (read-only: the queue writes them)."""

    list_display = ("recorded_at", "task_path", "action", "attempts", "worker_id", "reason")
    list_filter = ("action",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
