"""API shapes of the import runs (/api/imports)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from ninja import Field, Schema

from smarketing.core.apitools import Paged, PageIn
from smarketing.ingest.enums import ImportStatus
from smarketing.ingest.uploads import mapping_label

STATUS_HELP = ("pending (stored, waiting for the worker) | running | succeeded (written, or a dry run that found "
               "no blocking problem) | refused (problems found, nothing written) | failed (an unexpected error, "
               "nothing written)")


class ImportFileOut(Schema):
    name: str
    sha256: str
    size: int
    kind: str = Field("", description="what the header says the file is: contacts, companies, deals, leads, …")


class ImportProgressOut(Schema):
    step: str = ""
    done: int = 0
    total: int = 0


class ImportProblemOut(Schema):
    file: str = ""
    line: int | None = None
    column: str | None = None
    message: str


class ImportRunOut(Schema):
    """One import: who, when, which files (with sha256), what it did or would do, and the problems found."""

    id: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    actor: str | None = Field(None, description="the username who ran it")
    system: str
    mapping: str
    files: list[ImportFileOut]
    dry_run: bool
    skip_invalid: bool
    date_format: str
    timezone: str
    status: ImportStatus = Field(..., description=STATUS_HELP)
    progress: ImportProgressOut
    summary: dict[str, Any] = Field(default_factory=dict, description="created, updated and appended per entity "
                                    "and stage; unmapped values with their counts")
    problems: list[ImportProblemOut] = Field(default_factory=list, description="the first problems, by file, line "
                                             "and column")
    problems_count: int
    rejected_file: str = Field("", description="the file of rejected rows (with a reason column), if any")
    error: str

    @staticmethod
    def resolve_actor(obj: Any) -> str | None:
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_files(obj: Any) -> list[dict[str, Any]]:
        # The stored path is the server's business; the API names files as they were uploaded.
        return [{k: f.get(k) or ("" if k != "size" else 0) for k in ("name", "sha256", "size", "kind")}
                for f in obj.files]

    @staticmethod
    def resolve_mapping(obj: Any) -> str:
        return mapping_label(obj)

    @staticmethod
    def resolve_progress(obj: Any) -> dict[str, Any]:
        return obj.progress or {}

    @staticmethod
    def resolve_rejected_file(obj: Any) -> str:
        return Path(obj.rejected_file).name if obj.rejected_file else ""


class ImportRunPage(Paged[ImportRunOut]):
    pass


class ImportRunFilters(PageIn):
    status: ImportStatus | None = None
