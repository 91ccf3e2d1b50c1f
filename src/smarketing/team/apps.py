from django.apps import AppConfig


class TeamConfig(AppConfig):
    name = "smarketing.team"
    label = "team"
    default_auto_field = "django.db.models.BigAutoField"
