"""API router for campaigns, the append-only touchpoint log, briefs, outreach and message consistency.

Briefs, outreach and consistency keep the paths they were published under (/api/loop/…), so clients do not break.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.campaigns import brief_selectors, briefs, selectors, services
from smarketing.campaigns.models import Campaign
from smarketing.campaigns.permissions import missing_signatures
from smarketing.campaigns.schemas import (
    BriefCommentIn,
    BriefCommentOut,
    BriefIn,
    BriefOut,
    BriefOverrideIn,
    BriefPatch,
    BriefSignoffIn,
    BriefSignoffOut,
    CampaignConsistencyOut,
    CampaignFilters,
    CampaignIn,
    CampaignMemberFilters,
    CampaignMemberIn,
    CampaignMemberOut,
    CampaignMemberPage,
    CampaignMemberSummaryOut,
    CampaignOut,
    CampaignPage,
    CampaignPatch,
    OutreachIn,
    OutreachOut,
    TouchpointFilters,
    TouchpointIn,
    TouchpointOut,
    TouchpointPage,
)
from smarketing.core.apitools import (
    READ_ERRORS,
    WRITE_ERRORS,
    Limit,
    Offset,
    QueryId,
    RecordId,
    filters_of,
    page,
    request_user,
    resolve_refs,
)
from smarketing.core.pagination import paginate
from smarketing.crm.selectors import contact_get
from smarketing.team.selectors import user_get

router = Router()

CAMPAIGN_REFS = {"owner_id": user_get}
TOUCHPOINT_REFS = {"contact_id": contact_get, "campaign_id": selectors.campaign_get, "actor_id": user_get}


@router.get("/campaigns", response={200: CampaignPage, **READ_ERRORS}, summary="List campaigns, newest first")
def campaign_list(request: HttpRequest, filters: Query[CampaignFilters]) -> dict[str, Any]:
    return page(selectors.campaign_list(**filters_of(filters)), filters)


@router.post("/campaigns", response={201: CampaignOut, **WRITE_ERRORS}, summary="Create a campaign")
def campaign_create(request: HttpRequest, payload: CampaignIn) -> Status:
    return Status(201, services.campaign_create(**resolve_refs(payload.dict(), CAMPAIGN_REFS)))


@router.get("/campaigns/{campaign_id}", response={200: CampaignOut, **READ_ERRORS}, summary="Get a campaign")
def campaign_get(request: HttpRequest, campaign_id: RecordId) -> Campaign:
    return selectors.campaign_get(pk=campaign_id)


@router.patch("/campaigns/{campaign_id}", response={200: CampaignOut, **WRITE_ERRORS}, summary="Update a campaign")
def campaign_update(request: HttpRequest, campaign_id: RecordId, payload: CampaignPatch) -> Campaign:
    campaign = selectors.campaign_get(pk=campaign_id)
    return services.campaign_update(campaign=campaign,
                                    data=resolve_refs(payload.dict(exclude_unset=True), CAMPAIGN_REFS))


@router.get("/touchpoints", response={200: TouchpointPage, **READ_ERRORS}, summary="List touchpoints, oldest first")
def touchpoint_list(request: HttpRequest, filters: Query[TouchpointFilters]) -> dict[str, Any]:
    return page(selectors.touchpoint_list(**filters_of(filters)), filters)


@router.post("/touchpoints", response={200: TouchpointOut, 201: TouchpointOut, **WRITE_ERRORS},
             summary="Append a touchpoint",
             description="201 when recorded; 200 with the first row when `source` + `source_id` were seen before.")
def touchpoint_record(request: HttpRequest, payload: TouchpointIn) -> Status:
    touchpoint, created = services.touchpoint_record(**resolve_refs(payload.dict(), TOUCHPOINT_REFS))
    return Status(201 if created else 200, touchpoint)


# ---------------------------------------------------------------------------------------------------- members

@router.get("/campaigns/{campaign_id}/members", response={200: CampaignMemberPage, **READ_ERRORS},
            summary="A campaign's members, oldest membership first")
def campaign_member_list(request: HttpRequest, campaign_id: RecordId,
                         filters: Query[CampaignMemberFilters]) -> dict[str, Any]:
    selectors.campaign_get(pk=campaign_id)
    return page(selectors.campaign_member_list(campaign_id=campaign_id, **filters_of(filters)), filters)


@router.post("/campaigns/{campaign_id}/members", response={200: CampaignMemberOut, 201: CampaignMemberOut,
                                                           **WRITE_ERRORS},
             summary="Add a contact to a campaign, or move its membership forward",
             description="201 when the contact joins; 200 with the membership when it was already a member (its "
                         "status only moves forward, its first response is kept).")
def campaign_member_upsert(request: HttpRequest, campaign_id: RecordId, payload: CampaignMemberIn) -> Status:
    campaign = selectors.campaign_get(pk=campaign_id)
    data = resolve_refs(payload.dict(), {"contact_id": contact_get})
    member, created = services.campaign_member_upsert(campaign=campaign, **data)
    return Status(201 if created else 200, member)


@router.get("/campaigns/{campaign_id}/members/summary", response={200: CampaignMemberSummaryOut, **READ_ERRORS},
            summary="Members per status and the pipeline and revenue of those who reached each status")
def campaign_member_summary(request: HttpRequest, campaign_id: RecordId) -> Any:
    return selectors.campaign_member_summary(campaign_id=campaign_id)


# ---------------------------------------------------------------------------------------------------- briefs

def _brief(b: Any, detail: bool = False) -> dict[str, Any]:
    out = {"id": b.pk, "campaign_id": b.campaign_id, "campaign": b.campaign.name, "version": b.version,
           "previous_id": b.previous_id, "audience": b.audience,
           "core_message": b.core_message, "proof_points": b.proof_points, "talk_track": b.talk_track,
           "objection_handling": b.objection_handling, "assets": b.assets, "content_sha": b.content_sha,
           "launched_at": b.launched_at, "created_at": b.created_at, "updated_at": b.updated_at, **_sides(b)}
    if detail:
        out["comments"] = [_comment(c) for c in b.comments.all()]
        out["signoffs"] = [_signoff(s, b) for s in b.signoffs.all()]
    return out


def _sides(b: Any) -> dict[str, Any]:
    sides = brief_selectors.brief_sides(b)
    override = brief_selectors.brief_override(b)
    return {"signed_off": sides.sales, "sales_signed": sides.sales, "marketing_signed": sides.marketing,
            "override": {"user": override.user.username, "reason": override.reason,
                         "recorded_at": override.recorded_at} if override else None,
            "ready_to_launch": not missing_signatures(sides)}


def _comment(c: Any) -> dict[str, Any]:
    return {"id": c.pk, "author": c.author.username if c.author else None, "topic": c.topic, "text": c.text,
            "recorded_at": c.recorded_at}


def _signoff(s: Any, b: Any) -> dict[str, Any]:
    return {"id": s.pk, "user": s.user.username, "side": s.side, "content_sha": s.content_sha, "comment": s.comment,
            "reason": s.reason, "recorded_at": s.recorded_at, "current": s.content_sha == b.content_sha}


BRIEF_DUTIES = ("Marketing users write, edit, revise and delete briefs (and the brief's author may); anyone else gets "
                "403 `forbidden`.")


@router.get("/loop/briefs", response={200: list[BriefOut], **READ_ERRORS}, summary="List campaign briefs, newest first")
def brief_list(request: HttpRequest, campaign_id: QueryId = None) -> Any:
    return [_brief(b) for b in brief_selectors.brief_list(campaign_id=campaign_id)]


@router.post("/loop/briefs", response={201: BriefOut, **WRITE_ERRORS}, summary="Write a campaign's brief",
             description="Audience, core message, proof points, talk track, objections, assets; one brief per "
                         "campaign (409 when it has one). Marketing users write briefs; anyone else gets 403 "
                         "`forbidden`.")
def brief_create(request: HttpRequest, payload: BriefIn) -> Status:
    data = payload.dict(exclude={"campaign_id"})
    brief = briefs.brief_create(campaign_id=payload.campaign_id, data=data, actor=request_user(request))
    return Status(201, _brief(brief_selectors.brief_get(pk=brief.pk), detail=True))


@router.get("/loop/briefs/{int:brief_id}", response={200: BriefOut, **READ_ERRORS},
            summary="A brief with sales' comments and sign-offs")
def brief_get(request: HttpRequest, brief_id: RecordId) -> Any:
    return _brief(brief_selectors.brief_get(pk=brief_id), detail=True)


@router.patch("/loop/briefs/{int:brief_id}", response={200: BriefOut, **WRITE_ERRORS},
              summary="Change a brief before launch; changed content needs both sides' sign-off again",
              description="A launched brief is frozen: 409 `brief_launched`; revise it instead "
                          "(POST /api/loop/briefs/{brief_id}/revisions). " + BRIEF_DUTIES)
def brief_update(request: HttpRequest, brief_id: RecordId, payload: BriefPatch) -> Any:
    briefs.brief_update(brief_id=brief_id, data=payload.dict(exclude_unset=True), actor=request_user(request))
    return _brief(brief_selectors.brief_get(pk=brief_id), detail=True)


@router.post("/loop/briefs/{int:brief_id}/revisions", response={201: BriefOut, **WRITE_ERRORS},
             summary="Revise a launched brief: its next version, a draft awaiting both sides' sign-off",
             description="Copies the launched version's content with the changes sent; the launched version stays "
                         "as it was. 409 when the brief is not launched (edit it) or was already revised. "
                         + BRIEF_DUTIES)
def brief_revise(request: HttpRequest, brief_id: RecordId, payload: BriefPatch) -> Status:
    revision = briefs.brief_revise(brief_id=brief_id, data=payload.dict(exclude_unset=True),
                                   actor=request_user(request))
    return Status(201, _brief(brief_selectors.brief_get(pk=revision.pk), detail=True))


@router.delete("/loop/briefs/{int:brief_id}", response={204: None, **WRITE_ERRORS},
               summary="Delete a brief that was never launched", description=BRIEF_DUTIES)
def brief_delete(request: HttpRequest, brief_id: RecordId) -> Status:
    briefs.brief_delete(brief_id=brief_id, actor=request_user(request))
    return Status(204, None)


@router.post("/loop/briefs/{int:brief_id}/comments", response={201: BriefCommentOut, **WRITE_ERRORS},
             summary="Sales' comment on targeting or messaging, before launch")
def brief_comment(request: HttpRequest, brief_id: RecordId, payload: BriefCommentIn) -> Status:
    c = briefs.brief_comment_add(brief_id=brief_id, author=request_user(request), text=payload.text,
                                 topic=payload.topic)
    return Status(201, _comment(c))


@router.post("/loop/briefs/{int:brief_id}/signoff", response={201: BriefSignoffOut, **WRITE_ERRORS},
             summary="Sign your side of the brief's current content: marketing's, or sales' (not its author)",
             description="A marketing user signs marketing's side; a sales user other than the brief's author signs "
                         "sales' side. RevOps sign neither (403; they record an override with its reason instead), "
                         "nor do viewers. 409 `brief_launched` after launch.")
def brief_signoff(request: HttpRequest, brief_id: RecordId, payload: BriefSignoffIn) -> Status:
    s = briefs.brief_sign_off(brief_id=brief_id, user=request_user(request), comment=payload.comment)
    return Status(201, _signoff(s, brief_selectors.brief_get(pk=brief_id)))


@router.post("/loop/briefs/{int:brief_id}/launch", response={200: BriefOut, **WRITE_ERRORS},
             summary="Launch the brief: both sides signed its current content, or RevOps overrode; comments close",
             description="Marketing users, the brief's author and RevOps launch (403 for anyone else); 409 "
                         "`conflict` naming the missing side when the current content lacks a signature and no "
                         "override covers it.")
def brief_launch(request: HttpRequest, brief_id: RecordId) -> Any:
    briefs.brief_launch(brief_id=brief_id, actor=request_user(request))
    return _brief(brief_selectors.brief_get(pk=brief_id), detail=True)


@router.post("/loop/briefs/{int:brief_id}/override", response={201: BriefSignoffOut, **WRITE_ERRORS},
             summary="RevOps let the brief's current content launch without a side's sign-off, saying why",
             description="Recorded as an override (who, when, why), never as a signature: the brief shows it under "
                         "`override` and `signed_off` stays false. RevOps only (403 for anyone else); 422 without "
                         "a reason; 409 when both sides already signed or the brief was launched.")
def brief_override(request: HttpRequest, brief_id: RecordId, payload: BriefOverrideIn) -> Status:
    s = briefs.brief_override(brief_id=brief_id, user=request_user(request), reason=payload.reason)
    return Status(201, _signoff(s, brief_selectors.brief_get(pk=brief_id)))


# ---------------------------------------------------------------------------------- outreach and consistency

def _outreach(o: Any, created: bool = True) -> dict[str, Any]:
    return {"id": o.pk, "rep": o.rep.username, "kind": o.kind, "subject": o.subject, "text": o.text,
            "sent_at": o.sent_at, "campaign_id": o.campaign_id, "contact_id": o.contact_id,
            "account_id": o.account_id, "created": created}


@router.post("/loop/outreach", response={201: OutreachOut, 200: OutreachOut, **WRITE_ERRORS},
             summary="Record an email, call note or sequence step by the calling rep",
             description="Optionally linked to a campaign; 200 with the first row when `source` + `source_id` "
                         "were seen before.")
def outreach_record(request: HttpRequest, payload: OutreachIn) -> Status:
    o, created = briefs.outreach_record(rep=request_user(request), **payload.dict())
    return Status(201 if created else 200, _outreach(o, created))


@router.get("/loop/outreach", response={200: list[OutreachOut], **READ_ERRORS}, summary="Outreach, newest first")
def outreach_list(request: HttpRequest, campaign_id: QueryId = None, rep_id: QueryId = None,
                  limit: Limit = 50, offset: Offset = 0) -> Any:
    p = paginate(brief_selectors.outreach_list(campaign_id=campaign_id, rep_id=rep_id), limit=limit, offset=offset)
    return [_outreach(o) for o in p.items]


def _consistency(c: Any) -> dict[str, Any]:
    def verdicts(items: list[Any], status: str) -> list[dict[str, Any]]:
        return [v.__dict__ for v in items if v.status == status]

    return {**{k: v for k, v in c.__dict__.items() if k not in {"reps", "items"}},
            "reps": c.reps,
            "items": [{"outreach_id": i.outreach_id, "rep": i.rep, "kind": i.kind, "sent_at": i.sent_at,
                       "score": i.result.score, "semantic": i.result.semantic, "coverage": i.result.coverage,
                       "covered": i.result.covered, "missing": i.result.missing,
                       "matching": verdicts(i.result.sentences, "match"),
                       "drifting": verdicts(i.result.sentences, "drift")} for i in c.items]}


@router.get("/loop/consistency", response={200: list[CampaignConsistencyOut], **READ_ERRORS},
            summary="Message consistency per campaign (mean over its outreach) with a per-rep breakdown")
def consistency_list(request: HttpRequest, backend: str = "") -> Any:
    return [_consistency(c) for c in brief_selectors.campaign_consistency_list(backend=backend or None)]


@router.get("/loop/consistency/reps", response={200: list[brief_selectors.RepConsistency], **READ_ERRORS},
            summary="Each rep's consistency across every campaign they wrote outreach for")
def consistency_reps(request: HttpRequest, backend: str = "") -> Any:
    return brief_selectors.rep_consistency_list(backend=backend or None)


@router.get("/loop/consistency/roi", response={200: brief_selectors.ConsistencyRoi, **READ_ERRORS},
            summary="Consistency beside each campaign's ROI (linear attribution), with their rank correlation")
def consistency_roi(request: HttpRequest, backend: str = "") -> Any:
    return brief_selectors.consistency_beside_roi(backend=backend or None)


@router.get("/loop/consistency/{int:campaign_id}", response={200: CampaignConsistencyOut, **READ_ERRORS},
            summary="One campaign's consistency with each outreach's matching and drifting sentences")
def consistency_get(request: HttpRequest, campaign_id: RecordId, backend: str = "") -> Any:
    return _consistency(brief_selectors.campaign_consistency_get(campaign_id=campaign_id, backend=backend or None))
