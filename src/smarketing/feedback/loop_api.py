"""API of the feedback loop, mounted at /api/loop: capture, themes, insights, briefs, outreach, consistency."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from smarketing.campaigns import brief_selectors as bsel
from smarketing.campaigns import briefs as bsvc
from smarketing.core.pagination import paginate
from smarketing.feedback import capture, insight_services, theme_selectors, theme_services
from smarketing.feedback.insight_rules import Threshold
from smarketing.feedback.loop_schemas import (
    AssignOut,
    BriefCommentIn,
    BriefCommentOut,
    BriefIn,
    BriefOut,
    BriefPatch,
    BriefSignoffIn,
    BriefSignoffOut,
    CampaignConsistencyOut,
    CaptureOut,
    FeedbackCapturedOut,
    FeedbackCaptureIn,
    InsightOut,
    InsightRefreshIn,
    InsightTransitionIn,
    OutreachIn,
    OutreachOut,
    TaskOut,
    ThemeDetailOut,
    ThemeItemsIn,
    ThemeMergeIn,
    ThemeRebuildIn,
    ThemeRenameIn,
    ThemeSplitIn,
    UnassignedOut,
)

router = Router()


# --- capture ----------------------------------------------------------------------------------------------------

@router.post("/feedback", response={201: FeedbackCapturedOut, 200: FeedbackCapturedOut})
def feedback_quick_capture(request: HttpRequest, payload: FeedbackCaptureIn) -> Any:
    """Capture one piece of customer feedback in seconds (kind guessed when empty; source id makes it idempotent)."""
    item, created = capture.feedback_capture(author=request.user, **payload.dict())
    return Status(201 if created else 200, {**_item(item), "created": created})


def _item(item: Any) -> dict[str, Any]:
    return {"id": item.pk, "kind": item.kind, "text": item.text, "occurred_at": item.occurred_at,
            "source": item.source, "source_id": item.source_id, "account_id": item.account_id}


@router.post("/capture/opportunity-losses", response=CaptureOut)
def capture_losses(request: HttpRequest) -> Any:
    """Turn lost opportunities' loss reasons into feedback items (once per opportunity)."""
    return capture.feedback_capture_opportunity_losses().__dict__


# --- themes -----------------------------------------------------------------------------------------------------

def _counts(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"label": k, "count": n} for k, n in pairs]


@router.get("/themes", response=list[theme_selectors.ThemeRow])
def themes_list(request: HttpRequest, status: str = "active") -> Any:
    """Themes with volume, sentiment and revenue at stake, largest first."""
    return theme_selectors.theme_rows(status=status)


@router.get("/themes/unassigned", response=list[UnassignedOut])
def themes_unassigned(request: HttpRequest, limit: int = 100) -> Any:
    """Feedback waiting for the next rebuild (no theme close enough, or nothing to group by)."""
    return [{"item_id": a.item_id, "text": a.item.text, "occurred_at": a.item.occurred_at, "note": a.note}
            for a in theme_selectors.unassigned_items(limit=min(limit, 1000))]


@router.post("/themes/rebuild", response={202: TaskOut})
def themes_rebuild(request: HttpRequest, payload: ThemeRebuildIn) -> Any:
    """Queue a full re-clustering on the "themes" queue (human edits are kept); poll the task or the theme list."""
    from smarketing.feedback.tasks import themes_rebuild_task

    if payload.backend:
        theme_services._check_backend(payload.backend)
    result = themes_rebuild_task.enqueue(backend=payload.backend or None, k=payload.k,
                                         actor_id=getattr(request.user, "pk", None))
    return Status(202, {"task_id": str(result.id), "queue": "themes", "status": str(result.status)})


@router.post("/themes/assign", response=AssignOut)
def themes_assign(request: HttpRequest) -> Any:
    """Place new feedback on the nearest existing theme now (the queue does this after every capture)."""
    return theme_services.themes_assign_new().__dict__


@router.get("/themes/{int:theme_id}", response=ThemeDetailOut)
def theme_detail(request: HttpRequest, theme_id: int) -> Any:
    """A theme's volume by month, sentiment, segments and personas, revenue at stake, latest items and edits."""
    d = theme_selectors.theme_detail(pk=theme_id)
    return {"theme": d.row, "volume_by_month": _counts(d.volume_by_month),
            "sentiment_split": d.sentiment_split, "segments": _counts(d.segments),
            "industries": _counts(d.industries), "buying_roles": _counts(d.buying_roles),
            "titles": _counts(d.titles), "items": d.items, "edits": d.edits}


def _row(theme_id: int) -> theme_selectors.ThemeRow:
    return theme_selectors.theme_rows(status="", ids=[theme_id])[0]


@router.post("/themes/{int:theme_id}/rename", response=theme_selectors.ThemeRow)
def theme_rename(request: HttpRequest, theme_id: int, payload: ThemeRenameIn) -> Any:
    """Name a theme; every later run keeps the name."""
    theme_services.theme_rename(theme_id=theme_id, name=payload.name, actor=request.user)
    return _row(theme_id)


@router.post("/themes/{int:theme_id}/merge", response=theme_selectors.ThemeRow)
def theme_merge(request: HttpRequest, theme_id: int, payload: ThemeMergeIn) -> Any:
    """Merge other themes into this one; later runs keep the merge."""
    theme_services.theme_merge(target_id=theme_id, source_ids=payload.source_ids, actor=request.user,
                               note=payload.note)
    return _row(theme_id)


@router.post("/themes/{int:theme_id}/split", response={201: theme_selectors.ThemeRow})
def theme_split(request: HttpRequest, theme_id: int, payload: ThemeSplitIn) -> Any:
    """Move some items into a new theme; returns the new theme."""
    new = theme_services.theme_split(theme_id=theme_id, item_ids=payload.item_ids, name=payload.name,
                                     actor=request.user, note=payload.note)
    return Status(201, _row(new.pk))


@router.post("/themes/{int:theme_id}/items", response=theme_selectors.ThemeRow)
def theme_items(request: HttpRequest, theme_id: int, payload: ThemeItemsIn) -> Any:
    """Put items in this theme by hand; they stay there across runs."""
    theme_services.theme_items_move(theme_id=theme_id, item_ids=payload.item_ids, actor=request.user,
                                    note=payload.note)
    return _row(theme_id)


# --- insights ---------------------------------------------------------------------------------------------------

def _insight(i: Any, transitions: bool = False) -> dict[str, Any]:
    out = {"id": i.pk, "title": i.title, "status": i.status, "theme_id": i.theme_id, "theme_name": i.theme.name,
           "assigned_role": i.assigned_role, "assignee": i.assignee.username if i.assignee else None,
           "reason": i.reason, "volume": i.volume, "open_pipeline": i.open_pipeline, "arr": i.arr,
           "first_signal_at": i.first_signal_at, "acknowledged_at": i.acknowledged_at, "acted_at": i.acted_at,
           "closed_at": i.closed_at, "time_to_action_days": i.time_to_action_days,
           "response_campaign_id": i.response_campaign_id, "response_note": i.response_note}
    if transitions:
        out["transitions"] = [{"from_status": t.from_status, "to_status": t.to_status,
                               "actor": t.actor.username if t.actor else None, "occurred_at": t.occurred_at,
                               "note": t.note} for t in i.transitions.all()]
    return out


@router.get("/insights", response=list[InsightOut])
def insights_list(request: HttpRequest, status: str = "", open_only: bool = False) -> Any:
    """Marketing's insights inbox, newest first."""
    return [_insight(i) for i in theme_selectors.insight_list(status=status, open_only=open_only)]


@router.post("/insights/refresh", response={201: list[InsightOut]})
def insights_refresh(request: HttpRequest, payload: InsightRefreshIn) -> Any:
    """Raise insights for themes over the threshold (defaults from settings); returns the new ones."""
    base = insight_services.default_threshold()
    threshold = Threshold(min_volume=base.min_volume if payload.min_volume is None else payload.min_volume,
                          min_revenue=base.min_revenue if payload.min_revenue is None else payload.min_revenue,
                          require_both=payload.require_both or base.require_both)
    created = insight_services.insights_refresh(threshold=threshold)
    return Status(201, [_insight(theme_selectors.insight_get(pk=i.pk)) for i in created])


@router.get("/insights/{int:insight_id}", response=InsightOut)
def insight_detail(request: HttpRequest, insight_id: int) -> Any:
    """One insight with its status history."""
    return _insight(theme_selectors.insight_get(pk=insight_id), transitions=True)


@router.post("/insights/{int:insight_id}/transition", response=InsightOut)
def insight_transition(request: HttpRequest, insight_id: int, payload: InsightTransitionIn) -> Any:
    """Move an insight: new → acknowledged → acted_on (with a campaign or message change) → closed."""
    insight_services.insight_transition(insight_id=insight_id, to_status=payload.to, actor=request.user,
                                        note=payload.note, campaign_id=payload.campaign_id,
                                        response_note=payload.response_note)
    return _insight(theme_selectors.insight_get(pk=insight_id), transitions=True)


# --- briefs -----------------------------------------------------------------------------------------------------

def _brief(b: Any, detail: bool = False) -> dict[str, Any]:
    out = {"id": b.pk, "campaign_id": b.campaign_id, "campaign": b.campaign.name, "audience": b.audience,
           "core_message": b.core_message, "proof_points": b.proof_points, "talk_track": b.talk_track,
           "objection_handling": b.objection_handling, "assets": b.assets, "content_sha": b.content_sha,
           "signed_off": bsel.brief_signed_off(b), "launched_at": b.launched_at, "created_at": b.created_at,
           "updated_at": b.updated_at}
    if detail:
        out["comments"] = [_comment(c) for c in b.comments.all()]
        out["signoffs"] = [_signoff(s, b) for s in b.signoffs.all()]
    return out


def _comment(c: Any) -> dict[str, Any]:
    return {"id": c.pk, "author": c.author.username if c.author else None, "topic": c.topic, "text": c.text,
            "recorded_at": c.recorded_at}


def _signoff(s: Any, b: Any) -> dict[str, Any]:
    return {"id": s.pk, "user": s.user.username, "content_sha": s.content_sha, "comment": s.comment,
            "recorded_at": s.recorded_at, "current": s.content_sha == b.content_sha}


@router.get("/briefs", response=list[BriefOut])
def briefs_list(request: HttpRequest, campaign_id: int | None = None) -> Any:
    """Campaign briefs, newest first."""
    return [_brief(b) for b in bsel.brief_list(campaign_id=campaign_id)]


@router.post("/briefs", response={201: BriefOut})
def brief_create(request: HttpRequest, payload: BriefIn) -> Any:
    """Write a campaign's brief: audience, core message, proof points, talk track, objections, assets."""
    data = payload.dict(exclude={"campaign_id"})
    brief = bsvc.brief_create(campaign_id=payload.campaign_id, data=data, actor=request.user)
    return Status(201, _brief(bsel.brief_get(pk=brief.pk), detail=True))


@router.get("/briefs/{int:brief_id}", response=BriefOut)
def brief_detail(request: HttpRequest, brief_id: int) -> Any:
    """A brief with sales' comments and sign-offs."""
    return _brief(bsel.brief_get(pk=brief_id), detail=True)


@router.patch("/briefs/{int:brief_id}", response=BriefOut)
def brief_update(request: HttpRequest, brief_id: int, payload: BriefPatch) -> Any:
    """Change a brief; changed content needs sales' sign-off again."""
    bsvc.brief_update(brief_id=brief_id, data=payload.dict(exclude_unset=True))
    return _brief(bsel.brief_get(pk=brief_id), detail=True)


@router.delete("/briefs/{int:brief_id}", response={204: None})
def brief_delete(request: HttpRequest, brief_id: int) -> Any:
    """Delete a brief that was never launched."""
    bsvc.brief_delete(brief_id=brief_id)
    return Status(204, None)


@router.post("/briefs/{int:brief_id}/comments", response={201: BriefCommentOut})
def brief_comment(request: HttpRequest, brief_id: int, payload: BriefCommentIn) -> Any:
    """Sales' comment on targeting or messaging, before launch."""
    c = bsvc.brief_comment_add(brief_id=brief_id, author=request.user, text=payload.text, topic=payload.topic)
    return Status(201, _comment(c))


@router.post("/briefs/{int:brief_id}/signoff", response={201: BriefSignoffOut})
def brief_signoff(request: HttpRequest, brief_id: int, payload: BriefSignoffIn) -> Any:
    """Sales signs off the brief's current content."""
    s = bsvc.brief_sign_off(brief_id=brief_id, user=request.user, comment=payload.comment)
    return Status(201, _signoff(s, bsel.brief_get(pk=brief_id)))


@router.post("/briefs/{int:brief_id}/launch", response=BriefOut)
def brief_launch(request: HttpRequest, brief_id: int) -> Any:
    """Launch the brief (needs sales' sign-off of its current content); comments close."""
    bsvc.brief_launch(brief_id=brief_id)
    return _brief(bsel.brief_get(pk=brief_id), detail=True)


# --- outreach and consistency -----------------------------------------------------------------------------------

def _outreach(o: Any, created: bool = True) -> dict[str, Any]:
    return {"id": o.pk, "rep": o.rep.username, "kind": o.kind, "subject": o.subject, "text": o.text,
            "sent_at": o.sent_at, "campaign_id": o.campaign_id, "contact_id": o.contact_id,
            "account_id": o.account_id, "created": created}


@router.post("/outreach", response={201: OutreachOut, 200: OutreachOut})
def outreach_create(request: HttpRequest, payload: OutreachIn) -> Any:
    """Record an email, call note or sequence step by the calling rep, optionally linked to a campaign."""
    o, created = bsvc.outreach_record(rep=request.user, **payload.dict())
    return Status(201 if created else 200, _outreach(o, created))


@router.get("/outreach", response=list[OutreachOut])
def outreach_list(request: HttpRequest, campaign_id: int | None = None, rep_id: int | None = None,
                  limit: int = 50, offset: int = 0) -> Any:
    """Outreach, newest first."""
    page = paginate(bsel.outreach_list(campaign_id=campaign_id, rep_id=rep_id), limit=limit, offset=offset)
    return [_outreach(o) for o in page.items]


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


@router.get("/consistency", response=list[CampaignConsistencyOut])
def consistency_list(request: HttpRequest, backend: str = "") -> Any:
    """Message consistency per campaign (mean over its outreach) with a per-rep breakdown."""
    return [_consistency(c) for c in bsel.campaign_consistency_list(backend=backend or None)]


@router.get("/consistency/reps", response=list[bsel.RepConsistency])
def consistency_reps(request: HttpRequest, backend: str = "") -> Any:
    """Each rep's consistency across every campaign they wrote outreach for."""
    return bsel.rep_consistency_list(backend=backend or None)


@router.get("/consistency/roi", response=bsel.ConsistencyRoi)
def consistency_roi(request: HttpRequest, backend: str = "") -> Any:
    """Consistency beside each campaign's ROI (linear attribution), with their rank correlation."""
    return bsel.consistency_beside_roi(backend=backend or None)


@router.get("/consistency/{int:campaign_id}", response=CampaignConsistencyOut)
def consistency_detail(request: HttpRequest, campaign_id: int, backend: str = "") -> Any:
    """One campaign's consistency with each outreach's matching and drifting sentences."""
    return _consistency(bsel.campaign_consistency_get(campaign_id=campaign_id, backend=backend or None))
