"""The SLA check: breach the sales clocks that ran out and judge marketing's closed periods.

Exactly once: each clock is processed in its own transaction under a row lock, and the database's unique
(clock, kind) constraint on SlaEvent refuses a second breach even if two workers or a restarted worker
race for the same clock. A worker killed mid-batch loses only its uncommitted transaction, which the next
pass redoes. A recorded breach is acted on after commit by the `sla_breach_act` task (`services_sla_breach`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction

from smarketing.core import clock
from smarketing.core.errors import Conflict
from smarketing.lifecycle import calendar
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.enums import ClockKind, ClockState, SlaEventKind, SlaSide
from smarketing.lifecycle.models import SlaClock, SlaEvent, StageChange
from smarketing.lifecycle.selectors_sla import marketing_period_counts
from smarketing.lifecycle.services_sla_breach import sla_breach_act
from smarketing.lifecycle.services_sla_clocks import sla_breach_act_on_commit, sla_breach_record
from smarketing.lifecycle.services_webhooks import webhook_deliver, webhook_deliveries_due
from smarketing.playbook.selectors import playbook_active_terms

logger = logging.getLogger(__name__)
DEFAULT_BATCH = 200
# A delivery's own task normally sends it at once; the check only re-drives ones left behind for this long.
DELIVERY_GRACE = timedelta(seconds=60)


def sla_clocks_due(*, now: datetime, limit: int = DEFAULT_BATCH) -> list[int]:
    """Ids of open clocks whose deadline has passed, oldest deadline first."""
    return list(SlaClock.objects.filter(state=ClockState.OPEN, deadline__lte=now).order_by("deadline", "id")
                .values_list("id", flat=True)[:limit])


@transaction.atomic
def sla_clock_breach(*, clock_id: int, now: datetime) -> SlaEvent | None:
    """Record one due clock's breach (acted on after commit); None if another run got there first or it is not due."""
    qs = SlaClock.objects.filter(pk=clock_id, state=ClockState.OPEN, deadline__lte=now)
    if connection.features.has_select_for_update_skip_locked:
        qs = qs.select_for_update(skip_locked=True)
    row = qs.first()
    if row is None:
        return None
    return sla_breach_record(row=row, now=now)


@dataclass
class SlaCheckResult:
    """What one pass of the SLA check did."""

    checked_at: datetime
    breached: int = 0
    remaining_due: int = 0
    marketing_verdicts: list[str] = field(default_factory=list)
    deliveries_due: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    breach_event_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"checked_at": self.checked_at.isoformat(), "breached": self.breached,
                "remaining_due": self.remaining_due, "marketing_verdicts": self.marketing_verdicts,
                "deliveries_due": len(self.deliveries_due), "failed_clock_ids": self.failed}


def sla_check_run(*, now: datetime | None = None, limit: int = DEFAULT_BATCH,
                  delivery_grace: timedelta = DELIVERY_GRACE) -> SlaCheckResult:
    """One pass: breach up to `limit` due clocks (one transaction each), judge closed marketing periods,
    and list webhook deliveries overdue by more than `delivery_grace` (their task died; the caller sends them)."""
    now = now or clock.now()
    result = SlaCheckResult(checked_at=now)
    for clock_id in sla_clocks_due(now=now, limit=limit):
        try:
            event = sla_clock_breach(clock_id=clock_id, now=now)
        except Exception:  # one bad clock must not stop the others; it is retried on the next pass
            logger.exception("SLA check failed on clock %s", clock_id)
            result.failed.append(clock_id)
            continue
        if event is not None:
            result.breached += 1
            result.breach_event_ids.append(event.pk)
    result.remaining_due = SlaClock.objects.filter(state=ClockState.OPEN, deadline__lte=now).count()
    verdicts, breaches = _marketing_period_judge(now=now)
    result.marketing_verdicts = verdicts
    result.breach_event_ids += breaches
    result.deliveries_due = webhook_deliveries_due(now=now - delivery_grace)
    return result


def marketing_period_judge(*, now: datetime) -> list[str]:
    """Record marketing's verdicts for the last closed period, once each; a shortfall is acted on after commit.

    MQL volume is judged when the period closes; the acceptance rate once the period's last MQLs have had
    the sales decision window (sla.sales.decision_business_days after the close) to be decided.
    """
    return _marketing_period_judge(now=now)[0]


@transaction.atomic
def _marketing_period_judge(*, now: datetime) -> tuple[list[str], list[int]]:
    """The verdicts recorded, and the ids of the breaches among them."""
    try:
        version, terms = playbook_active_terms()
    except Conflict:  # no active playbook yet: there is no commitment to judge against
        return [], []
    commitment = terms.sla.marketing
    tz = terms.sla.calendar.timezone
    current = sla_rules.period_at(commitment.period, now, tz)
    previous = sla_rules.period_of(commitment.period, current.start.fromordinal(current.start.toordinal() - 1))
    lo, hi = previous.bounds_utc(tz)
    # Why: a brand-new install must not judge periods before anything was recorded.
    if not StageChange.objects.filter(occurred_at__lt=hi).exists():
        return [], []
    done = set(SlaEvent.objects.filter(clock__isnull=True, side=SlaSide.MARKETING, period=previous.key)
               .values_list("clock_kind", flat=True))
    decided_by = calendar.add_business_days(terms.sla.calendar, hi, terms.sla.sales.decision_business_days)
    todo = [k for k in (ClockKind.MQL_VOLUME, ClockKind.ACCEPTANCE_RATE) if k not in done
            and (k == ClockKind.MQL_VOLUME or now >= decided_by)]
    if not todo:
        return [], []
    verdict = sla_rules.marketing_verdict(commitment, previous, today=current.start,
                                          **marketing_period_counts(period=previous, tz=tz))
    out: list[str] = []
    breaches: list[int] = []
    for clock_kind in todo:
        met = verdict.volume_met if clock_kind == ClockKind.MQL_VOLUME else verdict.acceptance_met
        if met is None:  # nothing decided: no acceptance rate to judge
            continue
        kind = SlaEventKind.MET if met else SlaEventKind.BREACHED
        when = hi if clock_kind == ClockKind.MQL_VOLUME else decided_by
        try:
            with transaction.atomic():
                event = SlaEvent.objects.create(kind=kind, side=SlaSide.MARKETING, clock_kind=clock_kind,
                                                period=previous.key, occurred_at=when, details=verdict.as_dict(),
                                                playbook_version=version)
        except IntegrityError:
            continue
        if kind == SlaEventKind.BREACHED:
            sla_breach_act_on_commit(event_id=event.pk, now=now)
            breaches.append(event.pk)
        out.append(f"{previous.key} {clock_kind}: {kind}")
    return out, breaches


def sla_check_once(*, now: datetime | None = None, limit: int = 10_000) -> dict[str, Any]:
    """One full pass without the worker (the CLI's `sla check`): breach, judge, act on each breach and send every
    due webhook now."""
    now = now or clock.now()
    result = sla_check_run(now=now, limit=limit, delivery_grace=timedelta(0))
    for event_id in result.breach_event_ids:
        sla_breach_act(event_id=event_id, now=now)
    sent = [webhook_deliver(delivery_id=i, now=now) for i in webhook_deliveries_due(now=now)]
    out = result.as_dict()
    out["deliveries_due"] = len(sent)
    out["webhooks_delivered"] = sum(1 for d in sent if d is not None and d.status == "delivered")
    out["webhooks_failed"] = sum(1 for d in sent if d is not None and d.status != "delivered")
    return out
