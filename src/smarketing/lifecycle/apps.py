from importlib import import_module

from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "smarketing.lifecycle"
    label = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from smarketing.campaigns import services as campaign_services
        from smarketing.lifecycle.hooks import contact_rescored, touchpoint_first_touch

        # Why hooks, not signals: campaigns and scoring declare the extension points the engine plugs into.
        if touchpoint_first_touch not in campaign_services.TOUCHPOINT_HOOKS:
            campaign_services.TOUCHPOINT_HOOKS.append(touchpoint_first_touch)
        try:
            rescore_hooks = getattr(import_module("smarketing.scoring.services"), "RESCORE_HOOKS", None)
        except ImportError:
            rescore_hooks = None
        if rescore_hooks is not None and contact_rescored not in rescore_hooks:
            rescore_hooks.append(contact_rescored)
