"""A campaign brief's approvals from its campaign page: sign your side, launch, or (RevOps) override with a reason.

Each action calls the campaigns app's brief service, which decides who may do it (`campaigns.permissions`); a
refusal is the 403 page, any other problem is said on the campaign page.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from smarketing.campaigns import permissions
from smarketing.campaigns.brief_selectors import brief_get, brief_sides
from smarketing.campaigns.briefs import brief_launch, brief_override, brief_sign_off
from smarketing.campaigns.models import CampaignBrief
from smarketing.core.errors import DomainError, NotFound, PermissionDenied
from smarketing.web.access import WRITE_ROLES, forbidden, roles_required
from smarketing.web.data.common import forget_version

ACTIONS = ("signoff", "launch", "override")


def brief_offers(user: Any, brief: CampaignBrief | None) -> dict[str, Any]:
    """What the campaign page offers this user on the brief: the side they would sign, launch, override."""
    if brief is None or brief.launched_at is not None or not getattr(user, "is_authenticated", False):
        return {}
    actor = permissions.Actor.of(user)
    side, _ = permissions.signing_side(actor, author_id=brief.created_by_id)
    sides = brief_sides(brief)
    return {"side": side, "launch": not permissions.launch_refusal(actor, author_id=brief.created_by_id),
            "ready": not permissions.missing_signatures(sides),
            "override": not permissions.override_refusal(actor) and not (sides.marketing and sides.sales)}


@require_POST
@roles_required(WRITE_ROLES, "sign, launch or override a brief")
def brief_act(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    if action not in ACTIONS:
        raise Http404(f"no brief action {action!r}")
    try:
        brief = brief_get(pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from None
    user: Any = request.user
    try:
        if action == "signoff":
            row = brief_sign_off(brief_id=pk, user=user, comment=request.POST.get("comment", ""))
            done = f"Signed for {row.get_side_display().lower()}."
        elif action == "launch":
            brief_launch(brief_id=pk, actor=user)
            done = f"Brief v{brief.version} launched."
        else:
            brief_override(brief_id=pk, user=user, reason=request.POST.get("reason", ""))
            done = "Override recorded with its reason; the brief may launch."
    except PermissionDenied as exc:
        return forbidden(request, exc.message)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        forget_version()
        messages.success(request, done)
    return redirect("campaign", pk=brief.campaign_id)
