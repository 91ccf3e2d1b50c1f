from django.contrib import admin

from smarketing.playbook.models import PlaybookSignoff, PlaybookVersion


class SignoffInline(admin.TabularInline):
    model = PlaybookSignoff
    extra = 0
    readonly_fields = ("user", "side", "content_sha", "comment", "signed_at")
    can_delete = False


@admin.register(PlaybookVersion)
class PlaybookVersionAdmin(admin.ModelAdmin):
    list_display = ("number", "status", "bootstrap", "created_by", "created_at", "activated_at", "notes")
    list_filter = ("status",)
    readonly_fields = ("number", "status", "content_sha", "activated_at", "superseded_at", "bootstrap")
    inlines = [SignoffInline]
