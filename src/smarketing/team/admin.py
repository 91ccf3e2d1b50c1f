from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from smarketing.team.models import ApiToken, User


@admin.register(User)
class SmarketingUserAdmin(UserAdmin):
    list_display = ("username", "email", "role", "team_name", "region", "capacity_per_week", "is_active")
    list_filter = ("role", "team_name", "region", "is_active")
    fieldsets = (*(UserAdmin.fieldsets or ()), ("Revenue team", {"fields": (
        "role", "team_name", "region", "segment", "capacity_per_week", "out_of_office_until", "timezone",
        "email_notifications")}))

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # Why: RevOps run the admin with every model permission but are not superusers; only a superuser makes one
        # (or `smarketing createuser --superuser`), so no admin can promote themselves.
        fields = tuple(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else (*fields, "is_superuser")


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    readonly_fields = ("prefix", "digest", "created_at", "last_used_at")
    actions = ["revoke"]

    @admin.action(description="Revoke selected tokens")
    def revoke(self, request, queryset):  # type: ignore[no-untyped-def]
        from smarketing.team.services import api_token_revoke

        for token in queryset:
            api_token_revoke(token_id=token.pk)
