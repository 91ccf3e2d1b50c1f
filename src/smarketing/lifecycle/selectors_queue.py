"""The handoff queue: MQLs awaiting a sales decision, most urgent first.

One selector serves the API, the CLI and the web page: each row says who the MQL is, why it scored (the score
recorded when it became an MQL, else its live score), its last touches with the rep who made them (flagged when
someone other than the owner made them: they do not stop the owner's first-touch clock), how routing assigned it,
and its SLA countdowns in business hours.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from smarketing.campaigns.enums import TouchKind
from smarketing.campaigns.selectors import touchpoint_list_for_records
from smarketing.core import clock
from smarketing.crm.models import Contact
from smarketing.crm.selectors import contact_list
from smarketing.lifecycle import permissions
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockState, SlaEventKind, Stage
from smarketing.lifecycle.models import Assignment, SlaClock, SlaEvent, StageChange
from smarketing.playbook.schema import Playbook
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.scoring import rules
from smarketing.team.selectors import user_report_ids

TOUCHES_SHOWN = 8


@dataclass(frozen=True)
class QueueTouch:
    """A touch of an MQL as the queue shows it."""

    touchpoint_id: int
    occurred_at: datetime
    kind: str
    label: str
    campaign: str
    actor: str = ""  # the rep who made a sales touch, when recorded
    by_other: bool = False  # by someone other than the owner: it does not stop the owner's first-touch clock


@dataclass(frozen=True)
class ScoreLine:
    """One rule's part of a score: the points it added to the total and, when recorded, the playbook's points for
    the rule and the decay applied to them."""

    description: str
    points: float
    count: int = 1
    playbook_points: float | None = None
    decay: float | None = None
    summary: str = ""  # in words, e.g. "Asked for a demo: 35 pts × 1 × decay 0.031 = 1.1 pts"


@dataclass(frozen=True)
class QueueScore:
    fit: float
    engagement: float
    total: float
    lines: list[ScoreLine]
    when: str  # "at MQL" (as routing recorded it) or "now" (scored live: no explanation was recorded)


@dataclass
class QueueRow:
    """One MQL waiting for a decision."""

    contact: Contact
    mql_at: datetime
    mql_change_id: int
    owner_id: int | None
    owner: str
    team: str
    routing_reason: str
    sla: dict[str, dict[str, Any]]  # the running clocks' countdowns, by clock kind
    planned: dict[str, dict[str, Any]] = field(default_factory=dict)  # deadlines by the calendar when no clock runs
    touched_by_others: list[dict[str, Any]] = field(default_factory=list)
    recorded_score: dict[str, Any] = field(default_factory=dict)
    touches: list[QueueTouch] = field(default_factory=list)
    score: QueueScore | None = None
    can_decide: bool = False  # whether the viewer may accept, reject or recycle it (`lifecycle.permissions`)

    @property
    def countdowns(self) -> dict[str, dict[str, Any]]:
        """The running clocks, else the deadlines the playbook's calendar gives from the MQL time."""
        return self.sla or self.planned

    @property
    def urgency(self) -> float:
        """Business seconds left on the most urgent open clock (infinite when none is open)."""
        left = [v["business_seconds_left"] for v in self.countdowns.values() if v["state"] in ("open", "due")]
        return min(left) if left else float("inf")

    def as_dict(self) -> dict[str, Any]:
        """The row as the API and the CLI print it."""
        c = self.contact
        return {
            "contact_id": c.pk, "name": c.name, "email": c.email, "title": c.title,
            "account": c.account.name if c.account else "", "mql_at": self.mql_at.isoformat(),
            "mql_change_id": self.mql_change_id, "score_total": self.recorded_score.get("total"),
            "score_fit": self.recorded_score.get("fit"), "score_engagement": self.recorded_score.get("engagement"),
            "owner_id": self.owner_id, "owner": self.owner, "team": self.team, "routing_reason": self.routing_reason,
            "sla": self.sla, "touched_by_others": self.touched_by_others, "can_decide": self.can_decide,
        }


def _line(x: dict[str, Any]) -> ScoreLine:
    return ScoreLine(description=x.get("description") or x.get("rule_id", ""), points=float(x.get("points", 0)),
                     count=int(x.get("count", 1)), playbook_points=x.get("playbook_points"), decay=x.get("decay"),
                     summary=rules.line_summary(x))


def _live_score(terms: Playbook, contact: Contact, touches: list[QueueTouch], now: datetime) -> QueueScore:
    account = contact.account
    facts = rules.facts_from(
        {"email": contact.email, "title": contact.title, "buying_role": contact.buying_role, "country": contact.country,
         "lead_source": contact.lead_source, "attributes": contact.attributes or {}},
        {"industry": account.industry, "employees": account.employees, "region": account.region,
         "segment": account.segment} if account else None)
    live = rules.score_contact(terms.scoring, facts, [rules.Touch(t.kind, t.occurred_at) for t in touches], now)
    return QueueScore(live.fit, live.engagement, live.total, [_line(x.as_dict()) for x in live.explanation], "now")


def handoff_queue_rows(*, owner_id: int | None = None, team: str = "", now: datetime | None = None,
                       limit: int = 200, explain: bool = True, viewer: Any = None) -> list[QueueRow]:
    """MQLs awaiting a sales decision, most urgent first, with routing reason and SLA countdowns; with `explain`,
    also each one's last touches and score explanation; with a `viewer`, whether they may decide on each."""
    now = now or clock.now()
    decider = permissions.Actor.of(viewer) if viewer is not None else None
    reports = user_report_ids(user_id=viewer.pk) if viewer is not None else frozenset()
    _, terms = playbook_active_terms()
    cal = terms.sla.calendar
    contact_map = {c.pk: c for c in contact_list(stage=Stage.MQL, owner_id=owner_id)}
    if not contact_map:
        return []
    mqls: dict[int, StageChange] = {}
    for change in (StageChange.objects.filter(contact_id__in=contact_map, to_stage=Stage.MQL)
                   .order_by("contact_id", "occurred_at", "id")):
        mqls[change.contact_id] = change  # type: ignore[index]  # latest wins
    assignments: dict[int, Assignment] = {}
    for a in Assignment.objects.filter(mql_change__in=mqls.values()).select_related("owner").order_by("assigned_at",
                                                                                                     "id"):
        assignments[a.mql_change_id] = a  # type: ignore[index]
    clocks: dict[int, dict[str, SlaClock]] = defaultdict(dict)
    for c in SlaClock.objects.filter(mql_change__in=mqls.values()).order_by("generation", "id"):
        clocks[c.mql_change_id][c.kind] = c
    # Sales touches by someone other than the owner: they did not stop the clock, but the queue shows them.
    others: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for e in (SlaEvent.objects.filter(clock__mql_change__in=mqls.values(), kind=SlaEventKind.OTHER_TOUCH)
              .order_by("occurred_at", "id").values("clock__mql_change_id", "touchpoint_id", "occurred_at",
                                                     "details")):
        others[e["clock__mql_change_id"]].append({
            "touchpoint_id": e["touchpoint_id"], "occurred_at": e["occurred_at"].isoformat(),
            "touch_kind": e["details"].get("touch_kind", ""), "actor_id": e["details"].get("actor_id"),
            "actor": e["details"].get("actor") or ""})
    rows = []
    for contact_id, change in mqls.items():
        contact = contact_map[contact_id]
        assignment = assignments.get(change.pk)
        if team and (assignment is None or assignment.team != team):
            continue
        running = {}
        for kind, c in clocks.get(change.pk, {}).items():
            resolved = c.state if c.state != ClockState.OPEN else ""
            running[kind] = {**sla_rules.countdown(cal, c.deadline, now, resolved_state=resolved).as_dict(),
                             "resolved_at": c.resolved_at}  # a met clock is shown by when it was met
        planned = {}
        if not running:
            due = sla_rules.sales_deadlines(terms.sla, change.occurred_at)
            planned = {"first_touch": sla_rules.countdown(cal, due.first_touch, now).as_dict(),
                       "decision": sla_rules.countdown(cal, due.decision, now).as_dict()}
        row_owner_id = permissions.mql_owner_id(assigned=assignment is not None,
                                                assignment_owner_id=assignment.owner_id if assignment else None,
                                                contact_owner_id=contact.owner_id)
        rows.append(QueueRow(
            contact=contact, mql_at=change.occurred_at, mql_change_id=change.pk, owner_id=row_owner_id,
            can_decide=decider is not None and permissions.can_decide(decider, owner_id=row_owner_id, reports=reports),
            owner=str(assignment.owner) if assignment and assignment.owner else "",
            team=assignment.team if assignment else "", routing_reason=assignment.reason if assignment else "",
            sla=running, planned=planned, touched_by_others=others.get(change.pk, []),
            recorded_score=change.details.get("score") or {}))
    rows.sort(key=lambda r: (r.urgency, r.mql_at, r.contact.pk))
    rows = rows[:limit]
    if explain:
        _add_touches_and_scores(rows, terms, now)
    return rows


def _add_touches_and_scores(rows: list[QueueRow], terms: Playbook, now: datetime) -> None:
    """Each row's last touches (the rep, and whether someone else made it) and the score explanation."""
    labels = dict(TouchKind.choices)
    by_contact: dict[int, list[QueueTouch]] = defaultdict(list)
    owners = {r.contact.pk: r.owner_id for r in rows}
    for t in touchpoint_list_for_records(contact_ids=list(owners)).order_by("-occurred_at", "-id"):
        owner_id = owners[t.contact_id]  # type: ignore[index]
        by_contact[t.contact_id].append(QueueTouch(  # type: ignore[index]
            touchpoint_id=t.pk, occurred_at=t.occurred_at, kind=t.kind, label=labels.get(t.kind, t.kind),
            campaign=t.campaign.name if t.campaign else "", actor=t.actor.username if t.actor else "",
            by_other=sla_rules.first_touch_by(actor_id=t.actor_id,
                                              owner_at_touch_id=owner_id) == sla_rules.OTHER_TOUCH))
    for r in rows:
        touches = by_contact.get(r.contact.pk, [])
        r.touches = touches[:TOUCHES_SHOWN]
        recorded = r.recorded_score
        if recorded.get("explanation") is not None:
            # The score that made it an MQL, as routing recorded it, so sales sees why it arrived.
            r.score = QueueScore(recorded.get("fit", 0.0), recorded.get("engagement", 0.0), recorded.get("total", 0.0),
                                 [_line(x) for x in recorded["explanation"]], "at MQL")
        else:
            r.score = _live_score(terms, r.contact, touches, now)
        r.score.lines.sort(key=lambda x: -abs(x.points))


def handoff_queue(*, owner_id: int | None = None, team: str = "", now: datetime | None = None,
                  limit: int = 200, viewer: Any = None) -> list[dict[str, Any]]:
    """The handoff queue's rows as the API and the CLI print them (see `handoff_queue_rows`)."""
    rows = handoff_queue_rows(owner_id=owner_id, team=team, now=now, limit=limit, explain=False, viewer=viewer)
    return [r.as_dict() for r in rows]
