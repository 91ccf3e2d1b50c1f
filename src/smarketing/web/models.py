"""Computed page figures shared by every process: the web servers read what the task worker wrote."""

from __future__ import annotations

from django.db import models


class ComputedFigure(models.Model):
    """One cached result per (name, spec): the data version it was computed for and its pickled value.

    A row with `pending_version` set is a computation queued (or running) for that version, so concurrent
    requests enqueue it once. An analytics figure keeps its query kind and spec, so the worker can compute it again
    for a new data version, and when a page last showed it (`viewed_at`, to the minute): the figures people look
    at are refreshed after the CRM changes (`web.data.refresh`).
    """

    key = models.CharField(max_length=64, unique=True)  # sha256 of name + spec
    name = models.CharField(max_length=80)
    version = models.CharField(max_length=400, blank=True)
    value = models.BinaryField(null=True)
    computed_at = models.DateTimeField(null=True)
    pending_version = models.CharField(max_length=400, blank=True)
    pending_since = models.DateTimeField(null=True)
    error = models.TextField(blank=True)
    kind = models.CharField(max_length=80, blank=True)  # the query kind (or page figure) it computes; "" for others
    spec = models.TextField(blank=True)  # the spec's JSON, as the worker's task takes it
    viewed_at = models.DateTimeField(null=True)  # when a page last showed it, at most a minute old

    class Meta:
        indexes = [models.Index(fields=["pending_since"], name="web_figure_pending_idx"),
                   models.Index(fields=["viewed_at"], name="web_figure_viewed_idx")]

    def __str__(self) -> str:
        return f"{self.name} @ {self.version}"
