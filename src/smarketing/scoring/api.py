"""API router of scoring: explanations, account scores, the predictive model, the threshold table, rebuilds."""

from __future__ import annotations

from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Status

from smarketing.core.apitools import READ_ERRORS, WRITE_ERRORS, RecordId, request_user
from smarketing.scoring import selectors, services
from smarketing.scoring.models import PredictiveModel
from smarketing.scoring.schemas import (
    AccountScoreOut,
    ContactScoreOut,
    ModelOut,
    QueuedOut,
    ThresholdOut,
    TrainIn,
)

router = Router()


def _queued(result: Any) -> dict[str, Any]:
    return {"task_id": str(result.id), "queue": result.task.queue_name, "status": str(result.status)}


@router.get("/contacts/{contact_id}", response={200: ContactScoreOut, **READ_ERRORS},
            summary="A contact's score, explained rule by rule")
def contact_score(request: HttpRequest, contact_id: RecordId, fresh: bool = True) -> dict[str, Any]:
    """Fit, engagement, total and predictive score; which rules contributed how many points; MQL or why not."""
    return selectors.contact_score_explain(contact_id=contact_id, fresh=fresh)


@router.get("/accounts/{account_id}", response={200: AccountScoreOut, **READ_ERRORS},
            summary="An account's score: buying-committee coverage and best contact")
def account_score(request: HttpRequest, account_id: RecordId) -> dict[str, Any]:
    score = selectors.account_score_get(account_id=account_id)
    return {"account_id": score.account_id, "coverage": score.coverage, "total": score.total,
            "best_contact_id": score.best_contact_id, "engaged_roles": score.engaged_roles,
            "explanation": score.explanation, "computed_at": score.computed_at,
            "playbook_version": score.playbook_version.number}


@router.post("/train", response={201: ModelOut, 202: QueuedOut, **WRITE_ERRORS},
             summary="Train the predictive score on recorded outcomes")
def train(request: HttpRequest, payload: TrainIn) -> Status:
    """Stores the model with its card (AUC on a held-out split, calibration, what was excluded and why);
    non-leaky models become active. A held-out AUC above 0.99 is refused (422, field `auc`) unless
    `accept_suspicious`."""
    user = request_user(request)
    if payload.background:
        from smarketing.scoring.tasks import predictive_train_task

        return Status(202, _queued(predictive_train_task.enqueue(
            include_leaky=payload.include_leaky, algorithm=payload.algorithm, user_id=user.pk,
            accept_suspicious=payload.accept_suspicious)))
    return Status(201, services.predictive_train(include_leaky=payload.include_leaky, algorithm=payload.algorithm,
                                                 trained_by=user, accept_suspicious=payload.accept_suspicious))


@router.get("/models", response={200: list[ModelOut], **READ_ERRORS}, summary="Trained predictive models")
def model_list(request: HttpRequest) -> list[PredictiveModel]:
    return list(selectors.predictive_model_list()[:100])


@router.get("/models/{model_id}", response={200: ModelOut, **READ_ERRORS}, summary="One model and its card")
def model_get(request: HttpRequest, model_id: RecordId) -> PredictiveModel:
    return selectors.predictive_model_get(pk=model_id)


@router.get("/threshold", response={200: ThresholdOut, **READ_ERRORS},
            summary="Proposed MQL threshold and the volume/acceptance trade-off table")
def threshold(request: HttpRequest, score: Literal["total", "predictive"] = "total") -> dict[str, Any]:
    return selectors.threshold_proposal(score=score).as_dict()


@router.post("/rebuild", response={202: QueuedOut, **WRITE_ERRORS}, summary="Queue a full rescore")
def rebuild(request: HttpRequest) -> Status:
    from smarketing.scoring.tasks import scores_rebuild_all_task

    return Status(202, _queued(scores_rebuild_all_task.enqueue()))
