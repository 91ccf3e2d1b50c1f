"""The playbook: the active agreement in readable form, history with diffs, drafts with their impact preview and the
two-sided sign-off (the draft editor is in playbook_editor)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from smarketing.playbook import selectors as pb
from smarketing.playbook import services as pbs
from smarketing.playbook.enums import Side, VersionStatus
from smarketing.web.access import SIGNOFF_ROLES, roles_required
from smarketing.web.data.common import forget_version
from smarketing.web.forms import SignoffForm
from smarketing.web.views.common import domain_errors, page
from smarketing.web.views.playbook_editor import impact_partial


def _sides(version: object) -> dict[str, list[object]]:
    """Signatures on the version's current content, per side (older signatures are stale)."""
    out: dict[str, list[object]] = {Side.MARKETING: [], Side.SALES: []}
    for s in version.signoffs.all():  # type: ignore[attr-defined]
        if s.content_sha == version.content_sha:  # type: ignore[attr-defined]
            out.setdefault(s.side, []).append(s)
    return out


@login_required
def playbook_page(request: HttpRequest) -> HttpResponse:
    versions = pb.playbook_version_list()
    active = next((v for v in versions if v.status == VersionStatus.ACTIVE), None)
    terms = pb.playbook_terms(active) if active else None
    # Each stage with its whole entry test: the MQL stage's threshold comes from scoring.mql_threshold, its one home.
    stages = [(s, terms.entry_criteria(s.key)) for s in terms.stages] if terms else []
    drafts = [(v, _sides(v)) for v in versions if v.status == VersionStatus.DRAFT]
    return page(request, "web/playbook.html", {"active": active, "terms": terms, "stages": stages,
                                               "versions": versions, "drafts": drafts})


@login_required
@domain_errors
def playbook_version(request: HttpRequest, number: int) -> HttpResponse:
    version = pb.playbook_version_get(number=number)
    if request.GET.get("part") == "impact":  # the draft's impact preview, loaded after the page (it rescores the history)
        return HttpResponse(impact_partial(request, version, draft_label=f"v{version.number}"))
    base = version.based_on
    if base is None:
        base = next((v for v in pb.playbook_version_list() if v.number < version.number), None)
    diff = pb.playbook_diff(base, version)
    return page(request, "web/playbook_version.html", {
        "version": version, "base": base, "diff": diff, "sides": _sides(version),
        "yaml": pb.playbook_to_yaml(version), "signoff_form": SignoffForm(),
        "is_draft": version.status == VersionStatus.DRAFT})


@roles_required(SIGNOFF_ROLES, "sign off the playbook")
@domain_errors
def playbook_signoff(request: HttpRequest, number: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("playbook_version", number=number)
    version = pb.playbook_version_get(number=number)
    form = SignoffForm(request.POST)
    comment = form.cleaned_data["comment"] if form.is_valid() else ""
    version = pbs.playbook_sign_off(version=version, user=request.user, comment=comment)  # type: ignore[arg-type]
    forget_version()
    if version.status == VersionStatus.ACTIVE:
        messages.success(request, f"Both sides have signed: v{version.number} is now the active playbook.")
    else:
        messages.success(request, f"Signed for {request.user.get_role_display()}; waiting for the other side.")  # type: ignore[union-attr]
    return redirect("playbook_version", number=version.number)
