"""Background tasks of the lifecycle engine (django-tasks, database backend; run by `smarketing worker`).

`sla_check` is a self-scheduling loop: each run handles one batch of due clocks, then enqueues either an
immediate continuation (more are due) or the next run `SLA_CHECK_INTERVAL` later. A recorded breach is acted on by
`sla_breach_act` after its transaction commits. Because a worker killed
mid-task leaves its task RUNNING for ever, `sla_check_schedule()` is called when a worker starts: it puts
a run on the queue unless one is already waiting, and each check queues the response to a breach again when
its `sla_breach_act` has been RUNNING for longer than any response takes. Every step is idempotent, so an extra
run is harmless.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django_tasks import task

from smarketing.core import clock

SLA_CHECK_INTERVAL = timedelta(seconds=60)
SLA_QUEUE = "sla"
# A response takes milliseconds; one RUNNING for this long died with its worker.
BREACH_ACT_STALE = timedelta(minutes=5)


@task(queue_name=SLA_QUEUE)
def sla_check(limit: int = 200, chain: bool = True) -> dict[str, Any]:
    """Breach due SLA clocks, judge closed marketing periods, send due webhooks; then schedule the next run."""
    from smarketing.lifecycle.services_sla_check import sla_check_run

    continued = False
    try:
        result = sla_check_run(limit=limit)
        for delivery_id in result.deliveries_due:
            webhook_deliver.enqueue(delivery_id)
        sla_breach_acts_redrive(now=result.checked_at)
        if result.remaining_due > len(result.failed):
            sla_check.enqueue(limit=limit, chain=chain)
            continued = True
        return result.as_dict()
    finally:
        # Why finally: an unexpected error must not end the loop; the next run retries after the interval.
        if chain and not continued:
            sla_check_schedule(delay=SLA_CHECK_INTERVAL, limit=limit)


# Higher priority than the check, so a breach's webhook goes out before the next batch of breaches.
@task(queue_name=SLA_QUEUE, priority=10)
def webhook_deliver(delivery_id: int) -> dict[str, Any]:
    """Send one webhook delivery attempt (it schedules its own retry on failure)."""
    from smarketing.lifecycle.services_webhooks import webhook_deliver as deliver

    row = deliver(delivery_id=delivery_id)
    if row is None:
        return {"delivery_id": delivery_id, "sent": False}
    return {"delivery_id": delivery_id, "sent": True, "status": row.status, "attempts": row.attempts,
            "last_status_code": row.last_status_code}


# Why a task: recording a breach (services_sla_clocks) must not call the handoff's routing back; the response
# runs after the breach committed, like a webhook, and is idempotent, so a retry or an extra run does nothing new.
@task(queue_name=SLA_QUEUE, priority=10)
def sla_breach_act(event_id: int, at: str = "") -> dict[str, Any]:
    """Do what the playbook says about one recorded SLA breach: notify, webhook, escalate, reassign."""
    from smarketing.lifecycle.services_sla_breach import sla_breach_act as act

    acted = act(event_id=event_id, now=datetime.fromisoformat(at) if at else None)
    return {"event_id": event_id, "acted": acted}


def sla_breach_acts_redrive(*, now: datetime) -> list[int]:
    """Queue `sla_breach_act` again for each breach whose response task died with its worker (left RUNNING for
    longer than `BREACH_ACT_STALE`) and has no other run waiting, running or done; returns the breach ids queued."""
    from django_tasks_db.models import DBTaskResult

    acts = DBTaskResult.objects.filter(task_path=sla_breach_act.module_path)
    stale = acts.filter(status="RUNNING", started_at__lt=now - BREACH_ACT_STALE)
    dead = {row["args"][0] for row in stale.values_list("args_kwargs", flat=True)}
    if not dead:
        return []
    alive = acts.exclude(pk__in=stale.values("pk")).filter(status__in=["READY", "RUNNING", "SUCCESSFUL"])
    handled = {row["args"][0] for row in alive.values_list("args_kwargs", flat=True)}
    todo = sorted(event_id for event_id in dead if event_id not in handled)
    for event_id in todo:
        sla_breach_act.enqueue(event_id, now.isoformat())
    return todo


def sla_check_schedule(*, delay: timedelta = timedelta(0), limit: int = 200) -> bool:
    """Enqueue an SLA check unless one is already waiting; returns whether one was enqueued."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(task_path=sla_check.module_path, status="READY").exists()
    if waiting:
        return False
    run = sla_check.using(run_after=clock.now() + delay) if delay else sla_check
    run.enqueue(limit=limit, chain=True)
    return True
