from django.apps import AppConfig


class LifecycleConfig(AppConfig):
    name = "smarketing.lifecycle"
    label = "lifecycle"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from smarketing.campaigns.hooks import TOUCHPOINT_HOOKS
        from smarketing.lifecycle.hooks import contact_rescored, touchpoint_first_touch
        from smarketing.scoring.hooks import RESCORE_HOOKS

        # Why hooks, not signals: campaigns and scoring declare the extension points the engine plugs into.
        if touchpoint_first_touch not in TOUCHPOINT_HOOKS:
            TOUCHPOINT_HOOKS.append(touchpoint_first_touch)
        if contact_rescored not in RESCORE_HOOKS:
            RESCORE_HOOKS.append(contact_rescored)
