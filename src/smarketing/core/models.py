"""Shared model bases."""

from __future__ import annotations

from django.db import models


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class AppendOnly(models.Model):
    """A history row: written once by a service, never updated or deleted through the ORM."""

    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        # Why: history is append-only; an update would silently rewrite the past.
        if self.pk is not None and not self._state.adding:
            raise TypeError(f"{type(self).__name__} is append-only; record a new row instead")
        super().save(*args, **kwargs)
