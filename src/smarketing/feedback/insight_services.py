"""Writes of the insights inbox: raise insights from themes over the threshold, move them through their states."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction

from smarketing.campaigns.models import Campaign
from smarketing.core import clock
from smarketing.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from smarketing.feedback.enums import InsightStatus, ThemeStatus
from smarketing.feedback.insight_rules import Threshold, transition_error
from smarketing.feedback.models import Insight, InsightTransition, ThemeAssignment
from smarketing.feedback.theme_selectors import theme_rows
from smarketing.team.roles import INSIGHT_ROLES, has_role


def default_threshold() -> Threshold:
    """The threshold from settings.SMARKETING (INSIGHT_MIN_VOLUME, INSIGHT_MIN_REVENUE, INSIGHT_REQUIRE_BOTH)."""
    conf = settings.SMARKETING
    return Threshold(min_volume=int(conf.get("INSIGHT_MIN_VOLUME", 10)),
                     min_revenue=Decimal(str(conf.get("INSIGHT_MIN_REVENUE", 0))),
                     require_both=bool(conf.get("INSIGHT_REQUIRE_BOTH", False)))


@transaction.atomic
def insights_refresh(*, threshold: Threshold | None = None) -> list[Insight]:
    """Open an insight for every active theme over the threshold that has no insight still open.

    A theme whose earlier insight was closed is raised again only by the feedback that arrived after it closed.
    """
    threshold = threshold or default_threshold()
    created = []
    rows = theme_rows(status=ThemeStatus.ACTIVE)
    latest: dict[int, Insight] = {}
    for ins in Insight.objects.filter(theme_id__in=[r.id for r in rows]).order_by("created_at", "id"):
        latest[ins.theme_id] = ins
    for row in rows:
        prev = latest.get(row.id)
        if prev is not None and prev.status != InsightStatus.CLOSED:
            continue
        volume = row.volume
        first = row.first_signal_at
        if prev is not None:
            newer = ThemeAssignment.objects.filter(theme_id=row.id, item__occurred_at__gt=prev.closed_at)
            volume = newer.count()
            first = min(newer.values_list("item__occurred_at", flat=True), default=None)
        reasons = threshold.reasons(volume=volume, revenue=row.revenue.at_stake)
        if not reasons or first is None:
            continue
        insight = Insight.objects.create(
            theme_id=row.id, title=f"{row.name}: {volume} items, {row.revenue.accounts} accounts",
            reason="; ".join(reasons), volume=volume, open_pipeline=row.revenue.open_pipeline, arr=row.revenue.arr,
            first_signal_at=first)
        InsightTransition.objects.create(insight=insight, from_status="", to_status=InsightStatus.NEW,
                                         occurred_at=clock.now(), note=insight.reason)
        created.append(insight)
    return created


def _check_actor(actor: Any, insight: Insight) -> None:
    if actor is None:
        return
    if not has_role(actor, INSIGHT_ROLES):
        raise PermissionDenied(f"insight {insight.pk} is assigned to marketing; user {actor.username!r} has role "
                               f"{actor.role!r}", field="role", record=f"insight:{insight.pk}")


@transaction.atomic
def insight_transition(*, insight_id: int, to_status: str, actor: Any = None, note: str = "",
                       campaign_id: int | None = None, response_note: str = "") -> Insight:
    """Move an insight to its next status, recording who and when; invalid moves are refused with the reason."""
    insight = Insight.objects.select_for_update().filter(pk=insight_id).first()
    if insight is None:
        raise NotFound(f"insight {insight_id} does not exist", record=f"insight:{insight_id}")
    _check_actor(actor, insight)
    campaign = None
    if campaign_id is not None:
        campaign = Campaign.objects.filter(pk=campaign_id).first()
        if campaign is None:
            raise NotFound(f"campaign {campaign_id} does not exist", field="campaign_id",
                           record=f"campaign:{campaign_id}")
    has_response = bool(campaign or response_note.strip() or insight.response_campaign_id or insight.response_note)
    error = transition_error(current=insight.status, target=to_status, note=note, has_response=has_response)
    if error:
        cls = ValidationFailed if to_status not in InsightStatus.values or "needs" in error else Conflict
        raise cls(f"insight {insight_id}: {error}", field="status", record=f"insight:{insight_id}")
    now = clock.now()
    changed = ["status", "updated_at"]
    if to_status == InsightStatus.ACKNOWLEDGED:
        insight.acknowledged_at = now
        changed.append("acknowledged_at")
    elif to_status == InsightStatus.ACTED_ON:
        insight.acted_at = now
        changed.append("acted_at")
    elif to_status == InsightStatus.CLOSED:
        insight.closed_at = now
        changed.append("closed_at")
    if campaign is not None:
        insight.response_campaign = campaign
        changed.append("response_campaign")
    if response_note.strip():
        insight.response_note = response_note.strip()
        changed.append("response_note")
    if actor is not None and insight.assignee_id is None:
        insight.assignee = actor
        changed.append("assignee")
    InsightTransition.objects.create(insight=insight, from_status=insight.status, to_status=to_status, actor=actor,
                                     occurred_at=now, note=note.strip())
    insight.status = to_status
    insight.save(update_fields=changed)
    return insight
