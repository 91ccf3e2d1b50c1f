from django.contrib import admin

from smarketing.crm.models import Account, Contact, Opportunity


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = ("name", "domain", "industry", "employees", "region", "segment", "lifecycle_stage", "owner")
    list_filter = ("industry", "region", "segment", "lifecycle_stage", "is_customer")
    search_fields = ("name", "domain")
    raw_id_fields = ("owner",)


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("id", "email", "first_name", "last_name", "title", "buying_role", "lifecycle_stage", "account", "owner")
    list_filter = ("lifecycle_stage", "buying_role", "lead_source")
    search_fields = ("email", "last_name", "account__name")
    raw_id_fields = ("account", "owner")
    readonly_fields = ("lifecycle_stage",)


@admin.register(Opportunity)
class OpportunityAdmin(admin.ModelAdmin):
    list_display = ("name", "account", "type", "amount", "currency", "stage", "outcome", "opened_at", "closed_at")
    list_filter = ("type", "stage", "outcome")
    search_fields = ("name", "account__name")
    raw_id_fields = ("account", "primary_contact", "owner")
