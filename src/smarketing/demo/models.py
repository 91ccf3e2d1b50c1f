from __future__ import annotations

from django.db import models


class DemoSeed(models.Model):
    """One seeding of the demo company: its size and seed, what it wrote, and its planted ground truth."""

    size = models.CharField(max_length=16)
    seed = models.IntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    seconds = models.FloatField(default=0)
    counts = models.JSONField(default=dict, blank=True)
    truth = models.JSONField(default=dict, blank=True, help_text="demo.truth.GroundTruth as JSON")

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"demo {self.size} seed {self.seed}"
