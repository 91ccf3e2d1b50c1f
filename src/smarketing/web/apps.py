from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "smarketing.web"
    label = "web"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # After the history store caught up with a write, the figures viewed recently are computed again by the
        # worker, so the next visit finds them (the analytics app knows nothing of the web's figures).
        from smarketing.analytics.store.tasks import CAUGHT_UP_HOOKS
        from smarketing.web.tasks import store_caught_up_hook

        if store_caught_up_hook not in CAUGHT_UP_HOOKS:
            CAUGHT_UP_HOOKS.append(store_caught_up_hook)
