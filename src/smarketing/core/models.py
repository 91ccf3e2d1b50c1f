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


class TaskReclaim(AppendOnly):
    """A task the queue took back from a worker that died while running it: requeued, or failed after too many
    attempts. Written by `core.task_queue.tasks_reclaim_stale`."""

    class Action(models.TextChoices):
        REQUEUED = "requeued", "Requeued"
        FAILED = "failed", "Failed (too many attempts)"

    task_id = models.CharField(max_length=64, db_index=True, help_text="The django-tasks result id")
    task_path = models.TextField()
    action = models.CharField(max_length=16, choices=Action.choices)
    reason = models.CharField(max_length=200, help_text="Why the run was judged dead")
    started_at = models.DateTimeField(null=True)
    worker_id = models.CharField(max_length=64, blank=True, help_text="The worker that was running it")
    attempts = models.PositiveIntegerField(help_text="Runs started so far, the dead one included")

    class Meta:
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.task_path} {self.action} ({self.reason})"
