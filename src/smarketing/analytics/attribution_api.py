"""Attribution and ROI endpoints, mounted at /api/analytics.

GET takes the spec as query parameters, POST as a JSON body; both run the same registered query kind.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router
from ninja import Schema as NinjaSchema

from smarketing.analytics.enums import AttributionModel
from smarketing.analytics.queries.attribution import (
    AttributionQuery,
    AttributionResult,
    PathsAttributionResult,
    attribute_paths,
)
from smarketing.analytics.queries.attribution_opportunity import OpportunityAttributionResult
from smarketing.analytics.queries.roi import RoiQuery, RoiResult
from smarketing.analytics.registry import parse_spec, run_query
from smarketing.core.apitools import QUERY_ERRORS, READ_ERRORS, RecordId
from smarketing.core.errors import ValidationFailed

router = Router()


def _params(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    """Query parameters as a spec dict; `weights=0.4,0.2,0.4` becomes a list."""
    data: dict[str, Any] = {k: v for k, v in request.GET.items()}
    if "weights" in data:
        try:
            data["weights"] = [float(x) for x in str(data["weights"]).split(",") if x.strip()]
        except ValueError:
            raise ValidationFailed(f"weights must be numbers separated by commas, got {data['weights']!r}",
                                   field="weights") from None
    data.update(extra)
    return data


@router.get("/attribution", response={200: AttributionResult, **READ_ERRORS},
            summary="Attribution per channel and campaign, with the model's definition and method (query parameters: "
                    "model, level, order, half_life_days, weights, credit, conversion, window_days, start, end)")
def attribution_get(request: HttpRequest) -> Any:
    return run_query(parse_spec("attribution", _params(request)))


@router.post("/attribution", response={200: AttributionResult, **QUERY_ERRORS},
             summary="Attribution per channel and campaign for a spec in the body")
def attribution_post(request: HttpRequest, spec: AttributionQuery) -> Any:
    return run_query(spec)


@router.get("/attribution/opportunities/{opportunity_id}",
            response={200: OpportunityAttributionResult, **READ_ERRORS},
            summary="One opportunity's credit decomposed over its touches")
def opportunity_attribution(request: HttpRequest, opportunity_id: RecordId) -> Any:
    return run_query(parse_spec("opportunity_attribution", _params(request, opportunity_id=opportunity_id)))


class PathsIn(NinjaSchema):
    model: str = "markov"
    order: int = 1
    weights: list[float] | None = None
    paths: str


@router.post("/attribution/paths", response={200: PathsAttributionResult, **QUERY_ERRORS},
             summary="Attribute journeys sent in the path format (path;total_conversions;total_conversion_value;"
                     "total_null)")
def attribution_paths(request: HttpRequest, body: PathsIn) -> Any:
    from smarketing.analytics.kernels import (
        read_paths,  # the kernels load on use
        validate_custom_weights,
    )

    if not 1 <= body.order <= 3:
        raise ValidationFailed(f"Markov order must be 1, 2 or 3, got {body.order}", field="order")
    try:
        model = AttributionModel(body.model)
    except ValueError:
        raise ValidationFailed(f"model {body.model!r} is unknown; use one of {[m.value for m in AttributionModel]}",
                               field="model") from None
    weights = validate_custom_weights(body.weights) if body.weights is not None else None
    journeys = read_paths(body.paths.encode("utf-8"), source="paths")
    return attribute_paths(journeys, model=model, order=body.order, weights=weights)


@router.get("/roi", response={200: RoiResult, **READ_ERRORS},
            summary="Campaign ROI in percent, pipeline per unit of cost, ROAS, cost per MQL/SQL/opportunity, pipeline "
                    "influenced, and the model's definition (query parameters: model, level, order, half_life_days, "
                    "weights, window_days, start, end)")
def roi_get(request: HttpRequest) -> Any:
    return run_query(parse_spec("roi", _params(request)))


@router.post("/roi", response={200: RoiResult, **QUERY_ERRORS}, summary="Campaign ROI for a spec in the body")
def roi_post(request: HttpRequest, spec: RoiQuery) -> Any:
    return run_query(spec)
