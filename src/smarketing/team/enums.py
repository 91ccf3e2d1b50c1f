from django.db import models


class Role(models.TextChoices):
    MARKETING = "marketing", "Marketing"
    SALES = "sales", "Sales"
    REVOPS = "revops", "RevOps admin"
    VIEWER = "viewer", "Viewer"

