"""The Import page (RevOps): upload a company's export files, read the dry run (each file's detected kind, the
mapping, what would be created, updated and appended, the first problems), confirm it on the same stored files,
follow a large run's progress, and see every past run."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from smarketing.core.errors import DomainError, NotFound
from smarketing.crm.enums import OpportunityStage
from smarketing.ingest.enums import ImportStatus, ImportSystem
from smarketing.ingest.models import ImportRun
from smarketing.ingest.selectors import import_run_get, import_run_list
from smarketing.ingest.uploads import (
    confirmable,
    import_run_confirm,
    import_run_start,
    import_run_upload,
    inline_limit,
    mapping_label,
    rejected_names,
    rejected_path,
    upload_limit,
    upload_size_check,
)
from smarketing.lifecycle.enums import Stage
from smarketing.team.enums import Role
from smarketing.team.roles import REVOPS_ROLES, has_role
from smarketing.web.context import web
from smarketing.web.data.common import forget_version
from smarketing.web.views.common import page

RUNS_SHOWN = 25
PROBLEMS_SHOWN = 20
POLL_SECONDS = 2
DATE_FORMATS = [("", "Detect (refuse when ambiguous)"), ("ymd", "2026-08-12 (year, month, day)"),
                ("mdy", "08/12/2026 (month/day/year)"), ("dmy", "12/08/2026 (day/month/year)")]


def _forbidden(request: HttpRequest) -> HttpResponse | None:
    """The 403 page, with the site's layout, for anyone but a RevOps admin; None for them."""
    if has_role(request.user, REVOPS_ROLES):
        return None
    role = Role(getattr(request.user, "role", Role.VIEWER) or Role.VIEWER).label
    return render(request, "web/403.html", {**web(request), "message": (
        f"Only RevOps users can import files; you are signed in as {role}.")}, status=403)


ENTITIES = (("accounts", "Accounts"), ("contacts", "Contacts"), ("opportunities", "Opportunities"))
NOTES = (("owners_created", "Owners not found among the users, created as inactive sales users"),
         ("conflicts", "Conflicts, reported and not merged"),
         ("moved", "Stage dates that moved since an earlier export (history kept as it was)"))
SHOWN_ELSEWHERE = {"system", "vocabulary", "dry_run", "written", "stages", "unmapped", "files", "unresolved_refs",
                   "opportunity_stages", "opportunity_stage_changes",
                   *(k for k, _ in ENTITIES), *(k for k, _ in NOTES)}


def _other_sections(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Figures of the summary this page has no place for yet, laid out plainly so none is hidden."""
    sections = []
    for key, value in summary.items():
        if key in SHOWN_ELSEWHERE:
            continue
        items = [f"{k}: {v}" for k, v in value.items()] if isinstance(value, dict) else (
            [str(v) for v in value] if isinstance(value, list) else [str(value)])
        sections.append({"title": str(key).replace("_", " ").capitalize(), "items": items})
    return sections


def summary_view(summary: dict[str, Any]) -> dict[str, Any]:
    """The import service's summary as the page lays it out: records per entity, stage changes appended per stage,
    unmapped values with their counts, the notes, the files. The page adds no figure of its own."""
    stage_labels = dict(Stage.choices)
    deal_labels = dict(OpportunityStage.choices)
    return {
        "entities": [{"key": key, "label": label, **summary[key]} for key, label in ENTITIES
                     if isinstance(summary.get(key), dict)],
        "stages": [{"key": stage, "label": stage_labels.get(stage, stage), "count": n}
                   for stage, n in (summary.get("stages") or {}).items()],
        "deal_stages": [{"key": stage, "label": deal_labels.get(stage, stage), "count": n}
                        for stage, n in (summary.get("opportunity_stages") or {}).items()],
        "unmapped": list((summary.get("unmapped") or {}).items()),
        "notes": [{"key": key, "title": title, "items": summary[key]} for key, title in NOTES if summary.get(key)],
        "files": summary.get("files") or [],
        "unresolved_refs": summary.get("unresolved_refs") or 0,
        "vocabulary": summary.get("vocabulary", ""),
        "other": _other_sections(summary),
    }


def run_counts(run: ImportRun) -> str:
    """One line of what a run did or would do, from its summary."""
    summary = run.summary or {}
    parts = []
    for key, _label in ENTITIES:
        c = summary.get(key) or {}
        if c.get("created") or c.get("updated"):
            parts.append(f"{key}: {c.get('created', 0)} new, {c.get('updated', 0)} updated")
    moves = sum((summary.get("stages") or {}).values())
    if moves:
        parts.append(f"{moves} stage change{'s' if moves != 1 else ''}")
    deal_moves = sum((summary.get("opportunity_stages") or {}).values())
    if deal_moves:
        parts.append(f"{deal_moves} deal stage move{'s' if deal_moves != 1 else ''}")
    return " · ".join(parts) or ("nothing to change" if run.status == ImportStatus.SUCCEEDED else "")


def _run_context(run: ImportRun) -> dict[str, Any]:
    progress = run.progress or {}
    total, done = int(progress.get("total") or 0), int(progress.get("done") or 0)
    return {"run": run, "mapping": mapping_label(run), "summary": summary_view(run.summary or {}),
            "rejected": rejected_names(run),
            "problems": (run.problems or [])[:PROBLEMS_SHOWN], "percent": round(100 * done / total) if total else None,
            "can_confirm": confirmable(run),
            "poll_seconds": POLL_SECONDS}


def _runs() -> list[dict[str, Any]]:
    return [{"run": r, "counts": run_counts(r), "mapping": mapping_label(r)} for r in import_run_list()[:RUNS_SHOWN]]


def _page(request: HttpRequest, *, run: ImportRun | None = None, error: str = "", status: int = 200) -> HttpResponse:
    return page(request, "web/imports.html", {
        "current": _run_context(run) if run is not None else None,
        "runs": _runs(),
        "systems": [("", "Detect from the headers"), *ImportSystem.choices], "date_formats": DATE_FORMATS,
        "upload_error": error, "max_mib": upload_limit() // (1024 * 1024),
        "inline_mib": max(1, inline_limit() // (1024 * 1024))}, status=status)


@login_required
def import_page(request: HttpRequest) -> HttpResponse:
    """GET: the upload form and past runs; POST: store the files and dry-run them."""
    if (denied := _forbidden(request)) is not None:
        return denied
    if request.method != "POST":
        return _page(request)
    try:
        upload_size_check(request.META.get("CONTENT_LENGTH"))  # before the body is read
        run = import_run_upload(files=request.FILES.getlist("files"), mapping=request.FILES.get("mapping"),
                                system=request.POST.get("system", "").strip(), dry_run=True,
                                skip_invalid=request.POST.get("skip_invalid") == "on", actor=request.user,
                                date_format=request.POST.get("date_format", "").strip() or None,
                                timezone=request.POST.get("timezone", "").strip() or None)
        run, _queued = import_run_start(run=run)
    except DomainError as exc:
        return _page(request, error=exc.message, status=exc.status)
    return redirect("import_run", pk=run.pk)


def _get(pk: int) -> ImportRun:
    try:
        return import_run_get(pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None


@login_required
def import_run_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One run (the dry run to confirm, or a run in progress); HTMX polls its panel while the worker imports."""
    if (denied := _forbidden(request)) is not None:
        return denied
    run = _get(pk)
    if request.htmx:  # type: ignore[attr-defined]
        # The polled panel, and the past runs list swapped out of band so its status follows.
        panel = render(request, "web/_import_run.html", {**web(request), **_run_context(run)})
        runs = render(request, "web/_import_runs.html", {"runs": _runs(), "oob": True})
        panel.content = panel.content + runs.content
        return panel
    return _page(request, run=run)


@login_required
def import_run_confirm_view(request: HttpRequest, pk: int) -> HttpResponse:
    """Import for real the files the dry run stored (no re-upload)."""
    if (denied := _forbidden(request)) is not None:
        return denied
    if request.method != "POST":
        return redirect("import_run", pk=pk)
    dry = _get(pk)
    try:
        run = import_run_confirm(run=dry, actor=request.user, skip_invalid=request.POST.get("skip_invalid") == "on")
        run, queued = import_run_start(run=run)
    except DomainError as exc:
        return _page(request, run=dry, error=exc.message, status=exc.status)
    forget_version()  # the pages read the imported company at once
    if queued:
        messages.info(request, f"Import #{run.pk} is queued: the worker imports it and this page shows its progress.")
    elif run.status == ImportStatus.SUCCEEDED:
        messages.success(request, f"Import #{run.pk} is done.")
    return redirect(reverse("import_run", kwargs={"pk": run.pk}))


@login_required
def import_run_rejected(request: HttpRequest, pk: int, name: str) -> HttpResponse | FileResponse:
    """Download a run's rejected rows (the CSV with a reason column written when invalid rows were skipped)."""
    if (denied := _forbidden(request)) is not None:
        return denied
    try:
        path = rejected_path(run=_get(pk), name=name)
    except NotFound as exc:
        raise Http404(exc.message) from None
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="text/csv")
