from django.contrib import admin

from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.lifecycle.admin import AppendOnlyAdmin


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ("name", "channel", "type", "start_date", "end_date", "budget", "actual_cost", "owner")
    list_filter = ("channel", "type")
    search_fields = ("name",)


@admin.register(Touchpoint)
class TouchpointAdmin(AppendOnlyAdmin):
    list_display = ("occurred_at", "contact", "campaign", "channel", "kind", "value")
    list_filter = ("channel", "kind")
    raw_id_fields = ("contact", "account", "campaign")
