from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "smarketing.scoring"
    label = "scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # New touchpoints rescore only their contact and account, through the task queue.
        from smarketing.campaigns.services import TOUCHPOINT_HOOKS
        from smarketing.scoring.services import touchpoint_rescore_hook

        if touchpoint_rescore_hook not in TOUCHPOINT_HOOKS:
            TOUCHPOINT_HOOKS.append(touchpoint_rescore_hook)
