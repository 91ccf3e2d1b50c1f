"""API router of the imports (/api/imports): upload a company's export files as a run (a dry run by default),
confirm a dry run on the files it read, list the runs and read one's status, progress, summary and problems.
RevOps only. Each endpoint parses, calls one service or selector, renders."""

from __future__ import annotations

from typing import Any

from django.http import FileResponse, HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import (
    READ_ERRORS,
    WRITE_ERRORS,
    ErrorOut,
    InSchema,
    RecordId,
    page,
    request_user,
)
from smarketing.core.errors import PermissionDenied, ValidationFailed
from smarketing.ingest import selectors
from smarketing.ingest.schemas import STATUS_HELP, ImportRunFilters, ImportRunOut, ImportRunPage
from smarketing.ingest.uploads import (
    INLINE_MAX_BYTES,
    MAX_FILES,
    MAX_UPLOAD_BYTES,
    import_run_confirm,
    import_run_start,
    import_run_upload,
    rejected_path,
    upload_size_check,
)
from smarketing.team.roles import REVOPS_ROLES, has_role

router = Router()

TRUE, FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off"}
FORM_FIELDS = ("dry_run", "skip_invalid", "system", "date_format", "timezone")

UPLOAD_SCHEMA = {
    "type": "object",
    "required": ["files"],
    "properties": {
        "files": {"type": "array", "items": {"type": "string", "format": "binary"},
                  "description": f"one or more export files (CSV; at most {MAX_FILES}), the field repeated"},
        "mapping": {"type": "string", "format": "binary",
                    "description": "a mapping file (YAML) for `system=csv`: how any other CSV's columns map"},
        "dry_run": {"type": "boolean", "default": True,
                    "description": "only report what would be created, updated and appended (the default)"},
        "skip_invalid": {"type": "boolean", "default": False,
                         "description": "write the valid rows and put the rejected ones in a CSV with a reason"},
        "system": {"type": "string", "description": "hubspot, salesforce, pipedrive, maven or csv; detected from "
                                                    "the headers when left out"},
        "date_format": {"type": "string", "description": "ymd, mdy or dmy for locale dates like 08/12/2026; "
                                                         "detected when unambiguous"},
        "timezone": {"type": "string", "description": "the exporting portal's time zone, e.g. Europe/Paris"},
    },
}

RUN_STATUSES = (f"**Statuses.** {STATUS_HELP}. Progress is `{{step, done, total}}` while the worker imports; "
                "poll `GET /api/imports/{id}`.")


def _revops_only(request: HttpRequest, action: str) -> Any:
    user = request_user(request)
    if not has_role(user, REVOPS_ROLES):
        raise PermissionDenied(f"user {user.username!r} is not a RevOps admin; only admins {action}",
                               field="role", record=f"user:{user.username}")
    return user


def _flag(request: HttpRequest, name: str, default: bool) -> bool:
    raw = request.POST.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in TRUE | FALSE:
        return raw in TRUE
    raise ValidationFailed(f"{name}: expected true or false, got {raw!r}", field=name,
                           details=[{"field": name, "message": f"expected true or false, got {raw!r}"}])


def _status(run: Any, queued: bool) -> Status:
    return Status(202 if queued else 201, run)


@router.post("/imports", response={201: ImportRunOut, 202: ImportRunOut, 413: ErrorOut, **WRITE_ERRORS},
             summary="Import export files: a dry run by default (RevOps admins)",
             description="Multipart upload of one or more files (`files`, repeated) with `dry_run` (default true), "
                         "`skip_invalid`, `system` (detected from the headers when left out), `date_format` and "
                         "`timezone`. Small uploads (up to "
                         f"{INLINE_MAX_BYTES // (1024 * 1024)} MiB in all) are imported inside the request: 201 "
                         "with the finished run. Larger ones are stored and queued for the worker: 202 with the "
                         "pending run. An upload over the bound (default "
                         f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MiB) is refused with 413 `too_large`. "
                         + RUN_STATUSES,
             openapi_extra={"requestBody": {"required": True,
                                            "content": {"multipart/form-data": {"schema": UPLOAD_SCHEMA}}}})
def import_upload(request: HttpRequest) -> Status:
    actor = _revops_only(request, "import files")
    upload_size_check(request.META.get("CONTENT_LENGTH"))  # before the body is read
    unknown = sorted(set(request.POST) - set(FORM_FIELDS))
    if unknown:
        raise ValidationFailed(f"{unknown[0]}: unknown field; the fields are files, mapping, "
                               + ", ".join(FORM_FIELDS), field=unknown[0],
                               details=[{"field": f, "message": "unknown field"} for f in unknown])
    dry_run, skip_invalid = _flag(request, "dry_run", True), _flag(request, "skip_invalid", False)
    run = import_run_upload(files=request.FILES.getlist("files"), mapping=request.FILES.get("mapping"),
                            system=request.POST.get("system", "").strip(), dry_run=dry_run,
                            skip_invalid=skip_invalid, actor=actor,
                            date_format=request.POST.get("date_format", "").strip() or None,
                            timezone=request.POST.get("timezone", "").strip() or None)
    return _status(*import_run_start(run=run))


class ImportConfirmIn(InSchema):
    skip_invalid: bool | None = None


@router.post("/imports/{run_id}/confirm", response={201: ImportRunOut, 202: ImportRunOut, **WRITE_ERRORS},
             summary="Import for real the files a dry run read (RevOps admins)",
             description="A new run over the very files the dry run stored (no re-upload), with its system, "
                         "mapping, date format and time zone; `skip_invalid` may be changed. 201 when imported "
                         "inline, 202 when queued for the worker. " + RUN_STATUSES)
def import_confirm(request: HttpRequest, run_id: RecordId, payload: ImportConfirmIn) -> Status:
    actor = _revops_only(request, "import files")
    run = import_run_confirm(run=selectors.import_run_get(pk=run_id), actor=actor, skip_invalid=payload.skip_invalid)
    return _status(*import_run_start(run=run))


@router.get("/imports", response={200: ImportRunPage, **READ_ERRORS, 403: ErrorOut},
            summary="List import runs, newest first (RevOps admins)", description=RUN_STATUSES)
def import_list(request: HttpRequest, filters: Query[ImportRunFilters]) -> dict[str, Any]:
    _revops_only(request, "see imports")
    return page(selectors.import_run_list(status=filters.status or ""), filters)


@router.get("/imports/{run_id}", response={200: ImportRunOut, **READ_ERRORS, 403: ErrorOut},
            summary="One import run: status, progress, summary and problems (RevOps admins)",
            description=RUN_STATUSES)
def import_get(request: HttpRequest, run_id: RecordId) -> Any:
    _revops_only(request, "see imports")
    return selectors.import_run_get(pk=run_id)


@router.get("/imports/{run_id}/rejected/{name}", response={**READ_ERRORS, 403: ErrorOut},
            summary="Download a run's rejected rows: the CSV with a reason column (RevOps admins)",
            description="Written beside the uploaded files when a run skipped invalid rows; its names are in the "
                        "run's `rejected_file`.",
            openapi_extra={"responses": {200: {"description": "The rejected rows",
                                               "content": {"text/csv": {"schema": {"type": "string"}}}}}})
def import_rejected(request: HttpRequest, run_id: RecordId, name: str) -> FileResponse:
    _revops_only(request, "see imports")
    path = rejected_path(run=selectors.import_run_get(pk=run_id), name=name)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="text/csv")
