from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models

from smarketing.team.enums import EmailNotifications, Role
from smarketing.team.roles import WRITE_ROLES, has_role


class User(AbstractUser):
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    team_name = models.CharField(max_length=64, blank=True, help_text="Sales team or marketing pod")
    region = models.CharField(max_length=32, blank=True)
    segment = models.CharField(max_length=32, blank=True)
    capacity_per_week = models.PositiveIntegerField(default=0, help_text="Leads a seller can take per week (0 = not routed)")
    out_of_office_until = models.DateField(null=True, blank=True)
    timezone = models.CharField(max_length=64, default="UTC")
    manager = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports",
                                help_text="Whom this user reports to")
    email_notifications = models.CharField(max_length=16, choices=EmailNotifications.choices,
                                           default=EmailNotifications.DIGEST,
                                           help_text="Email for in-app notifications: each one, a daily digest or none")

    @property
    def can_write(self) -> bool:
        return has_role(self, WRITE_ROLES)

    def __str__(self) -> str:
        return self.get_full_name() or self.username


class ApiToken(models.Model):
    """A bearer token; only its SHA-256 digest is stored, the secret is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=12, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="After this moment the token authenticates "
                                                                        "nobody (empty: it never expires)")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
