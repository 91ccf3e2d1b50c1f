from django.db import models


class Role(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    REVOPS = "revops", "RevOps admin"
    VIEWER = "viewer", "Viewer"



class EmailNotifications(models.TextChoices):
    """How a user hears of their in-app notifications by email (only when SMTP is configured)."""

    IMMEDIATE = "immediate", "Each one as it happens"
    DIGEST = "digest", "A daily digest"
    OFF = "off", "No email"
