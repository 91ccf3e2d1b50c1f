from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "smarketing.lifecycle"
    label = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from smarketing.campaigns import services as campaign_services
        from smarketing.lifecycle.hooks import touchpoint_first_touch

        # Why a hook, not a signal: campaigns declares the extension point; a sales touch meets the SLA clock.
        if touchpoint_first_touch not in campaign_services.TOUCHPOINT_HOOKS:
            campaign_services.TOUCHPOINT_HOOKS.append(touchpoint_first_touch)
