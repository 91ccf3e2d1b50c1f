"""Background work of scoring, on the task queue's `scoring` queue (run by `smarketing worker`)."""

from __future__ import annotations

from django_tasks import task

from smarketing.scoring import services


@task(queue_name="scoring")
def contact_rescore_task(contact_id: int) -> float:
    """Rescore one contact and its account after a new touchpoint; returns the new total."""
    return services.contact_rescore(contact_id=contact_id).total


@task(queue_name="scoring")
def contacts_rescore_task(contact_ids: list[int]) -> int:
    """Rescore a set of contacts (after a small bulk import)."""
    return len(services.contacts_rescore(contact_ids=contact_ids))


@task(queue_name="scoring")
def scores_rebuild_all_task() -> int:
    """Rescore every contact and account; returns how many contacts."""
    return services.scores_rebuild_all()


@task(queue_name="scoring")
def predictive_train_task(include_leaky: bool = False, algorithm: str = "auto", user_id: int | None = None,
                          accept_suspicious: bool = False) -> int:
    """Train the predictive model in the background; returns the stored model's id."""
    from smarketing.team.models import User

    user = User.objects.filter(pk=user_id).first() if user_id else None
    return services.predictive_train(include_leaky=include_leaky, algorithm=algorithm, trained_by=user,
                                     accept_suspicious=accept_suspicious).pk
