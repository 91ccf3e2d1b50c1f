from django.contrib import admin

from smarketing.lifecycle.models import StageChange


class AppendOnlyAdmin(admin.ModelAdmin):
    """History rows can be read and added, never edited or deleted."""

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False

    def has_delete_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(StageChange)
class StageChangeAdmin(AppendOnlyAdmin):
    list_display = ("occurred_at", "contact", "account", "from_stage", "to_stage", "actor_kind", "actor",
                    "playbook_version", "reason")
    list_filter = ("to_stage", "actor_kind", "playbook_version")
    raw_id_fields = ("contact", "account", "actor")
    date_hierarchy = "occurred_at"
