from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "smarketing.analytics"
    label = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # New touchpoints reach the history store through one debounced catch-up on the task queue.
        from smarketing.analytics.store.tasks import touchpoint_store_hook
        from smarketing.campaigns.hooks import TOUCHPOINT_HOOKS

        if touchpoint_store_hook not in TOUCHPOINT_HOOKS:
            TOUCHPOINT_HOOKS.append(touchpoint_store_hook)
