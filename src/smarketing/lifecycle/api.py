"""API router of the lifecycle: the stage-change history (/api/stage-changes) and, under /api/lifecycle, the
handoff queue and decisions, SLA status and compliance, the closed-loop report, in-app notifications and webhook
endpoints. Each endpoint parses, calls one service or selector, renders."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Status

from smarketing.core.apitools import (
    READ_ERRORS,
    RESTRICTED_READ_ERRORS,
    WRITE_ERRORS,
    Limit,
    QueryId,
    RecordId,
    filters_of,
    page,
    request_user,
    resolve_refs,
)
from smarketing.core.errors import PermissionDenied, ValidationFailed
from smarketing.crm.selectors import account_get, contact_get
from smarketing.lifecycle import (
    selectors,
    selectors_queue,
    selectors_report,
    selectors_sla,
    selectors_webhooks,
    services,
    services_handoff,
    services_notifications,
    services_sla_check,
)
from smarketing.lifecycle import services_webhooks as webhooks
from smarketing.lifecycle.schemas import (
    AcceptIn,
    ComplianceOut,
    DecisionOut,
    HandoffReportOut,
    NotificationOut,
    QualifyOut,
    QueueRowOut,
    ReasonOut,
    RecycleIn,
    RejectIn,
    SlaCheckOut,
    SlaEventOut,
    SlaStatusOut,
    StageChangeFilters,
    StageChangeIn,
    StageChangeOut,
    StageChangePage,
    StageChangeRecordOut,
    WebhookDeliveryOut,
    WebhookEndpointIn,
    WebhookEndpointOut,
    WebhookEndpointPatch,
)
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.team.models import User
from smarketing.team.roles import REVOPS_ROLES, has_role

router = Router()

# ------------------------------------------------------------------------------------------ stage changes

STAGE_CHANGE_REFS = {"contact_id": contact_get, "account_id": account_get}


@router.get("/stage-changes", response={200: StageChangePage, **READ_ERRORS},
            summary="List stage changes, oldest first")
def stage_change_list(request: HttpRequest, filters: Query[StageChangeFilters]) -> dict[str, Any]:
    return page(selectors.stage_change_list(**filters_of(filters)), filters)


@router.post("/stage-changes", response={200: StageChangeRecordOut, 201: StageChangeRecordOut, **WRITE_ERRORS},
             summary="Record a stage change",
             description="Moves a contact or an account and appends the history row, stamped with the playbook "
                         "version in force at `occurred_at` (409 `conflict` when no playbook was ever active). With a `source_key` seen "
                         "before: 200 with the first row and `created: false`, nothing appended; 409 "
                         "`source_key_conflict` naming the field when the key was used for another subject, stage "
                         "or time.")
def stage_change_record(request: HttpRequest, payload: StageChangeIn) -> Status:
    if (payload.contact_id is None) == (payload.account_id is None):
        raise ValidationFailed("send exactly one of contact_id or account_id", field="contact_id")
    data = resolve_refs(payload.dict(), STAGE_CHANGE_REFS)
    change, created = services.stage_change_record_once(actor=request_user(request), **data)
    # The row's fields are validated once by StageChangeOut; `created` is not a column, so it is added after.
    out = StageChangeRecordOut.model_construct(**StageChangeOut.model_validate(change).model_dump(), created=created)
    return Status(201 if created else 200, out)



def _revops(request: HttpRequest) -> User:
    user = request_user(request)
    if not has_role(user, REVOPS_ROLES):
        raise PermissionDenied(f"user {user.username!r} has role {user.role!r}; only revops manages this",
                               field="role", record=f"user:{user.username}")
    return user


def _midnight(day: date | None) -> datetime | None:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC) if day else None


# ------------------------------------------------------------------------------------------------ handoff

DECIDERS = ("Only the MQL's owner (the rep it is assigned to), anyone the owner reports to and RevOps decide on it: "
            "anyone else gets 403 `forbidden` naming the owner (an unassigned MQL is RevOps' to route first). 409 "
            "`conflict` when the contact is not awaiting a decision.")


@router.get("/lifecycle/handoff/queue", response={200: list[QueueRowOut], **READ_ERRORS},
            summary="MQLs awaiting a decision, most urgent first, with SLA countdowns")
def handoff_queue(request: HttpRequest, owner_id: QueryId = None, team: str = "",
                  mine: bool = False) -> list[dict[str, Any]]:
    viewer = request_user(request)
    return selectors_queue.handoff_queue(owner_id=viewer.pk if mine else owner_id, team=team, viewer=viewer)


@router.get("/lifecycle/handoff/reasons", response={200: list[ReasonOut], **READ_ERRORS},
            summary="Rejection reasons from the active playbook")
def handoff_reasons(request: HttpRequest) -> list[dict[str, str]]:
    _, terms = playbook_active_terms()
    return [{"key": r.key, "label": r.label, "disposition": r.disposition} for r in terms.handoff.rejection_reasons]


@router.post("/lifecycle/handoff/{contact_id}/qualify", response={200: QualifyOut, **WRITE_ERRORS},
             summary="Qualify a contact as MQL if the playbook's criteria hold (then route it)")
def handoff_qualify(request: HttpRequest, contact_id: RecordId) -> dict[str, Any]:
    contact = services_handoff.contact_get_for_handoff(contact_id=contact_id)
    result = services_handoff.mql_qualify(contact=contact, actor=request_user(request))
    a = result.assignment
    return {"contact_id": contact_id, "qualified": result.qualified, "score": result.score, "unmet": result.unmet,
            "stage_change_id": result.stage_change.pk if result.stage_change else None,
            "assigned_to_id": a.owner_id if a else None, "routing_reason": a.reason if a else None}


@router.post("/lifecycle/handoff/{contact_id}/accept", response={200: DecisionOut, **WRITE_ERRORS},
             summary="Accept an MQL (→ SAL, or SQL) — its owner, their manager or RevOps",
             description=DECIDERS)
def handoff_accept(request: HttpRequest, contact_id: RecordId, payload: AcceptIn) -> Any:
    contact = services_handoff.contact_get_for_handoff(contact_id=contact_id)
    return services_handoff.handoff_accept(contact=contact, user=request_user(request), to_stage=payload.to_stage,
                                           note=payload.note)


@router.post("/lifecycle/handoff/{contact_id}/reject", response={200: DecisionOut, **WRITE_ERRORS},
             summary="Reject an MQL with a playbook reason (→ disqualified or recycled) — its owner, their manager or RevOps",
             description=DECIDERS)
def handoff_reject(request: HttpRequest, contact_id: RecordId, payload: RejectIn) -> Any:
    contact = services_handoff.contact_get_for_handoff(contact_id=contact_id)
    return services_handoff.handoff_reject(contact=contact, user=request_user(request), reason_key=payload.reason_key,
                                           note=payload.note, to_stage=payload.to_stage)


@router.post("/lifecycle/handoff/{contact_id}/recycle", response={200: DecisionOut, **WRITE_ERRORS},
             summary="Recycle an MQL back to nurture until a date — its owner, their manager or RevOps",
             description=DECIDERS)
def handoff_recycle(request: HttpRequest, contact_id: RecordId, payload: RecycleIn) -> Any:
    contact = services_handoff.contact_get_for_handoff(contact_id=contact_id)
    return services_handoff.handoff_recycle(contact=contact, user=request_user(request), until=payload.until,
                                            note=payload.note, reason_key=payload.reason_key)


@router.get("/lifecycle/handoff/report", response={200: HandoffReportOut, **READ_ERRORS},
            summary="Closed-loop report: acceptance and rejection per scoring rule and per campaign")
def handoff_report(request: HttpRequest, since: date | None = None, until: date | None = None) -> dict[str, Any]:
    return selectors_report.handoff_report(since=_midnight(since), until=_midnight(until))


# ---------------------------------------------------------------------------------------------------- sla


@router.get("/lifecycle/sla/status", response={200: SlaStatusOut, **READ_ERRORS},
            summary="Open and overdue clocks, recent breaches, this period's compliance, worker health")
def sla_status(request: HttpRequest) -> dict[str, Any]:
    return selectors_sla.sla_status()


@router.get("/lifecycle/sla/compliance", response={200: ComplianceOut, **READ_ERRORS},
            summary="Both sides' SLA compliance for a period, per team and per person")
def sla_compliance(request: HttpRequest, period: str = "", kind: str = "") -> dict[str, Any]:
    if period and not kind:
        kind = "week" if "-W" in period else "quarter" if "-Q" in period else "month"
    try:
        return selectors_sla.sla_compliance(period_kind=kind, period_key=period)
    except ValueError as exc:
        raise ValidationFailed(str(exc), field="period") from None


@router.get("/lifecycle/sla/events", response={200: list[SlaEventOut], **READ_ERRORS}, summary="SLA events, newest first")
def sla_events(request: HttpRequest, contact_id: QueryId = None, kind: str = "", limit: Limit = 200) -> Any:
    return selectors_sla.sla_event_list(contact_id=contact_id, kind=kind, limit=min(max(limit, 1), 1000))


@router.post("/lifecycle/sla/check", response={200: SlaCheckOut, **WRITE_ERRORS},
             summary="Run one SLA pass now (revops): breaches, marketing verdicts, due webhooks")
def sla_check(request: HttpRequest) -> dict[str, Any]:
    _revops(request)
    return services_sla_check.sla_check_once()


# ------------------------------------------------------------------------------------------ notifications


@router.get("/lifecycle/notifications", response={200: list[NotificationOut], **READ_ERRORS},
            summary="Your in-app notifications, newest first")
def notification_list(request: HttpRequest, unread: bool = False, limit: Limit = 50) -> Any:
    return selectors_sla.notification_list(user_id=request_user(request).pk, unread_only=unread,
                                           limit=min(max(limit, 1), 500))


@router.post("/lifecycle/notifications/{notification_id}/read", response={200: NotificationOut, **WRITE_ERRORS},
             summary="Mark one notification read")
def notification_read(request: HttpRequest, notification_id: RecordId) -> Any:
    return services_notifications.notification_mark_read(user=request_user(request), notification_id=notification_id)


@router.post("/lifecycle/notifications/read-all", response={200: dict[str, int], **WRITE_ERRORS},
             summary="Mark all your notifications read")
def notification_read_all(request: HttpRequest) -> dict[str, int]:
    return {"marked": services_notifications.notification_mark_all_read(user=request_user(request))}


# ----------------------------------------------------------------------------------------------- webhooks


@router.get("/lifecycle/webhooks", response={200: list[WebhookEndpointOut], **RESTRICTED_READ_ERRORS},
            summary="Webhook endpoints (revops)")
def webhook_list(request: HttpRequest) -> Any:
    _revops(request)
    return list(selectors_webhooks.webhook_endpoint_list())


@router.post("/lifecycle/webhooks", response={201: WebhookEndpointOut, **WRITE_ERRORS}, summary="Add a webhook endpoint")
def webhook_create(request: HttpRequest, payload: WebhookEndpointIn) -> Status:
    user = _revops(request)
    return Status(201, webhooks.webhook_endpoint_create(**payload.dict(), created_by=user))


@router.get("/lifecycle/webhooks/{endpoint_id}", response={200: WebhookEndpointOut, **RESTRICTED_READ_ERRORS},
            summary="One webhook endpoint")
def webhook_get(request: HttpRequest, endpoint_id: RecordId) -> Any:
    _revops(request)
    return webhooks.webhook_endpoint_get(endpoint_id=endpoint_id)


@router.patch("/lifecycle/webhooks/{endpoint_id}", response={200: WebhookEndpointOut, **WRITE_ERRORS},
              summary="Change a webhook endpoint")
def webhook_update(request: HttpRequest, endpoint_id: RecordId, payload: WebhookEndpointPatch) -> Any:
    _revops(request)
    endpoint = webhooks.webhook_endpoint_get(endpoint_id=endpoint_id)
    return webhooks.webhook_endpoint_update(endpoint=endpoint, data=payload.dict(exclude_unset=True))


@router.delete("/lifecycle/webhooks/{endpoint_id}", response={204: None, **WRITE_ERRORS}, summary="Remove a webhook endpoint")
def webhook_delete(request: HttpRequest, endpoint_id: RecordId) -> Status:
    _revops(request)
    webhooks.webhook_endpoint_delete(endpoint=webhooks.webhook_endpoint_get(endpoint_id=endpoint_id))
    return Status(204, None)


@router.get("/lifecycle/webhooks/{endpoint_id}/deliveries", response={200: list[WebhookDeliveryOut], **RESTRICTED_READ_ERRORS},
            summary="Deliveries to one endpoint, newest first")
def webhook_deliveries(request: HttpRequest, endpoint_id: RecordId, status: str = "", limit: Limit = 100) -> Any:
    _revops(request)
    webhooks.webhook_endpoint_get(endpoint_id=endpoint_id)
    return selectors_webhooks.webhook_delivery_list(endpoint_id=endpoint_id, status=status,
                                                    limit=min(max(limit, 1), 500))


@router.post("/lifecycle/webhooks/{endpoint_id}/ping", response={200: WebhookDeliveryOut, **WRITE_ERRORS},
             summary="Send a signed ping to the endpoint now and return the attempt")
def webhook_ping(request: HttpRequest, endpoint_id: RecordId) -> Any:
    _revops(request)
    return webhooks.webhook_ping(endpoint=webhooks.webhook_endpoint_get(endpoint_id=endpoint_id))


@router.post("/lifecycle/webhooks/deliveries/{delivery_id}/retry", response={200: WebhookDeliveryOut, **WRITE_ERRORS},
             summary="Retry a delivery now")
def webhook_delivery_retry(request: HttpRequest, delivery_id: RecordId) -> Any:
    _revops(request)
    return webhooks.webhook_delivery_retry_now(delivery=webhooks.webhook_delivery_get(delivery_id=delivery_id))
