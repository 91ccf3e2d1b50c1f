"""Adapters from other apps' results to page rows (read-only); each tolerates the other app being partial."""

from __future__ import annotations

from typing import Any

from smarketing.campaigns.models import Campaign
from smarketing.web import integrations
from smarketing.web.periods import Period


def _get(obj: Any, *names: str, default: Any = None) -> Any:
    for n in names:
        if isinstance(obj, dict) and n in obj:
            return obj[n]
        if hasattr(obj, n):
            return getattr(obj, n)
    return default


class Pending(Exception):
    """A result is being computed in the background; the page says so and the user reloads later."""


def campaign_attribution(*, kind: str, period: Period, model: str) -> tuple[list[dict[str, Any]], str]:
    """Per-campaign attributed pipeline, revenue and ROI from the analytics query kind."""
    from datetime import timedelta

    from smarketing.web.data.common import query_result

    last_day = (period.end - timedelta(microseconds=1)).date()  # the query's end day is inclusive
    spec: dict[str, Any] = {"start": period.start.date().isoformat(), "end": last_day.isoformat(), "model": model}
    result = query_result(kind, spec) if integrations.has_query(kind) else None
    if result is None:
        raise Pending(f"{kind} for {period.label} under the {model.replace('_', ' ')} model")
    rows_in = _get(result, "rows", "campaigns", default=[]) or []
    rows = []
    for r in rows_in:
        cost = float(_get(r, "cost", "spend", default=0) or 0)
        pipeline = float(_get(r, "pipeline", "attributed_pipeline", default=0) or 0)
        revenue = float(_get(r, "revenue", "attributed_revenue", default=0) or 0)
        roi = _get(r, "roi", default=None)
        rows.append({"id": _get(r, "campaign_id", "id"), "name": _get(r, "campaign_name", "name", default="?"),
                     "channel": _get(r, "channel", default=""), "cost": cost, "pipeline": pipeline,
                     "revenue": revenue, "roi": roi if roi is not None else ((revenue - cost) / cost if cost else None)})
    rows.sort(key=lambda x: -x["pipeline"])
    weights = _get(result, "weights_description", "weights", default="")
    return rows, weights if isinstance(weights, str) else describe_weights(dict(weights))


def describe_weights(weights: dict[str, Any]) -> str:
    """The model's weights as one readable line, e.g. 'first: 40 %, middle: 20 %, last: 40 %'."""
    parts = []
    for k, v in weights.items():
        if k == "model" or isinstance(v, dict | list):
            continue
        if isinstance(v, float) and 0 <= v <= 1 and k not in ("half_life_days", "order"):
            parts.append(f"{k.replace('_', ' ')}: {v * 100:.0f} %")
        else:
            parts.append(f"{k.replace('_', ' ')}: {v}")
    return ", ".join(parts)


def campaign_story(campaign: Campaign) -> dict[str, Any]:
    """The campaign's brief, talk track, sales comments and message consistency, through the campaigns app."""
    brief_list = integrations.optional("smarketing.campaigns.brief_selectors", "brief_list")
    signed = integrations.optional("smarketing.campaigns.brief_selectors", "brief_signed_off")
    consistency_get = integrations.optional("smarketing.campaigns.brief_selectors", "campaign_consistency_get")
    brief = brief_list(campaign_id=campaign.pk).first() if brief_list is not None else None
    comments = list(brief.comments.select_related("author").all()) if brief is not None else []
    consistency, note = (None, "")
    if consistency_get is not None:
        consistency, note = integrations.safe(consistency_get, campaign_id=campaign.pk)
    return {"brief": brief, "comments": comments, "consistency": consistency, "consistency_note": note,
            "brief_signed": bool(signed(brief)) if (brief is not None and signed is not None) else False}


def consistency_scores() -> dict[int, float | None]:
    """Campaign id -> message consistency, for the campaign list (empty while the campaigns app lacks it)."""
    from smarketing.web.data.common import cached

    fn = integrations.optional("smarketing.campaigns.brief_selectors", "consistency_by_campaign")
    if fn is None:
        return {}
    got, _err = integrations.safe(lambda: cached("consistency", "all", fn))
    return got or {}
