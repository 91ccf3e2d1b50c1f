"""API shapes of playbook versions, sign-offs and diffs. The content itself is validated by playbook.schema."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from smarketing.core.apitools import InSchema
from smarketing.playbook.enums import Side


class SideStatus(Schema):
    """Whether a side has signed the version's *current* content (a signature on older content is stale)."""

    signed: bool
    by: str | None = None
    at: datetime | None = None
    comment: str = ""


class SignoffOut(Schema):
    side: str
    username: str
    signed_at: datetime
    comment: str
    current: bool = Field(..., description="False when the draft changed after this signature")


class PlaybookVersionOut(Schema):
    number: int
    status: str
    notes: str
    content_sha: str
    bootstrap: bool = Field(..., description="The shipped default adopted before any sign-off")
    based_on: int | None = Field(None, description="Number of the version this draft started from")
    created_by: str | None = None
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None
    superseded_at: datetime | None
    signoff: dict[str, SideStatus] = Field(..., description="Per side (marketing, sales)")
    awaiting: list[str] = Field(..., description="Sides that still have to sign (drafts only)")
    signoffs: list[SignoffOut]

    @staticmethod
    def resolve_based_on(obj: Any) -> int | None:
        return obj.based_on.number if obj.based_on_id else None

    @staticmethod
    def resolve_created_by(obj: Any) -> str | None:
        return obj.created_by.username if obj.created_by_id else None

    @staticmethod
    def resolve_signoff(obj: Any) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for side in Side.values:
            current = [s for s in obj.signoffs.all() if s.side == side and s.content_sha == obj.content_sha]
            first = current[0] if current else None
            out[side] = {"signed": first is not None, "by": first.user.username if first else None,
                         "at": first.signed_at if first else None, "comment": first.comment if first else ""}
        return out

    @staticmethod
    def resolve_awaiting(obj: Any) -> list[str]:
        if obj.status != "draft":
            return []
        signed = {s.side for s in obj.signoffs.all() if s.content_sha == obj.content_sha}
        return [side for side in Side.values if side not in signed]

    @staticmethod
    def resolve_signoffs(obj: Any) -> list[dict[str, Any]]:
        return [{"side": s.side, "username": s.user.username, "signed_at": s.signed_at, "comment": s.comment,
                 "current": s.content_sha == obj.content_sha} for s in obj.signoffs.all()]


class PlaybookVersionDetailOut(PlaybookVersionOut):
    content: dict[str, Any] = Field(..., description="The validated playbook (the same terms as the YAML export)")


class PlaybookDraftIn(InSchema):
    """A JSON body for a draft: the playbook under `content` (a YAML body is the playbook file itself)."""

    content: dict[str, Any]
    notes: str = Field("", description="What changed and why")
    based_on: int | None = Field(None, description="Version this draft starts from; defaults to the active one")


class PlaybookDraftUpdateIn(InSchema):
    content: dict[str, Any]
    notes: str | None = Field(None, description="Replaces the notes when sent")


class SignoffIn(InSchema):
    comment: str = Field("", max_length=2000)


class ChangeOut(Schema):
    path: str = Field(..., description="e.g. scoring.fit_rules[fit-industry].points")
    kind: str = Field(..., description="added | removed | changed")
    before: Any = None
    after: Any = None


class PlaybookDiffOut(Schema):
    from_version: int
    to_version: int
    changes: list[ChangeOut]
    unified: str = Field(..., description="Unified diff of the two YAML exports")


class ImpactSideOut(Schema):
    version: int | None = Field(..., description="Version number (null for unsaved terms)")
    status: str
    threshold: float = Field(..., description="This side's scoring.mql_threshold")
    mqls: int = Field(..., description="Contacts at or above the threshold, scored as of their decision")
    mqls_per_month: float | None
    acceptance_rate: float | None = Field(..., description="Share of those MQLs sales accepted")
    opportunity_rate: float | None = Field(..., description="Share of those MQLs that became opportunities")
    won_rate: float | None


class CommitmentOut(Schema):
    period: str
    mql_volume: int = Field(..., description="The draft's marketing SLA: MQLs promised per period")
    expected_volume: float | None = Field(..., description="MQLs per period the draft's terms would have produced")
    meets_volume: bool | None
    min_acceptance_rate: float
    meets_acceptance: bool | None


class ImpactDeltaOut(Schema):
    mqls: float | None
    mqls_per_month: float | None
    acceptance_rate: float | None
    opportunity_rate: float | None
    won_rate: float | None


class PlaybookImpactOut(Schema):
    """A version's terms applied to the last year of history, next to the active version's."""

    active: ImpactSideOut
    draft: ImpactSideOut
    delta: ImpactDeltaOut = Field(..., description="Draft minus active")
    contacts: int = Field(..., description="Contacts decided (or last touched) in the window")
    months: float | None
    history_from: str | None
    history_to: str | None
    scoring_changed: bool = Field(..., description="The draft changes scoring rules or weights, not only the "
                                                   "threshold (every contact is rescored under its rules)")
    commitment: CommitmentOut
    basis: str
