from django.contrib import admin

from smarketing.campaigns.models import (
    BriefComment,
    BriefSignoff,
    Campaign,
    CampaignBrief,
    CampaignMember,
    Outreach,
    Touchpoint,
)
from smarketing.core.admin import AppendOnlyAdmin


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "type", "start_date", "end_date", "budget", "actual_cost", "owner")
    list_filter = ("channel", "type")
    search_fields = ("name",)


@admin.register(Touchpoint)
class TouchpointAdmin(AppendOnlyAdmin):
    list_display = ("occurred_at", "contact", "campaign", "channel", "kind", "actor", "value")
    list_filter = ("channel", "kind")
    raw_id_fields = ("contact", "account", "campaign", "actor")


class BriefCommentInline(admin.TabularInline):
    model = BriefComment
    extra = 0
    can_delete = False
    readonly_fields = ("author", "topic", "text", "recorded_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


class BriefSignoffInline(admin.TabularInline):
    model = BriefSignoff
    extra = 0
    can_delete = False
    readonly_fields = ("user", "content_sha", "comment", "recorded_at")

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False


@admin.register(CampaignBrief)
class CampaignBriefAdmin(admin.ModelAdmin):
    list_display = ("campaign", "core_message", "launched_at", "updated_at")
    raw_id_fields = ("campaign", "created_by")
    readonly_fields = ("content_sha", "launched_at")
    inlines = [BriefCommentInline, BriefSignoffInline]


@admin.register(BriefComment)
class BriefCommentAdmin(AppendOnlyAdmin):
    list_display = ("recorded_at", "brief", "author", "topic", "text")
    list_filter = ("topic",)
    raw_id_fields = ("brief", "author")


@admin.register(BriefSignoff)
class BriefSignoffAdmin(AppendOnlyAdmin):
    list_display = ("recorded_at", "brief", "user", "content_sha")
    raw_id_fields = ("brief", "user")


@admin.register(Outreach)
class OutreachAdmin(AppendOnlyAdmin):
    list_display = ("sent_at", "rep", "kind", "campaign", "contact", "subject")
    list_filter = ("kind",)
    search_fields = ("text", "subject")
    raw_id_fields = ("rep", "campaign", "contact", "account")


@admin.register(CampaignMember)
class CampaignMemberAdmin(admin.ModelAdmin):
    """Members are records, not history: RevOps may correct a status here."""

    list_display = ("campaign", "contact", "status", "first_responded_at", "created_at", "source")
    list_filter = ("status",)
    search_fields = ("campaign__name", "contact__email", "source_id")
    raw_id_fields = ("campaign", "contact")
