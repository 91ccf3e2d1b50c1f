"""API router for RevOps' corrections of bad history rows (stage changes and touchpoints): a recorded reversal
with who and why, never an in-place edit."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from smarketing.campaigns.services import touchpoint_correct
from smarketing.core.apitools import WRITE_ERRORS, RecordId, request_user
from smarketing.lifecycle.schemas import CorrectionIn, CorrectionOut
from smarketing.lifecycle.services_corrections import stage_change_correct

router = Router()

DESCRIPTION = ("RevOps only. The row stays in the history, marked corrected (who, when, why), and drops out of "
               "every figure; correcting it again is a 409.")


@router.post("/stage-changes/{stage_change_id}/correction", response={201: CorrectionOut, **WRITE_ERRORS},
             summary="Correct a stage change that should not have been recorded (RevOps)", description=DESCRIPTION)
def stage_change_correction(request: HttpRequest, stage_change_id: RecordId, payload: CorrectionIn) -> Any:
    correction = stage_change_correct(stage_change_id=stage_change_id, reason=payload.reason,
                                      corrected_by=request_user(request))
    return Status(201, correction)


@router.post("/touchpoints/{touchpoint_id}/correction", response={201: CorrectionOut, **WRITE_ERRORS},
             summary="Correct a touchpoint that should not have been recorded (RevOps)", description=DESCRIPTION)
def touchpoint_correction(request: HttpRequest, touchpoint_id: RecordId, payload: CorrectionIn) -> Any:
    correction = touchpoint_correct(touchpoint_id=touchpoint_id, reason=payload.reason,
                                    corrected_by=request_user(request))
    return Status(201, correction)
