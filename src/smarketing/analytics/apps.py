from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "smarketing.analytics"
    label = "analytics"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Every write to a table the history store mirrors (touches, stage changes, decisions, SLA events, feedback,
        # the CRM's records) reaches the store through one debounced catch-up on the task queue.
        from django.db.backends.signals import connection_created

        from smarketing.analytics.store.writes import notice_writes

        connection_created.connect(notice_writes, dispatch_uid="smarketing.analytics.notice_writes")
