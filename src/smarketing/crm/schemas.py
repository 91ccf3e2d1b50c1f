"""API shapes of accounts, contacts and opportunities. Foreign keys travel as ids (`account_id`, `owner_id`)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from ninja import Field, Schema
from pydantic import AwareDatetime, field_validator
from pydantic.json_schema import SkipJsonSchema

from smarketing.core import clock
from smarketing.core.apitools import InSchema, OwnedRecordOut, Paged, PageIn, RecordOut
from smarketing.core.validation import ActivityDatetime
from smarketing.crm.enums import BuyingRole, OpportunityStage, OpportunityType, Outcome, RevenueBand
from smarketing.lifecycle.enums import Stage

SOURCE = Field("", max_length=32, description="System the record comes from (hubspot, salesforce, …)")
SOURCE_ID = Field("", max_length=128, description="Its id in that system; unique per source")


# ---------------------------------------------------------------- accounts

class AccountIn(InSchema):
    name: str = Field(..., min_length=1, max_length=200)
    domain: str = Field("", max_length=200)
    industry: str = Field("", max_length=100)
    employees: int | None = Field(None, ge=0)
    revenue_band: RevenueBand = RevenueBand.UNKNOWN
    region: str = Field("", max_length=32)
    segment: str = Field("", max_length=32)
    owner_id: int | None = None
    is_customer: bool = False
    source: str = SOURCE
    source_id: str = SOURCE_ID


class AccountPatch(InSchema):
    """Only the fields sent are changed; send `null` to clear an optional one."""

    name: str | None = Field(None, min_length=1, max_length=200)
    domain: str | None = Field(None, max_length=200)
    industry: str | None = Field(None, max_length=100)
    employees: int | None = Field(None, ge=0)
    revenue_band: RevenueBand | None = None
    region: str | None = Field(None, max_length=32)
    segment: str | None = Field(None, max_length=32)
    owner_id: int | None = None
    is_customer: bool | None = None
    source: str | None = Field(None, max_length=32)
    source_id: str | None = Field(None, max_length=128)


class AccountOut(OwnedRecordOut):
    id: int
    name: str
    domain: str
    industry: str
    employees: int | None
    revenue_band: str
    region: str
    segment: str
    lifecycle_stage: str
    is_customer: bool


class AccountFilters(PageIn):
    q: str = Field("", description="Name contains")
    industry: str = ""
    region: str = ""
    owner_id: int | None = None
    stage: Stage | None = Field(None, description="Current lifecycle stage")
    updated_after: AwareDatetime | None = Field(None, description="Changed at or after (for incremental syncs)")


class AccountPage(Paged[AccountOut]):
    pass


# ---------------------------------------------------------------- contacts

class _StageIsHistory(InSchema):
    # Why: the current stage is derived from the append-only history, so it is not writable here;
    # say where to go instead of a bare "extra field" error.
    lifecycle_stage: SkipJsonSchema[str | None] = Field(None, exclude=True)

    @field_validator("lifecycle_stage")
    @classmethod
    def _read_only(cls, v: str | None) -> None:
        raise ValueError("is history: record a move with POST /api/stage-changes")


class ContactIn(_StageIsHistory):
    account_id: int | None = None
    email: str = Field("", max_length=254)
    first_name: str = Field("", max_length=100)
    last_name: str = Field("", max_length=100)
    title: str = Field("", max_length=200)
    buying_role: BuyingRole = BuyingRole.UNKNOWN
    owner_id: int | None = None
    lead_source: str = Field("", max_length=64)
    country: str = Field("", max_length=64)
    first_seen_at: AwareDatetime | None = None
    attributes: dict[str, Any] = Field(default_factory=dict, description="Extra fields, usable by scoring rules")
    source: str = SOURCE
    source_id: str = SOURCE_ID


class ContactPatch(_StageIsHistory):
    account_id: int | None = None
    email: str | None = Field(None, max_length=254)
    first_name: str | None = Field(None, max_length=100)
    last_name: str | None = Field(None, max_length=100)
    title: str | None = Field(None, max_length=200)
    buying_role: BuyingRole | None = None
    owner_id: int | None = None
    lead_source: str | None = Field(None, max_length=64)
    country: str | None = Field(None, max_length=64)
    first_seen_at: AwareDatetime | None = None
    attributes: dict[str, Any] | None = None
    source: str | None = Field(None, max_length=32)
    source_id: str | None = Field(None, max_length=128)


class ContactOut(RecordOut):
    id: int
    account_id: int | None
    account_name: str | None = None
    email: str
    first_name: str
    last_name: str
    name: str
    title: str
    buying_role: str
    lifecycle_stage: str
    owner_id: int | None
    lead_source: str
    country: str
    first_seen_at: datetime | None
    attributes: dict[str, Any]

    @staticmethod
    def resolve_account_name(obj: Any) -> str | None:
        return obj.account.name if obj.account_id else None


class ContactFilters(PageIn):
    q: str = Field("", description="Email or last name contains")
    account_id: int | None = None
    stage: Stage | None = Field(None, description="Current lifecycle stage")
    owner_id: int | None = None
    buying_role: BuyingRole | None = None
    lead_source: str = ""
    updated_after: AwareDatetime | None = Field(None, description="Changed at or after (for incremental syncs)")


class ContactPage(Paged[ContactOut]):
    pass


# ---------------------------------------------------------------- opportunities

class OpportunityIn(InSchema):
    account_id: int | None = None
    primary_contact_id: int | None = None
    name: str = Field(..., min_length=1, max_length=200)
    type: OpportunityType = OpportunityType.NEW_BUSINESS
    amount: Decimal = Field(Decimal(0), ge=0, max_digits=14, decimal_places=2)
    currency: str = Field("USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")
    stage: OpportunityStage = OpportunityStage.DISCOVERY
    opened_at: ActivityDatetime = Field(default_factory=clock.now, description="Defaults to now")
    closed_at: ActivityDatetime | None = None
    outcome: Outcome = Outcome.OPEN
    loss_reason: str = Field("", max_length=200)
    owner_id: int | None = None
    product: str = Field("", max_length=100)
    source: str = SOURCE
    source_id: str = SOURCE_ID


class OpportunityPatch(InSchema):
    account_id: int | None = None
    primary_contact_id: int | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    type: OpportunityType | None = None
    amount: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    stage: OpportunityStage | None = None
    opened_at: ActivityDatetime | None = None
    closed_at: ActivityDatetime | None = None
    outcome: Outcome | None = None
    loss_reason: str | None = Field(None, max_length=200)
    owner_id: int | None = None
    product: str | None = Field(None, max_length=100)
    source: str | None = Field(None, max_length=32)
    source_id: str | None = Field(None, max_length=128)


class OpportunityOut(RecordOut):
    id: int
    account_id: int | None
    account_name: str | None = None
    primary_contact_id: int | None
    name: str
    type: str
    amount: float
    currency: str
    stage: str
    opened_at: datetime
    closed_at: datetime | None
    outcome: str
    loss_reason: str
    owner_id: int | None
    product: str

    @staticmethod
    def resolve_account_name(obj: Any) -> str | None:
        return obj.account.name if obj.account_id else None


class OpportunityFilters(PageIn):
    account_id: int | None = None
    outcome: Outcome | None = None
    stage: OpportunityStage | None = None
    type: OpportunityType | None = None
    owner_id: int | None = None
    updated_after: AwareDatetime | None = Field(None, description="Changed at or after (for incremental syncs)")


class OpportunityPage(Paged[OpportunityOut]):
    pass


# ---------------------------------------------------------------- record timelines

class TimelineRecordOut(Schema):
    kind: str = Field(..., description="contact | account | opportunity: the record the entry belongs to")
    id: int
    name: str


class TimelineItemOut(Schema):
    at: datetime
    kind: str = Field(..., description="stage_change | touchpoint | handoff_decision | sla_event | feedback | "
                                        "owner_change | opportunity_opened | opportunity_closed | "
                                        "opportunity_stage")
    summary: str
    actor: str = Field(..., description="Who did it: a username, or the kind of actor (playbook rule, import, "
                                        "system); empty when unknown")
    playbook_version: int | None = Field(..., description="The playbook version that judged it, where one did")
    record: TimelineRecordOut


class TimelinePage(Paged[TimelineItemOut]):
    """A record's history, newest first (an account's includes its contacts' and opportunities')."""
