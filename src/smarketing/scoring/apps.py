from django.apps import AppConfig


class ScoringConfig(AppConfig):
    name = "smarketing.scoring"
    label = "scoring"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # New touchpoints rescore only their contact and account, through the task queue.
        from smarketing.campaigns.hooks import TOUCHPOINT_HOOKS
        from smarketing.playbook.hooks import ACTIVATION_HOOKS
        from smarketing.scoring.hooks import playbook_activated_rescore_hook, touchpoint_rescore_hook

        if touchpoint_rescore_hook not in TOUCHPOINT_HOOKS:
            TOUCHPOINT_HOOKS.append(touchpoint_rescore_hook)
        # A newly active playbook may change any rule or the threshold: every score is rebuilt by the worker.
        if playbook_activated_rescore_hook not in ACTIVATION_HOOKS:
            ACTIVATION_HOOKS.append(playbook_activated_rescore_hook)
