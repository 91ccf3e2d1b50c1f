from django.contrib import admin

from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.admin import AppendOnlyAdmin


@admin.register(FeedbackItem)
class FeedbackItemAdmin(AppendOnlyAdmin):
    list_display = ("occurred_at", "kind", "source", "account", "author", "text")
    list_filter = ("kind", "source")
    search_fields = ("text",)
    raw_id_fields = ("account", "contact", "opportunity", "author")
