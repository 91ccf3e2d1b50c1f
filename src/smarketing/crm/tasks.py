"""Background tasks of the CRM (django-tasks, database backend; run by `smarketing worker`)."""

from __future__ import annotations

from typing import Any

from django_tasks import task


# Why a task: the lifecycle's stage-change service writes the CRM's stage caches through crm.services, so the
# opportunity's service cannot call the lifecycle inline; it records the deal and the outcome is acted on after
# commit, idempotently (a retry or a second close records nothing new).
@task()
def opportunity_outcome_act(opportunity_id: int) -> dict[str, Any]:
    """Act on an opportunity's outcome: won makes its account and primary contact customers, lost records feedback."""
    from smarketing.lifecycle.services_outcomes import opportunity_outcome_apply

    applied = opportunity_outcome_apply(opportunity_id=opportunity_id)
    return {"opportunity_id": applied.opportunity_id, "outcome": applied.outcome,
            "stage_change_ids": applied.stage_change_ids, "feedback_created": applied.feedback_created}
