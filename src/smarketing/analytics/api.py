"""Analytics API at /api/analytics: funnel, goals and journeys (GET with query parameters or POST a spec).

Every endpoint parses input into the kind's spec and runs it through the registry on the configured engine.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router

from smarketing.analytics.queries.funnel import FunnelQuery, FunnelResult, filters_from_terms
from smarketing.analytics.queries.goals import GoalsQuery, GoalsResult
from smarketing.analytics.queries.journeys import JourneysQuery, JourneysResult
from smarketing.analytics.registry import QuerySpec, all_kinds, parse_spec, run_query
from smarketing.core.apitools import QUERY_ERRORS, READ_ERRORS

router = Router()


def _params(request: HttpRequest) -> dict[str, Any]:
    return {k: v for k, v in request.GET.items() if v != ""}


def _from_params(kind: str, request: HttpRequest) -> Any:
    return run_query(parse_spec(kind, _params(request))).model_dump(mode="json")


def _from_body(spec: QuerySpec) -> Any:
    return run_query(spec).model_dump(mode="json")


@router.get("/kinds", response={200: list[dict[str, str]], **READ_ERRORS})
def kinds(request: HttpRequest) -> Any:
    """The registered analytics query kinds."""
    return [{"kind": k.name, "spec": k.spec.__name__, "result": k.result.__name__, "summary": k.summary}
            for k in all_kinds()]


@router.get("/funnel", response={200: FunnelResult, **READ_ERRORS},
            summary="Funnel between two stages (query parameters)")
def funnel_get(request: HttpRequest) -> Any:
    """?from_stage=mql&to_stage=customer&by=owner&window_days=90&level=contact&start=&end=
    &filter=source:webinar&filter=source:referral&filter=segment:enterprise

    Each `filter` is `field:value` on a group field; values of one field are ORed, fields ANDed ("(none)" matches
    a missing value, owners are user ids, cohort months YYYY-MM). The result's `query.filters` echoes them.
    """
    params = _params(request)
    params.pop("filter", None)
    terms = request.GET.getlist("filter")
    if terms:
        params["filters"] = filters_from_terms(terms, sep=":", source="filter")
    return run_query(parse_spec("funnel", params)).model_dump(mode="json")


@router.post("/funnel", response={200: FunnelResult, **QUERY_ERRORS},
             summary="Funnel between two stages (spec body)")
def funnel_post(request: HttpRequest, spec: FunnelQuery) -> Any:
    return _from_body(spec)


@router.get("/goals", response={200: GoalsResult, **READ_ERRORS},
            summary="Reverse waterfall and pacing (query parameters)")
def goals_get(request: HttpRequest) -> Any:
    """?period=2026-Q4&revenue=3300000&segment=&lookback_days=365&as_of="""
    return _from_params("goals", request)


@router.post("/goals", response={200: GoalsResult, **QUERY_ERRORS},
             summary="Reverse waterfall and pacing (spec body)")
def goals_post(request: HttpRequest, spec: GoalsQuery) -> Any:
    return _from_body(spec)


@router.get("/journeys", response={200: JourneysResult, **READ_ERRORS},
            summary="Journeys vs the ideal (query parameters)")
def journeys_get(request: HttpRequest) -> Any:
    """?level=contact&top=10&start=&end="""
    return _from_params("journeys", request)


@router.post("/journeys", response={200: JourneysResult, **QUERY_ERRORS},
             summary="Journeys vs the ideal (spec body)")
def journeys_post(request: HttpRequest, spec: JourneysQuery) -> Any:
    return _from_body(spec)
