from django.apps import AppConfig


class PlaybookConfig(AppConfig):
    name = "smarketing.playbook"
    label = "playbook"
    default_auto_field = "django.db.models.BigAutoField"
