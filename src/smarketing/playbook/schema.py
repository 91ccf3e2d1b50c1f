"""The playbook's shape: one pydantic model validates the YAML both teams sign off.

Every other module reads playbook terms through these types, never through raw dicts.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from smarketing.campaigns.enums import Channel, TouchKind
from smarketing.core.validation import TimeZoneName
from smarketing.crm.enums import BuyingRole, OpportunityStage
from smarketing.lifecycle.enums import Stage

Op = Literal[">=", ">", "<=", "<", "==", "!=", "in", "not_in", "contains", "exists"]
FIELD_RE = re.compile(r"^(score\.(fit|engagement|total|predictive)|contact\.[a-z_][a-z0-9_.]*|account\.[a-z_][a-z0-9_]*)$")
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# The MQL stage's score test; its number lives only in scoring.mql_threshold.
THRESHOLD_FIELD = "score.total"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


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
    timezone: TimeZoneName = "UTC"
    working_days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    holidays: list[date] = []


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


class SystemVocabulary(_Strict):
    """How one outside system's labels read in this playbook's language (labels match ignoring case and spacing).

    A label mapped to null is known and deliberately not a stage (HubSpot's `Other`); a label absent from the map
    is reported by an import with its count, never guessed.
    """

    stages: dict[str, Stage | None] = Field(default={}, description="Lifecycle stage labels → stage key")
    lead_statuses: dict[str, Stage | None] = Field(default={}, description="Lead status values → stage key")
    sources: dict[str, Channel] = Field(default={}, description="Original source labels → source key")
    deal_stages: dict[str, OpportunityStage] = Field(default={}, description="Deal stage labels → opportunity stage")


VOCABULARY_LISTS = ("stages", "lead_statuses", "sources", "deal_stages")


def vocabulary_key(label: str) -> str:
    """The form labels are compared in: case and runs of spaces do not tell two labels apart."""
    return " ".join(label.split()).casefold()


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
    vocabulary: dict[str, SystemVocabulary] = Field(
        default={}, description="Per outside system (hubspot, salesforce, pipedrive, …): its labels → these terms")

    def stage(self, key: str) -> StageDef | None:
        return next((s for s in self.stages if s.key == key), None)

    def entry_criteria(self, key: str) -> list[Criterion]:
        """A stage's whole entry test. The MQL stage's starts with `score.total >= scoring.mql_threshold`: the
        threshold's one home is `scoring.mql_threshold`, and every reader (qualification, pages, CLI) asks here."""
        stage = self.stage(key)
        own = list(stage.entry_criteria) if stage else []
        if key == Stage.MQL:
            return [mql_threshold_criterion(self.scoring.mql_threshold), *own]
        return own


def mql_threshold_criterion(threshold: float) -> Criterion:
    """The MQL threshold as the criterion qualification tests."""
    return Criterion(field=THRESHOLD_FIELD, op=">=", value=threshold)


class PlaybookInvalid(ValueError):
    """Validation errors with dotted field paths, e.g. `scoring.fit_rules.2.points`."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        self.errors = errors
        lines = [f"{e['field']}: {e['message']}" for e in errors]
        super().__init__("playbook is invalid:\n  " + "\n  ".join(lines))


Problem = dict[str, str]


def parse(data: Any) -> Playbook:
    """Validate raw data into a Playbook or raise PlaybookInvalid naming every bad field.

    Three passes: numbers must be finite anywhere (NaN and inf cannot be stored or compared), then the shape
    (pydantic), then terms that contradict each other (`contradictions`). A criterion on the MQL stage that only
    restates `scoring.mql_threshold` (`score.total >= <the threshold>`) is dropped: the threshold says it once.
    Drafts, imports and sign-off go through here.
    """
    terms = load(data)
    problems = contradictions(terms)
    if problems:
        raise PlaybookInvalid(problems)
    return terms


def load(data: Any) -> Playbook:
    """Read stored content: finite numbers and the shape, without the contradiction checks of `parse`.

    Why: a version keeps meaning what it meant when it was signed, even if a later release refuses such terms in
    new drafts; reading it must not break the pages and the history stamped with it.
    """
    if not isinstance(data, dict):
        raise PlaybookInvalid([{"field": "(root)", "message": "the playbook must be a mapping of sections"}])
    non_finite = list(_non_finite(data, ""))
    if non_finite:
        raise PlaybookInvalid(non_finite)
    try:
        return Playbook.model_validate(_without_restated_threshold(data))
    except ValidationError as exc:
        errors = [{"field": ".".join(str(p) for p in e["loc"]) or "(root)", "message": e["msg"].removeprefix("Value error, ")} for e in exc.errors()]
        raise PlaybookInvalid(errors) from None


def _non_finite(value: Any, path: str) -> list[Problem]:
    if isinstance(value, float) and not math.isfinite(value):
        return [{"field": path or "(root)", "message": f"must be a finite number, not {value}"}]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _non_finite(v, f"{path}.{k}" if path else str(k))]
    if isinstance(value, list | tuple):
        return [p for i, v in enumerate(value) for p in _non_finite(v, f"{path}.{i}" if path else str(i))]
    return []


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _without_restated_threshold(data: dict[str, Any]) -> dict[str, Any]:
    """The data without MQL criteria `score.total >= T` where T is scoring.mql_threshold (same meaning, said twice)."""
    scoring, stages = data.get("scoring"), data.get("stages")
    threshold = _number(scoring.get("mql_threshold")) if isinstance(scoring, dict) else None
    if threshold is None or not isinstance(stages, list):
        return data

    def restates(c: Any) -> bool:
        return (isinstance(c, dict) and c.get("field") == THRESHOLD_FIELD and c.get("op") == ">="
                and _number(c.get("value")) == threshold)

    out = []
    for stage in stages:
        criteria = stage.get("entry_criteria") if isinstance(stage, dict) else None
        if isinstance(stage, dict) and stage.get("key") == Stage.MQL and isinstance(criteria, list):
            stage = {**stage, "entry_criteria": [c for c in criteria if not restates(c)]}
        out.append(stage)
    return {**data, "stages": out}


def contradictions(terms: Playbook) -> list[Problem]:
    """Terms of one playbook that cannot all hold, each named by the field to change (pure)."""
    problems: list[Problem] = []
    keys = [s.key for s in terms.stages]
    for i, key in enumerate(keys):
        if key in keys[:i]:
            problems.append({"field": f"stages.{i}.key", "message": f"stage {key.value!r} is defined twice "
                                                                     f"(first at stages.{keys.index(key)})"})
    for required in (Stage.LEAD, Stage.MQL):
        if required not in keys:
            problems.append({"field": "stages", "message": f"stage {required.value!r} must be defined"})

    threshold = terms.scoring.mql_threshold
    for i, stage in enumerate(terms.stages):
        for j, c in enumerate(stage.entry_criteria):
            if stage.key == Stage.MQL and c.field == THRESHOLD_FIELD:
                problems.append({"field": f"stages.{i}.entry_criteria.{j}", "message": (
                    f"{THRESHOLD_FIELD} {c.op} {c.value} contradicts scoring.mql_threshold ({threshold:g}): the "
                    f"MQL threshold is stated once, in scoring.mql_threshold; remove this criterion")})

    problems += _repeated("scoring.fit_rules", [r.id for r in terms.scoring.fit_rules], "rule id",
                          taken=set())
    problems += _repeated("scoring.engagement_rules", [r.id for r in terms.scoring.engagement_rules], "rule id",
                          taken={r.id for r in terms.scoring.fit_rules})
    for i, rule in enumerate(terms.scoring.fit_rules):
        for j, c in enumerate(rule.when):
            if c.field.startswith("score."):
                problems.append({"field": f"scoring.fit_rules.{i}.when.{j}.field", "message": (
                    f"a fit rule cannot test {c.field}: the score is computed from the fit rules")})
    problems += _repeated("routing.rules", [r.id for r in terms.routing.rules], "rule id", taken=set())

    sales, cal = terms.sla.sales, terms.sla.calendar
    day_hours = (datetime.combine(date.min, cal.day_end) - datetime.combine(date.min, cal.day_start)).seconds / 3600
    decision_hours = sales.decision_business_days * day_hours
    if decision_hours < sales.first_touch_business_hours:
        problems.append({"field": "sla.sales.decision_business_days", "message": (
            f"{sales.decision_business_days:g} business days ({decision_hours:g} business hours) is shorter than "
            f"sla.sales.first_touch_business_hours ({sales.first_touch_business_hours:g}): the decision deadline "
            "cannot come before the first-touch one")})

    reasons = terms.handoff.rejection_reasons
    problems += _repeated("handoff.rejection_reasons", [r.key for r in reasons], "reason key", taken=set(),
                          attr="key")
    for i, reason in enumerate(reasons):
        if reason.disposition not in keys:
            problems.append({"field": f"handoff.rejection_reasons.{i}.disposition", "message": (
                f"sends the lead to stage {reason.disposition!r}, which stages does not define")})

    seen_goals: dict[tuple[str, str], int] = {}
    for i, goal in enumerate(terms.goals):
        first = seen_goals.setdefault((goal.period, goal.segment), i)
        if first != i:
            problems.append({"field": f"goals.{i}.period", "message": (
                f"a second goal for {goal.period}" + (f" ({goal.segment})" if goal.segment else "")
                + f"; goals.{first} already sets it")})

    problems += _vocabulary_problems(terms, set(keys))

    for journey in ("new_customer", "existing_customer"):
        for i, step in enumerate(getattr(terms.ideal_journeys, journey)):
            stage_key = step.kind.removeprefix("stage:")
            if step.kind.startswith("stage:") and stage_key not in keys:
                problems.append({"field": f"ideal_journeys.{journey}.{i}.kind", "message": (
                    f"stage {stage_key!r} is not defined in stages")})
    return problems


def _vocabulary_problems(terms: Playbook, stage_keys: set[Stage]) -> list[Problem]:
    """Vocabulary entries that cannot hold: a stage the playbook does not define, or one label given twice
    (the same ignoring case and spacing) with different meanings."""
    problems: list[Problem] = []
    for system, vocabulary in terms.vocabulary.items():
        if not re.match(r"^[a-z][a-z0-9_]*$", system):
            problems.append({"field": f"vocabulary.{system}", "message": (
                "a system name is lower-case letters, digits and _ (hubspot, salesforce, pipedrive)")})
        for name in VOCABULARY_LISTS:
            seen: dict[str, tuple[str, Any]] = {}
            for label, meaning in getattr(vocabulary, name).items():
                path = f"vocabulary.{system}.{name}.{label}"
                if name in ("stages", "lead_statuses") and meaning is not None and meaning not in stage_keys:
                    problems.append({"field": path, "message": f"maps to stage {meaning.value!r}, which stages does "
                                                               "not define"})
                first = seen.setdefault(vocabulary_key(label), (label, meaning))
                if first[0] != label and first[1] != meaning:
                    problems.append({"field": path, "message": (
                        f"{label!r} is the same label as {first[0]!r} (case and spacing aside) with another meaning")})
    return problems


def _repeated(path: str, values: list[str], what: str, *, taken: set[str], attr: str = "id") -> list[Problem]:
    """Each value that already appeared earlier in the list (or in `taken`), named by its index."""
    out = []
    for i, value in enumerate(values):
        if value in values[:i] or value in taken:
            out.append({"field": f"{path}.{i}.{attr}", "message": f"{what} {value!r} is used more than once"})
    return out
