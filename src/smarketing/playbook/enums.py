from django.db import models


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    ACTIVE = "active", "Active"
    SUPERSEDED = "superseded", "Superseded"


class Side(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
