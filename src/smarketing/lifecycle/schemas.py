"""API shapes of the lifecycle: the append-only stage-change history, the handoff queue and decisions, SLA,
closed-loop report, notifications and webhooks."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from ninja import Field, Schema
from pydantic import AwareDatetime

from smarketing.core.apitools import InSchema, Paged, PageIn
from smarketing.core.validation import ActivityDatetime
from smarketing.lifecycle.enums import ActorKind, Stage, WebhookFormat
from smarketing.lifecycle.sla import MarketingVerdict


class StageChangeIn(InSchema):
    """Move one contact *or* one account to a stage; the active playbook version is stamped on the row."""

    contact_id: int | None = None
    account_id: int | None = None
    to_stage: Stage
    occurred_at: ActivityDatetime | None = Field(None, description="Defaults to now")
    reason: str = Field("", max_length=500)
    details: dict[str, Any] = Field(default_factory=dict)
    actor_kind: ActorKind = Field(ActorKind.USER, description="Who moved it; the token's user is recorded as actor")
    source_key: str = Field("", max_length=128,
                            description="Your id for this change; sending it again returns the first row (200, "
                                        "`created: false`) instead of appending a second")


class StageChangeOut(Schema):
    id: int
    contact_id: int | None
    account_id: int | None
    from_stage: str
    to_stage: str
    occurred_at: datetime
    actor_id: int | None
    actor_username: str | None = None
    actor_kind: str
    reason: str
    details: dict[str, Any]
    playbook_version: int = Field(..., description="Number of the playbook version active when it was recorded")
    source_key: str
    recorded_at: datetime

    @staticmethod
    def resolve_actor_username(obj: Any) -> str | None:
        return obj.actor.username if obj.actor_id else None

    @staticmethod
    def resolve_playbook_version(obj: Any) -> int:
        return int(obj.playbook_version.number)


class StageChangeRecordOut(StageChangeOut):
    created: bool = Field(..., description="false when the source_key was seen before and nothing was appended")


class StageChangeFilters(PageIn):
    contact_id: int | None = None
    account_id: int | None = None
    to_stage: Stage | None = None
    source_key: str | None = None
    occurred_after: AwareDatetime | None = Field(None, description="On or after (inclusive)")
    occurred_before: AwareDatetime | None = Field(None, description="Before (exclusive)")


class StageChangePage(Paged[StageChangeOut]):
    pass



class ClockCountdownOut(Schema):
    state: str = Field(..., description="open | due | met | breached | cancelled")
    business_seconds_left: int
    business_hours_left: float
    deadline: datetime


class OtherTouchOut(Schema):
    """A sales touch on the lead by someone other than its owner: it did not stop the first-touch clock."""

    touchpoint_id: int | None
    occurred_at: datetime
    touch_kind: str
    actor_id: int | None
    actor: str


class QueueRowOut(Schema):
    contact_id: int
    name: str
    email: str
    title: str
    account: str
    mql_at: datetime
    mql_change_id: int
    score_total: float | None
    score_fit: float | None
    score_engagement: float | None
    owner_id: int | None
    owner: str
    team: str
    routing_reason: str
    sla: dict[str, ClockCountdownOut]
    touched_by_others: list[OtherTouchOut] = Field(
        default_factory=list, description="Sales touches by someone other than the owner, which do not stop the "
                                          "owner's first-touch clock")
    can_decide: bool = Field(False, description="Whether you may accept, reject or recycle it: its owner, their "
                                                "manager and RevOps may; anyone else gets 403")


class QualifyOut(Schema):
    contact_id: int
    qualified: bool
    score: dict[str, Any]
    unmet: list[str]
    stage_change_id: int | None = None
    assigned_to_id: int | None = None
    routing_reason: str | None = None


class AcceptIn(InSchema):
    to_stage: Literal["sal", "sql"] = "sal"
    note: str = Field("", max_length=5000)


class RejectIn(InSchema):
    reason_key: str = Field(..., description="A key from the playbook's handoff.rejection_reasons")
    note: str = Field("", max_length=5000)
    to_stage: Literal["", "recycled", "disqualified"] = Field(
        "", description="Default: the reason's disposition in the playbook")


class RecycleIn(InSchema):
    until: date | None = Field(None, description="Back in nurture until (default: playbook's recycle_default_days)")
    note: str = Field("", max_length=5000)
    reason_key: str = ""


class DecisionOut(Schema):
    id: int
    contact_id: int
    mql_change_id: int
    decision: str
    to_stage: str
    reason_key: str
    reason_label: str
    note: str
    recycle_until: date | None
    decided_by_id: int | None
    decided_at: datetime
    playbook_version: int = Field(..., alias="playbook_version.number")


class ReasonOut(Schema):
    key: str
    label: str
    disposition: str = Field(..., description="Where a rejection with this reason sends the lead, as the playbook "
                                              "states it: recycled or disqualified")


class OutcomesOut(Schema):
    mqls: int
    decided: int
    pending: int
    accepted: int
    rejected: int
    recycled: int
    acceptance_rate: float | None
    rejection_rate: float | None
    reasons: dict[str, int]


class RuleOutcomesOut(OutcomesOut):
    rule_id: str
    description: str
    source: str
    avg_points: float


class CampaignOutcomesOut(OutcomesOut):
    campaign_id: int
    campaign: str


class HandoffReportOut(Schema):
    since: datetime | None
    until: datetime | None
    overall: OutcomesOut
    rules: list[RuleOutcomesOut]
    campaigns: list[CampaignOutcomesOut]


class SlaBucketOut(Schema):
    met: int
    breached: int
    open: int
    cancelled: int
    measured: int
    within_sla_rate: float | None
    target: float
    meets_target: bool | None


class TeamComplianceOut(Schema):
    team: str
    first_touch: SlaBucketOut
    decision: SlaBucketOut


class PersonComplianceOut(Schema):
    owner_id: int | None
    name: str
    team: str
    first_touch: SlaBucketOut
    decision: SlaBucketOut


class SalesComplianceOut(Schema):
    first_touch_business_hours: float
    decision_business_days: float
    overall: dict[str, SlaBucketOut]
    teams: list[TeamComplianceOut]
    people: list[PersonComplianceOut]


class ComplianceOut(Schema):
    period: str
    period_kind: str
    start: datetime
    end: datetime
    sales: SalesComplianceOut
    marketing: MarketingVerdict  # the pure SLA rule's verdict, served as it is


class BreachOut(Schema):
    event_id: int
    clock_kind: str
    contact_id: int | None
    contact: str
    owner: str
    team: str
    deadline: datetime | None


class WorkerOut(Schema):
    last_sla_check_at: datetime | None
    next_sla_check_at: datetime | None


class SlaStatusOut(Schema):
    now: datetime
    open_clocks: int
    overdue_unprocessed: int
    recent_breaches: list[BreachOut]
    worker: WorkerOut
    compliance: ComplianceOut


class SlaEventOut(Schema):
    id: int
    kind: str
    side: str
    clock_kind: str
    clock_id: int | None
    contact_id: int | None
    owner_id: int | None
    team: str
    deadline: datetime | None
    occurred_at: datetime
    period: str
    details: dict[str, Any]
    touchpoint_id: int | None = None


class SlaCheckOut(Schema):
    checked_at: datetime
    breached: int
    remaining_due: int
    marketing_verdicts: list[str]
    deliveries_due: int
    failed_clock_ids: list[int]
    webhooks_delivered: int
    webhooks_failed: int


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    contact_id: int | None
    created_at: datetime
    read_at: datetime | None


class WebhookEndpointIn(InSchema):
    url: str = Field(..., max_length=500)
    secret: str = Field(..., min_length=16, max_length=200)
    description: str = Field("", max_length=200)
    event_types: list[str] = Field([], description="sla.breached, sla.marketing_breached, lead.reassigned; [] = all")
    active: bool = True
    format: WebhookFormat = Field(WebhookFormat.SMARKETING, description="smarketing: the signed JSON event; slack: a "
                                  "Slack incoming-webhook message ({\"text\", \"blocks\"}), signed the same way")


class WebhookEndpointPatch(InSchema):
    url: str | None = Field(None, max_length=500)
    secret: str | None = Field(None, min_length=16, max_length=200)
    description: str | None = Field(None, max_length=200)
    event_types: list[str] | None = None
    active: bool | None = None
    format: WebhookFormat | None = None


class WebhookEndpointOut(Schema):
    id: int
    url: str
    description: str
    event_types: list[str]
    active: bool
    format: str
    created_at: datetime


class WebhookDeliveryOut(Schema):
    id: int
    endpoint_id: int
    event_type: str
    idempotency_key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    max_attempts: int
    next_attempt_at: datetime | None
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str
    delivered_at: datetime | None
    created_at: datetime


# ------------------------------------------------------------------------------------------ history corrections

class CorrectionIn(InSchema):
    reason: str = Field(..., min_length=5, max_length=500, description="Why the row is wrong (kept with the correction)")


class CorrectionOut(Schema):
    """A recorded reversal of one history row: the row stays, marked, and drops out of every figure."""

    id: int
    record: str = Field(..., description="stage_change:<id> or touchpoint:<id>")
    reason: str
    corrected_by_id: int
    corrected_by_username: str
    recorded_at: datetime

    @staticmethod
    def resolve_record(obj: Any) -> str:
        if hasattr(obj, "stage_change_id"):
            return f"stage_change:{obj.stage_change_id}"
        return f"touchpoint:{obj.touchpoint_id}"

    @staticmethod
    def resolve_corrected_by_username(obj: Any) -> str:
        return str(obj.corrected_by.username)
