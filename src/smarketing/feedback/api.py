"""API router for feedback items (append and list), themes and insights.

Themes, insights and the capture of lost deals keep the paths they were published under (/api/loop/…);
`POST /api/loop/feedback` is a documented alias of `POST /api/feedback`, kept for quick-capture clients.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import (
    READ_ERRORS,
    WRITE_ERRORS,
    Limit,
    RecordId,
    filters_of,
    page,
    request_user,
    resolve_refs,
)
from smarketing.crm.selectors import account_get, contact_get, opportunity_get
from smarketing.feedback import (
    capture,
    insight_services,
    selectors,
    services,
    theme_selectors,
)
from smarketing.feedback.insight_rules import Threshold
from smarketing.feedback.schemas import (
    AssignOut,
    CaptureOut,
    FeedbackFilters,
    FeedbackIn,
    FeedbackOut,
    FeedbackPage,
    FeedbackRecordOut,
    InsightOut,
    InsightRefreshIn,
    InsightTransitionIn,
    TaskOut,
    ThemeDetailOut,
    ThemeItemsIn,
    ThemeMergeIn,
    ThemeRebuildIn,
    ThemeRenameIn,
    ThemeSplitIn,
    UnassignedOut,
)
from smarketing.feedback.tasks import themes_rebuild_task

router = Router()

FEEDBACK_REFS = {"account_id": account_get, "contact_id": contact_get, "opportunity_id": opportunity_get}
RECORD_DESCRIPTION = ("The token's user is the author; without a `kind` it is guessed from the wording. 201 when "
                      "recorded; 200 with the first item (`created: false`) when `source` + `source_id` were seen "
                      "before.")


# ------------------------------------------------------------------------------------------------- feedback

@router.get("/feedback", response={200: FeedbackPage, **READ_ERRORS}, summary="List feedback, newest first")
def feedback_list(request: HttpRequest, filters: Query[FeedbackFilters]) -> dict[str, Any]:
    return page(selectors.feedback_list(**filters_of(filters)), filters)


@router.post("/feedback", response={200: FeedbackRecordOut, 201: FeedbackRecordOut, **WRITE_ERRORS},
             summary="Append a feedback item", description=RECORD_DESCRIPTION)
@router.post("/loop/feedback", response={200: FeedbackRecordOut, 201: FeedbackRecordOut, **WRITE_ERRORS},
             summary="Append a feedback item (alias of POST /api/feedback)", deprecated=True,
             operation_id="feedback_record_loop_alias",
             description=f"The quick-capture path, kept for its clients; the same endpoint as POST /api/feedback. "
                         f"{RECORD_DESCRIPTION}")
def feedback_record(request: HttpRequest, payload: FeedbackIn) -> Status:
    data = resolve_refs(payload.dict(), FEEDBACK_REFS)
    data["kind"] = data["kind"] or capture.guess_kind(payload.text)
    if data["account"] is None and data["opportunity"] is not None:
        data["account"] = data["opportunity"].account
    item, created = services.feedback_record(author=request_user(request), **data)
    # `created` is not a column: the row is validated once by FeedbackOut, then the flag is added.
    out = FeedbackRecordOut.model_construct(**FeedbackOut.model_validate(item).model_dump(), created=created)
    return Status(201 if created else 200, out)


@router.post("/loop/capture/opportunity-losses", response={200: CaptureOut, **WRITE_ERRORS},
             summary="Turn lost opportunities' loss reasons into feedback items (once per opportunity)")
def capture_losses(request: HttpRequest) -> Any:
    return capture.feedback_capture_opportunity_losses().__dict__


# --------------------------------------------------------------------------------------------------- themes

def _counts(pairs: list[tuple[str, int]]) -> list[dict[str, Any]]:
    return [{"label": k, "count": n} for k, n in pairs]


@router.get("/loop/themes", response={200: list[theme_selectors.ThemeRow], **READ_ERRORS},
            summary="Themes with volume, sentiment and revenue at stake, largest first")
def theme_list(request: HttpRequest, status: str = "active") -> Any:
    return theme_selectors.theme_rows(status=status)


@router.get("/loop/themes/unassigned", response={200: list[UnassignedOut], **READ_ERRORS},
            summary="Feedback waiting for the next rebuild (no theme close enough, or nothing to group by)")
def theme_unassigned(request: HttpRequest, limit: Limit = 100) -> Any:
    return [{"item_id": a.item_id, "text": a.item.text, "occurred_at": a.item.occurred_at, "note": a.note}
            for a in theme_selectors.unassigned_items(limit=min(limit, 1000))]


@router.post("/loop/themes/rebuild", response={202: TaskOut, **WRITE_ERRORS},
             summary="Queue a full re-clustering on the themes queue (human edits are kept)",
             description="Poll the task or the theme list for the result.")
def theme_rebuild(request: HttpRequest, payload: ThemeRebuildIn) -> Status:
    from smarketing.feedback import theme_services  # the clustering engine (scikit-learn) loads on use

    if payload.backend:
        theme_services._check_backend(payload.backend)
    result = themes_rebuild_task.enqueue(backend=payload.backend or None, k=payload.k,
                                         actor_id=request_user(request).pk)
    return Status(202, {"task_id": str(result.id), "queue": "themes", "status": str(result.status)})


@router.post("/loop/themes/assign", response={200: AssignOut, **WRITE_ERRORS},
             summary="Place new feedback on the nearest existing theme now (the queue does this after every capture)")
def theme_assign(request: HttpRequest) -> Any:
    from smarketing.feedback import theme_services  # the clustering engine (scikit-learn) loads on use

    return theme_services.themes_assign_new().__dict__


@router.get("/loop/themes/{int:theme_id}", response={200: ThemeDetailOut, **READ_ERRORS},
            summary="A theme's volume by month, sentiment, segments and personas, revenue at stake, items, edits")
def theme_get(request: HttpRequest, theme_id: RecordId) -> Any:
    d = theme_selectors.theme_detail(pk=theme_id)
    return {"theme": d.row, "volume_by_month": _counts(d.volume_by_month),
            "sentiment_split": d.sentiment_split, "segments": _counts(d.segments),
            "industries": _counts(d.industries), "buying_roles": _counts(d.buying_roles),
            "titles": _counts(d.titles), "items": d.items, "edits": d.edits}


def _row(theme_id: int) -> theme_selectors.ThemeRow:
    return theme_selectors.theme_rows(status="", ids=[theme_id])[0]


@router.post("/loop/themes/{int:theme_id}/rename", response={200: theme_selectors.ThemeRow, **WRITE_ERRORS},
             summary="Name a theme; every later run keeps the name")
def theme_rename(request: HttpRequest, theme_id: RecordId, payload: ThemeRenameIn) -> Any:
    from smarketing.feedback import theme_services  # the clustering engine (scikit-learn) loads on use

    theme_services.theme_rename(theme_id=theme_id, name=payload.name, actor=request_user(request))
    return _row(theme_id)


@router.post("/loop/themes/{int:theme_id}/merge", response={200: theme_selectors.ThemeRow, **WRITE_ERRORS},
             summary="Merge other themes into this one; later runs keep the merge")
def theme_merge(request: HttpRequest, theme_id: RecordId, payload: ThemeMergeIn) -> Any:
    from smarketing.feedback import theme_services  # the clustering engine (scikit-learn) loads on use

    theme_services.theme_merge(target_id=theme_id, source_ids=payload.source_ids, actor=request_user(request),
                               note=payload.note)
    return _row(theme_id)


@router.post("/loop/themes/{int:theme_id}/split", response={201: theme_selectors.ThemeRow, **WRITE_ERRORS},
             summary="Move some items into a new theme; returns the new theme")
def theme_split(request: HttpRequest, theme_id: RecordId, payload: ThemeSplitIn) -> Status:
    from smarketing.feedback import theme_services  # the clustering engine (scikit-learn) loads on use

    new = theme_services.theme_split(theme_id=theme_id, item_ids=payload.item_ids, name=payload.name,
                                     actor=request_user(request), note=payload.note)
    return Status(201, _row(new.pk))


@router.post("/loop/themes/{int:theme_id}/items", response={200: theme_selectors.ThemeRow, **WRITE_ERRORS},
             summary="Put items in this theme by hand; they stay there across runs")
def theme_items(request: HttpRequest, theme_id: RecordId, payload: ThemeItemsIn) -> Any:
    from smarketing.feedback import theme_services  # the clustering engine (scikit-learn) loads on use

    theme_services.theme_items_move(theme_id=theme_id, item_ids=payload.item_ids, actor=request_user(request),
                                    note=payload.note)
    return _row(theme_id)


# ------------------------------------------------------------------------------------------------- insights

def _insight(i: Any, transitions: bool = False) -> dict[str, Any]:
    out = {"id": i.pk, "title": i.title, "status": i.status, "theme_id": i.theme_id, "theme_name": i.theme.name,
           "assigned_role": i.assigned_role, "assignee": i.assignee.username if i.assignee else None,
           "reason": i.reason, "volume": i.volume, "open_pipeline": i.open_pipeline, "arr": i.arr,
           "revenue_at_stake": i.revenue_at_stake,
           "first_signal_at": i.first_signal_at, "acknowledged_at": i.acknowledged_at, "acted_at": i.acted_at,
           "closed_at": i.closed_at, "time_to_action_days": i.time_to_action_days,
           "response_campaign_id": i.response_campaign_id, "response_note": i.response_note}
    if transitions:
        out["transitions"] = [{"from_status": t.from_status, "to_status": t.to_status,
                               "actor": t.actor.username if t.actor else None, "occurred_at": t.occurred_at,
                               "note": t.note} for t in i.transitions.all()]
    return out


@router.get("/loop/insights", response={200: list[InsightOut], **READ_ERRORS},
            summary="Marketing's insights inbox, newest first")
def insight_list(request: HttpRequest, status: str = "", open_only: bool = False) -> Any:
    return [_insight(i) for i in theme_selectors.insight_list(status=status, open_only=open_only)]


@router.post("/loop/insights/refresh", response={201: list[InsightOut], **WRITE_ERRORS},
             summary="Raise insights for themes over the threshold (defaults from settings); returns the new ones")
def insight_refresh(request: HttpRequest, payload: InsightRefreshIn) -> Status:
    base = insight_services.default_threshold()
    threshold = Threshold(min_volume=base.min_volume if payload.min_volume is None else payload.min_volume,
                          min_revenue=base.min_revenue if payload.min_revenue is None else payload.min_revenue,
                          require_both=payload.require_both or base.require_both)
    created = insight_services.insights_refresh(threshold=threshold)
    return Status(201, [_insight(theme_selectors.insight_get(pk=i.pk)) for i in created])


@router.get("/loop/insights/{int:insight_id}", response={200: InsightOut, **READ_ERRORS},
            summary="One insight with its status history")
def insight_get(request: HttpRequest, insight_id: RecordId) -> Any:
    return _insight(theme_selectors.insight_get(pk=insight_id), transitions=True)


@router.post("/loop/insights/{int:insight_id}/transition", response={200: InsightOut, **WRITE_ERRORS},
             summary="Move an insight: new → acknowledged → acted_on (with a campaign or message change) → closed")
def insight_transition(request: HttpRequest, insight_id: RecordId, payload: InsightTransitionIn) -> Any:
    insight_services.insight_transition(insight_id=insight_id, to_status=payload.to, actor=request_user(request),
                                        note=payload.note, campaign_id=payload.campaign_id,
                                        response_note=payload.response_note)
    return _insight(theme_selectors.insight_get(pk=insight_id), transitions=True)
