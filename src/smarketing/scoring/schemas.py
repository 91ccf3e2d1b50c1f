"""API shapes of scoring."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from smarketing.core.apitools import InSchema


class ContributionOut(Schema):
    """One explanation line. For fit and engagement rules: points = weight × playbook_points × count × decay.

    Lines stored before playbook_points, decay and weight were recorded (scores cached, or MQL stage changes
    recorded, by an older release) carry null there and a summary of the points alone.
    """

    rule_id: str
    description: str = Field(..., description="What the rule means, as the playbook words it")
    points: float = Field(..., description="Points this line added to the total (weight and decay applied)")
    count: int = Field(..., description="Touches (engagement), contacts (roles) or 1 (fit) behind the points")
    source: str = Field(..., description="fit | engagement | role | contact")
    playbook_points: float | None = Field(None, description="Points per occurrence as the playbook writes them (a "
                                                            "role's weight; the best contact's total)")
    decay: float | None = Field(None, description="Mean decay factor over the counted touches; 1 for fit, role and "
                                                  "contact lines")
    weight: float | None = Field(None, description="The playbook weight applied (fit_weight, engagement_weight or "
                                                   "contact_score_weight)")
    summary: str = Field("", description='The line in words: "Asked for a demo: 35 pts × 1 × decay 0.03 = 1.0 pts"')

    @staticmethod
    def resolve_summary(obj: Any) -> str:
        from smarketing.scoring.rules import line_summary

        return line_summary(obj) if isinstance(obj, dict) else ""


class ContactScoreOut(Schema):
    contact_id: int
    fit: float
    engagement: float
    total: float
    fit_weight: float
    engagement_weight: float
    explanation: list[ContributionOut]
    predictive: float | None = Field(None, description="Probability of converting (active model), 0–1")
    predictive_model_id: int | None
    qualifies_as_mql: bool
    mql_unmet: list[str] = Field(..., description="Why not (yet) an MQL: the threshold and entry criteria that fail")
    mql_threshold: float
    playbook_version: int
    as_of: str
    fresh: bool


class AccountScoreOut(Schema):
    account_id: int
    coverage: float
    total: float
    best_contact_id: int | None
    engaged_roles: list[str]
    explanation: list[ContributionOut]
    computed_at: datetime
    playbook_version: int


class TrainIn(InSchema):
    include_leaky: bool = Field(False, description="Use the leaky columns too: those sales writes after the handoff "
                                                   "and those found present for one class only (never activated)")
    algorithm: Literal["auto", "logistic", "gradient_boosting"] = "auto"
    accept_suspicious: bool = Field(False, description="Keep a model whose held-out AUC is above 0.99 (refused "
                                                       "otherwise: such a score usually learnt the outcome)")
    background: bool = Field(False, description="Queue the training for the worker and return at once")


class ModelOut(Schema):
    id: int
    created_at: datetime
    algorithm: str
    include_leaky: bool
    active: bool
    auc: float
    brier: float
    base_rate: float
    n_train: int
    n_test: int
    card: dict[str, Any]


class QueuedOut(Schema):
    task_id: str
    queue: str
    status: str


class ThresholdRowOut(Schema):
    threshold: float
    mql_volume: int
    mql_share: float
    accepted: int
    acceptance_rate: float | None
    opportunity_rate: float | None
    won_rate: float | None
    accepted_captured: float | None
    f1: float


class ThresholdOut(Schema):
    proposed_threshold: float | None
    rule: str
    reason: str
    basis: str
    target_acceptance_rate: float
    current_threshold: float | None
    n: int
    base_acceptance_rate: float | None
    table: list[ThresholdRowOut]
