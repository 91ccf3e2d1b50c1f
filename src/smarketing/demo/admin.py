from django.contrib import admin

from smarketing.demo.models import DemoSeed


@admin.register(DemoSeed)
class DemoSeedAdmin(admin.ModelAdmin):
    list_display = ("created_at", "size", "seed", "seconds")
    readonly_fields = ("size", "seed", "created_at", "seconds", "counts", "truth")
    exclude = ()
