"""The playbook draft editor: a form per section (the default) or the YAML file (for power users), one write path.

Both views build the playbook document and hand it to the playbook service, which validates it by field path;
the form places each problem beside its field. The impact preview posts the form as it stands and shows what its
terms would have done to the history next to today's (the playbook_impact selector, as on the version page).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.loader import render_to_string

from smarketing.core.errors import DomainError, ValidationFailed
from smarketing.playbook import selectors as pb
from smarketing.playbook import services as pbs
from smarketing.playbook.enums import VersionStatus
from smarketing.playbook.models import PlaybookVersion
from smarketing.web.access import WRITE_ROLES, roles_required
from smarketing.web.data.common import forget_version
from smarketing.web.forms import PlaybookDraftForm
from smarketing.web.forms_playbook import GROUPS, Problem, document_from_form, editor, impact_rows
from smarketing.web.views.common import domain_errors, page

NOTES_MAX = 2000


def _problems(exc: DomainError) -> list[Problem]:
    return [{"field": str(d.get("field", "")), "message": str(d.get("message", ""))} for d in exc.details] or [
        {"field": exc.field or "", "message": exc.message}]


def _save(request: HttpRequest, version: PlaybookVersion | None, source: PlaybookVersion | None, content: Any,
          notes: str) -> HttpResponse:
    """The one write of both views: create the draft or replace its content (raises ValidationFailed)."""
    if version is None:
        saved = pbs.playbook_draft_create(content=content, created_by=request.user,  # type: ignore[arg-type]
                                          notes=notes, based_on=source)
        messages.success(request, f"Draft v{saved.number} created. Marketing and sales can now sign it off.")
    else:
        saved = pbs.playbook_draft_update(version=version, content=content, notes=notes or None)
        messages.success(request, f"Draft v{saved.number} saved; earlier sign-offs no longer count.")
    forget_version()
    return redirect("playbook_version", number=saved.number)


def impact_partial(request: HttpRequest, draft: Any, *, draft_label: str,
                   problems: list[Problem] | None = None) -> str:
    """The impact preview's HTML: the draft (a version or unsaved terms) against the active version."""
    # The problems also go to the editor's script, which marks each field as it is typed (playbook_editor.js).
    context: dict[str, Any] = {"problems": problems or [], "draft_label": draft_label,
                               "problems_json": json.dumps(problems) if problems else ""}
    if not problems:
        try:
            impact = pb.playbook_impact(draft)
            context.update(impact=impact, rows=impact_rows(impact))
        except DomainError as exc:
            context["message"] = f"No preview: {exc.message}"
    return render_to_string("web/_playbook_impact.html", context, request=request)


@roles_required(WRITE_ROLES, "edit playbook drafts")
@domain_errors
def playbook_draft(request: HttpRequest, number: int | None = None) -> HttpResponse:
    """Create a draft (from the active version) or edit a draft: the form per section, or `?view=yaml`."""
    version = pb.playbook_version_get(number=number) if number else None
    if version is not None and version.status != VersionStatus.DRAFT:
        messages.error(request, f"v{version.number} is {version.status}; start a new draft from it instead.")
        return redirect("playbook_version", number=version.number)
    source = version
    if source is None:
        try:
            source = pb.playbook_version_active_get()
        except DomainError:
            source = None
    base = source.content if source else pb.default_playbook_data()
    if request.method == "POST" and request.POST.get("preview"):
        return _preview(request, base)
    if "yaml" in request.POST or (request.method != "POST" and request.GET.get("view") == "yaml"):
        return _yaml_editor(request, version, source)
    return _form_editor(request, version, source, base)


def _preview(request: HttpRequest, base: dict[str, Any]) -> HttpResponse:
    """The impact of the form as it stands (nothing is saved); problems instead while it would not be accepted."""
    doc, problems = document_from_form(request.POST, base)
    terms, more = pb.playbook_content_check(doc)
    problems += more
    return HttpResponse(impact_partial(request, terms, draft_label="This draft", problems=problems))


def _form_editor(request: HttpRequest, version: PlaybookVersion | None, source: PlaybookVersion | None,
                 base: dict[str, Any]) -> HttpResponse:
    status = 200
    problems: list[Problem] = []
    content: dict[str, Any] = base
    notes = version.notes if version else ""
    if request.method == "POST":
        notes = request.POST.get("notes", "").strip()
        content, problems = document_from_form(request.POST, base)
        if len(notes) > NOTES_MAX:
            problems.append({"field": "notes", "message": f"at most {NOTES_MAX} characters"})
        if problems:
            problems += pb.playbook_content_check(content)[1]
        else:
            try:
                return _save(request, version, source, content, notes)
            except ValidationFailed as exc:
                problems = _problems(exc)
        status = 422
    return page(request, "web/playbook_editor.html", {
        "ed": editor(content, problems), "groups": GROUPS, "notes": notes, "version": version, "source": source},
        status=status)


def _yaml_editor(request: HttpRequest, version: PlaybookVersion | None,
                 source: PlaybookVersion | None) -> HttpResponse:
    errors: list[Problem] = []
    status = 200
    if request.method == "POST":
        form = PlaybookDraftForm(request.POST)
        if form.is_valid():
            try:
                return _save(request, version, source, pbs.parse_yaml(form.cleaned_data["yaml"]),
                             form.cleaned_data["notes"])
            except ValidationFailed as exc:
                errors = _problems(exc)
        status = 422
    else:
        text = pb.playbook_to_yaml(source) if source else ""
        form = PlaybookDraftForm(initial={"yaml": text, "notes": version.notes if version else ""})
    return page(request, "web/playbook_draft.html", {"form": form, "version": version, "source": source,
                                                     "errors": errors}, status=status)

