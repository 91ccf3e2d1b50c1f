"""The playbook's shape: one pydantic model validates the YAML both teams sign off.

Every other module reads playbook terms through these types, never through raw dicts.
"""

from __future__ import annotations

import re
from datetime import date, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smarketing.campaigns.enums import TouchKind
from smarketing.crm.enums import BuyingRole
from smarketing.lifecycle.enums import Stage

Op = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in", "contains", "exists"]
FIELD_RE = re.compile(r"^(score\.(fit|engagement|total|predictive)|contact\.[a-z_][a-z0-9_.]*|account\.[a-z_][a-z0-9_]*)$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Criterion(_Strict):
    """A test on one field: `score.total >= 60`, `account.industry in [Software]`, `contact.attributes.country == US`."""

    field: str
    op: Op
    value: Any = None

    @field_validator("field")
    @classmethod
    def _known_namespace(cls, v: str) -> str:
        if not FIELD_RE.match(v):
            raise ValueError("must start with score.fit|engagement|total|predictive, contact.<field> or account.<field>")
        return v

    @model_validator(mode="after")
    def _value_fits_op(self) -> Criterion:
        if self.op in ("in", "not_in") and not isinstance(self.value, list):
            raise ValueError(f"op {self.op!r} needs a list value")
        if self.op in (">=", ">", "<=", "<") and not isinstance(self.value, int | float):
            raise ValueError(f"op {self.op!r} needs a number value")
        return self


class StageDef(_Strict):
    key: Stage
    name: str
    definition: str = Field(min_length=3)
    owner_side: Literal["marketing", "sales", "shared"]
    entry_criteria: list[Criterion] = []
    entry_description: str = ""


class FitRule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str
    when: list[Criterion] = Field(min_length=1)
    points: int = Field(ge=-100, le=100)


class EngagementRule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str
    kind: TouchKind
    points: int = Field(ge=-100, le=100)
    max_count: int = Field(default=5, ge=1, le=1000, description="Touches of this kind that count, newest first")


class AccountScoring(_Strict):
    role_weights: dict[BuyingRole, int] = {}
    min_engaged_engagement: float = Field(default=10, ge=0, description="Engagement at which a contact counts as engaged")
    contact_score_weight: float = Field(default=0.5, ge=0, le=1, description="Share of the best contact's total")


class Scoring(_Strict):
    fit_rules: list[FitRule]
    engagement_rules: list[EngagementRule]
    engagement_half_life_days: float = Field(gt=0, le=3650)
    mql_threshold: float = Field(ge=0)
    fit_weight: float = Field(default=1.0, ge=0)
    engagement_weight: float = Field(default=1.0, ge=0)
    account: AccountScoring = AccountScoring()

    @model_validator(mode="after")
    def _unique_ids(self) -> Scoring:
        ids = [r.id for r in self.fit_rules] + [r.id for r in self.engagement_rules]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"rule ids must be unique; repeated: {dupes}")
        return self


class RoutingRule(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]*$")
    description: str = ""
    when: list[Criterion] = Field(min_length=1)
    team: str = Field(min_length=1)


class Routing(_Strict):
    account_owner_first: bool = True
    rules: list[RoutingRule] = []
    default_team: str = ""
    capacity_period: Literal["week", "month"] = "week"
    skip_out_of_office: bool = True


class BusinessCalendar(_Strict):
    timezone: str = "UTC"
    working_days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    holidays: list[date] = []

    @field_validator("timezone")
    @classmethod
    def _known_tz(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @model_validator(mode="after")
    def _day_order(self) -> BusinessCalendar:
        if self.day_end <= self.day_start:
            raise ValueError("day_end must be after day_start")
        if not self.working_days:
            raise ValueError("at least one working day is needed")
        return self


class BreachAction(_Strict):
    notify: list[Literal["owner", "manager", "marketing", "webhook", "in_app"]] = ["owner", "in_app", "webhook"]
    reassign: bool = False
    escalate_to_role: Literal["revops", "sales", "marketing", ""] = "revops"


class SalesSLA(_Strict):
    first_touch_business_hours: float = Field(gt=0, le=24 * 30)
    decision_business_days: float = Field(gt=0, le=60)
    on_breach: BreachAction = BreachAction()


class MarketingSLA(_Strict):
    period: Literal["week", "month", "quarter"] = "month"
    mql_volume: int = Field(ge=0)
    min_acceptance_rate: float = Field(ge=0, le=1)


class SLA(_Strict):
    calendar: BusinessCalendar = BusinessCalendar()
    sales: SalesSLA
    marketing: MarketingSLA


Disposition = Literal["recycled", "disqualified"]
# Playbooks written before reasons stated a disposition: keys meaning "not now" recycled the lead, others disqualified.
LEGACY_RECYCLE_HINTS = ("timing", "budget", "not_now", "later", "nurture")


def legacy_disposition(key: str) -> Disposition:
    """The disposition an older playbook implied by a reason's key (used only when the reason does not state it)."""
    return "recycled" if any(h in key for h in LEGACY_RECYCLE_HINTS) else "disqualified"


class Reason(_Strict):
    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    label: str
    disposition: Disposition = Field(description="Where a rejection for this reason sends the lead: recycled (back "
                                                 "to nurture, it may qualify again) or disqualified (not a fit)")

    @model_validator(mode="before")
    @classmethod
    def _disposition_default(cls, data: Any) -> Any:
        # Why: versions signed before the field existed must keep meaning what they meant when they were signed.
        if isinstance(data, dict) and "disposition" not in data and isinstance(data.get("key"), str):
            return {**data, "disposition": legacy_disposition(data["key"])}
        return data


class Handoff(_Strict):
    rejection_reasons: list[Reason] = Field(min_length=1)
    recycle_default_days: int = Field(default=90, ge=1, le=730)


class Goal(_Strict):
    period: str = Field(pattern=r"^\d{4}(-Q[1-4]|-\d{2})?$", description="2026, 2026-Q4 or 2026-11")
    revenue: float = Field(gt=0)
    currency: str = "USD"
    segment: str = ""


class JourneyStep(_Strict):
    kind: str = Field(min_length=1, description="A touch kind or a stage key, prefixed 'stage:' for stages")
    optional: bool = False


class IdealJourneys(_Strict):
    new_customer: list[JourneyStep] = Field(min_length=2)
    existing_customer: list[JourneyStep] = Field(min_length=2)


class Playbook(_Strict):
    name: str = Field(min_length=1)
    description: str = ""
    stages: list[StageDef] = Field(min_length=2)
    scoring: Scoring
    routing: Routing
    sla: SLA
    handoff: Handoff
    goals: list[Goal] = []
    ideal_journeys: IdealJourneys

    @model_validator(mode="after")
    def _stages(self) -> Playbook:
        keys = [s.key for s in self.stages]
        if len(set(keys)) != len(keys):
            raise ValueError("each stage key may appear once")
        for required in (Stage.LEAD, Stage.MQL):
            if required not in keys:
                raise ValueError(f"stage {required.value!r} must be defined")
        return self

    def stage(self, key: str) -> StageDef | None:
        return next((s for s in self.stages if s.key == key), None)


class PlaybookInvalid(ValueError):
    """Validation errors with dotted field paths, e.g. `scoring.fit_rules.2.points`."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        lines = [f"{e['field']}: {e['message']}" for e in errors]
        super().__init__("playbook is invalid:\n  " + "\n  ".join(lines))


def parse(data: Any) -> Playbook:
    """Validate raw data into a Playbook or raise PlaybookInvalid naming every bad field."""
    if not isinstance(data, dict):
        raise PlaybookInvalid([{"field": "(root)", "message": "the playbook must be a mapping of sections"}])
    try:
        return Playbook.model_validate(data)
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]
        raise PlaybookInvalid(errors) from None
