from django.contrib import admin

from smarketing.core.admin import AppendOnlyAdmin
from smarketing.feedback.models import (
    FeedbackItem,
    Insight,
    InsightTransition,
    Theme,
    ThemeAssignment,
    ThemeEdit,
    ThemeRun,
)


@admin.register(FeedbackItem)
class FeedbackItemAdmin(AppendOnlyAdmin):
    list_display = ("occurred_at", "kind", "source", "account", "author", "text")
    list_filter = ("kind", "source")
    search_fields = ("text",)
    raw_id_fields = ("account", "contact", "opportunity", "author")


@admin.register(ThemeRun)
class ThemeRunAdmin(admin.ModelAdmin):
    list_display = ("started_at", "backend", "items", "themes_found", "themes_kept", "themes_new", "unassigned",
                    "finished_at")
    list_filter = ("backend",)
    exclude = ("vocabulary", "idf")
    readonly_fields = ("backend", "model_name", "rebuild", "started_at", "finished_at", "items", "themes_found",
                       "themes_kept", "themes_new", "unassigned", "params", "triggered_by")


class ThemeAssignmentInline(admin.TabularInline):
    model = ThemeAssignment
    fk_name = "theme"
    raw_id_fields = ("item", "run")
    fields = ("item", "score", "method", "pinned", "sentiment")
    readonly_fields = ("score", "method", "sentiment")
    extra = 0
    show_change_link = True


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ("name", "status", "name_is_manual", "backend", "updated_at")
    list_filter = ("status", "backend", "name_is_manual")
    search_fields = ("name",)
    raw_id_fields = ("merged_into", "split_from", "last_run")
    exclude = ("centroid",)
    inlines = [ThemeAssignmentInline]


@admin.register(ThemeAssignment)
class ThemeAssignmentAdmin(admin.ModelAdmin):
    list_display = ("item", "theme", "score", "method", "pinned", "sentiment")
    list_filter = ("method", "pinned")
    raw_id_fields = ("item", "theme", "run")


@admin.register(ThemeEdit)
class ThemeEditAdmin(AppendOnlyAdmin):
    list_display = ("recorded_at", "kind", "theme", "other", "old_name", "new_name", "actor")
    list_filter = ("kind",)
    raw_id_fields = ("theme", "other", "actor")


class InsightTransitionInline(admin.TabularInline):
    model = InsightTransition
    extra = 0
    can_delete = False
    readonly_fields = ("from_status", "to_status", "actor", "occurred_at", "note")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(Insight)
class InsightAdmin(admin.ModelAdmin):
    list_display = ("title", "status", "volume", "open_pipeline", "arr", "first_signal_at", "acted_at")
    list_filter = ("status",)
    raw_id_fields = ("theme", "assignee", "response_campaign")
    # Why: status moves only through insight_transition, which checks the flow and records who/when.
    readonly_fields = ("status", "acknowledged_at", "acted_at", "closed_at")
    inlines = [InsightTransitionInline]


@admin.register(InsightTransition)
class InsightTransitionAdmin(AppendOnlyAdmin):
    list_display = ("occurred_at", "insight", "from_status", "to_status", "actor")
    list_filter = ("to_status",)
    raw_id_fields = ("insight", "actor")
