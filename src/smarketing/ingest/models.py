"""Import runs: every import of a company's files (CLI, API or web) is recorded with what it did."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from smarketing.ingest.enums import ImportStatus

MAX_PROBLEMS_KEPT = 200


class ImportRun(models.Model):
    """One import of one or more files: who, when, which files (with sha256), counts and problems.

    Written by `ingest.services` only, and only while the run is pending or running; a finished run is history.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="import_runs")
    system = models.CharField(max_length=32, db_index=True, help_text="hubspot, salesforce, pipedrive, csv, …")
    mapping = models.CharField(max_length=1000, blank=True,
                               help_text="the shipped mapping's name, or the path of the mapping file given")
    files = models.JSONField(default=list, blank=True,
                             help_text="[{name, path, sha256, size, kind}] in the order given")
    dry_run = models.BooleanField(default=False)
    skip_invalid = models.BooleanField(default=False)
    date_format = models.CharField(max_length=8, blank=True, help_text="ymd, mdy or dmy; empty: detected")
    timezone = models.CharField(max_length=64, blank=True, help_text="the exporting portal's time zone")
    status = models.CharField(max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING,
                              db_index=True)
    progress = models.JSONField(default=dict, blank=True, help_text="{step, done, total}")
    summary = models.JSONField(default=dict, blank=True)
    problems = models.JSONField(default=list, blank=True,
                                help_text=f"[{{file, line, column, message}}], the first {MAX_PROBLEMS_KEPT}")
    problems_count = models.PositiveIntegerField(default=0)
    rejected_file = models.CharField(max_length=500, blank=True, help_text="the rejected rows' CSV, if any")
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"import #{self.pk} {self.system} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.SUCCEEDED, ImportStatus.REFUSED, ImportStatus.FAILED)
