"""Reads of briefs and outreach, and the message consistency of campaigns and reps."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any

from django.conf import settings
from django.db.models import QuerySet
from pydantic import Field

from smarketing.campaigns import consistency as cons
from smarketing.campaigns.enums import BriefSide
from smarketing.campaigns.models import BriefSignoff, CampaignBrief, Outreach
from smarketing.campaigns.permissions import Sides
from smarketing.core.errors import NotFound, ValidationFailed


def brief_list(*, campaign_id: int | None = None) -> QuerySet[CampaignBrief]:
    qs = CampaignBrief.objects.select_related("campaign", "created_by").prefetch_related("signoffs__user")
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    return qs.order_by("-created_at", "-id")


def brief_get(*, pk: int) -> CampaignBrief:
    brief = (CampaignBrief.objects.select_related("campaign", "created_by")
             .prefetch_related("comments__author", "signoffs__user").filter(pk=pk).first())
    if brief is None:
        raise NotFound(f"brief {pk} does not exist", record=f"brief:{pk}")
    return brief


def brief_signed_off(brief: CampaignBrief) -> bool:
    """True when a sales sign-off covers the brief's current content (uses prefetched sign-offs); a RevOps override
    is not one."""
    return brief_sides(brief).sales


def brief_sides(brief: CampaignBrief) -> Sides:
    """Which signatures cover the brief's current content: marketing's, sales', a RevOps override (prefetched)."""
    current = {s.side for s in brief.signoffs.all() if s.content_sha == brief.content_sha}
    return Sides(marketing=BriefSide.MARKETING in current, sales=BriefSide.SALES in current,
                 override=BriefSide.OVERRIDE in current)


def brief_override(brief: CampaignBrief) -> BriefSignoff | None:
    """The RevOps override covering the brief's current content, if any: who, when (recorded_at) and why (reason)."""
    found = [s for s in brief.signoffs.all() if s.content_sha == brief.content_sha and s.side == BriefSide.OVERRIDE]
    return found[-1] if found else None


def brief_in_force(versions: Iterable[CampaignBrief]) -> CampaignBrief:
    """Of one campaign's brief versions, the one sales carries: the latest launched, else the latest (a draft)."""
    ordered = sorted(versions, key=lambda b: b.version)
    launched = [b for b in ordered if b.launched_at is not None]
    return (launched or ordered)[-1]


def outreach_list(*, campaign_id: int | None = None, rep_id: int | None = None) -> QuerySet[Outreach]:
    qs = Outreach.objects.select_related("rep", "campaign", "contact", "account").order_by("-sent_at", "-id")
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    if rep_id:
        qs = qs.filter(rep_id=rep_id)
    return qs


# --- consistency ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class OutreachConsistency:
    outreach_id: int
    rep: str
    kind: str
    sent_at: Any
    result: cons.OutreachScore


@dataclass(frozen=True)
class RepConsistency:
    rep_id: int
    rep: str
    outreach: int
    score: float | None


@dataclass(frozen=True)
class CampaignConsistency:
    campaign_id: int
    campaign: str
    has_brief: bool
    outreach: int
    score: float | None
    coverage: float | None
    reps: list[RepConsistency] = field(default_factory=list)
    items: list[OutreachConsistency] = field(default_factory=list)


def _similarity(backend: str | None) -> tuple[cons.SimilarityFn | None, cons.Calibration]:
    backend = backend or str(settings.SMARKETING.get("THEME_BACKEND") or "tfidf")
    # Why: "auto" picks embeddings for feedback themes where installed; consistency scores keep TF-IDF's calibration
    # unless embeddings are asked for by name, so campaign pages do not load the model.
    if backend in ("tfidf", "auto"):
        return None, cons.TFIDF
    if backend == "embedding":
        from smarketing.feedback import embeddings

        return cons.embedding_similarity_fn(lambda texts: embeddings.encode(texts)), cons.EMBEDDING
    raise ValidationFailed(f"consistency backend {backend!r} is not one of ['tfidf', 'embedding']", field="backend")


def campaign_consistency_list(*, campaign_ids: Iterable[int] | None = None, backend: str | None = None,
                              with_items: bool = False) -> list[CampaignConsistency]:
    """Consistency per campaign that has outreach or a brief: the mean outreach score against the brief in force
    (`brief_in_force`), and per rep."""
    sim, cal = _similarity(backend)
    versions: dict[int, list[CampaignBrief]] = defaultdict(list)
    for b in CampaignBrief.objects.select_related("campaign").filter(
            **({"campaign_id__in": list(campaign_ids)} if campaign_ids is not None else {})):
        versions[b.campaign_id].append(b)
    briefs = {cid: brief_in_force(vs) for cid, vs in versions.items()}
    outreach = Outreach.objects.select_related("rep", "campaign").filter(campaign__isnull=False).order_by("sent_at", "id")
    if campaign_ids is not None:
        outreach = outreach.filter(campaign_id__in=list(campaign_ids))
    by_campaign: dict[int, list[Outreach]] = defaultdict(list)
    names: dict[int, str] = {cid: b.campaign.name for cid, b in briefs.items()}
    for o in outreach:
        by_campaign[o.campaign_id].append(o)  # type: ignore[index]
        names[o.campaign_id] = o.campaign.name  # type: ignore[union-attr,index]
    out = []
    for cid in sorted(names):
        rows = by_campaign.get(cid, [])
        brief = briefs.get(cid)
        if brief is None:
            out.append(CampaignConsistency(cid, names[cid], False, len(rows), None, None))
            continue
        scores = cons.score_outreach(cons.BriefText(brief.core_message, list(brief.proof_points), brief.talk_track),
                                     [o.text for o in rows], similarity=sim, calibration=cal)
        per_rep: dict[int, list[float]] = defaultdict(list)
        rep_names: dict[int, str] = {}
        for o, s in zip(rows, scores, strict=True):
            per_rep[o.rep_id].append(s.score)
            rep_names[o.rep_id] = o.rep.username
        reps = sorted((RepConsistency(rid, rep_names[rid], len(v), cons.mean(v)) for rid, v in per_rep.items()),
                      key=lambda r: (-(r.score or 0), r.rep))
        items = [OutreachConsistency(o.pk, o.rep.username, o.kind, o.sent_at, s)
                 for o, s in zip(rows, scores, strict=True)] if with_items else []
        out.append(CampaignConsistency(cid, names[cid], True, len(rows), cons.mean([s.score for s in scores]),
                                       cons.mean([s.coverage for s in scores]), reps, items))
    return out


def campaign_consistency_get(*, campaign_id: int, backend: str | None = None) -> CampaignConsistency:
    """One campaign's consistency with every outreach's matching and drifting sentences."""
    found = campaign_consistency_list(campaign_ids=[campaign_id], backend=backend, with_items=True)
    if not found:
        raise NotFound(f"campaign {campaign_id} has no brief and no outreach", record=f"campaign:{campaign_id}")
    return found[0]


def consistency_data_version() -> str:
    """A fingerprint of what message consistency reads (briefs, their launches, outreach, campaign names, the backend
    setting): a touch or a stage change recorded does not change it, so a page need not score every outreach again."""
    from django.db.models import Count, Max

    from smarketing.campaigns.models import Campaign

    briefs = CampaignBrief.objects.aggregate(n=Count("id"), v=Max("updated_at"))
    return "|".join(str(p) for p in (briefs["n"], briefs["v"], Outreach.objects.aggregate(v=Max("id"))["v"],
                                     Campaign.objects.aggregate(v=Max("updated_at"))["v"],
                                     settings.SMARKETING.get("THEME_BACKEND")))


def consistency_by_campaign(*, campaign_ids: Iterable[int] | None = None,
                            backend: str | None = None) -> dict[int, float | None]:
    """Campaign id -> consistency score (None without a brief or outreach), to show beside ROI."""
    return {c.campaign_id: c.score for c in campaign_consistency_list(campaign_ids=campaign_ids, backend=backend)}


def rep_consistency_list(*, backend: str | None = None) -> list[RepConsistency]:
    """Each rep's mean consistency across every campaign they wrote outreach for."""
    totals: dict[int, list[tuple[str, int, float]]] = defaultdict(list)
    for c in campaign_consistency_list(backend=backend):
        for r in c.reps:
            if r.score is not None:
                totals[r.rep_id].append((r.rep, r.outreach, r.score))
    out = []
    for rid, parts in totals.items():
        n = sum(p[1] for p in parts)
        out.append(RepConsistency(rid, parts[0][0], n, round(sum(p[1] * p[2] for p in parts) / n, 3) if n else None))
    return sorted(out, key=lambda r: (-(r.score or 0), r.rep))


# --- beside ROI -------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConsistencyRoiRow:
    campaign_id: int
    campaign: str
    consistency: float | None
    outreach: int
    roi: float | None
    roas: float | None
    revenue: float
    pipeline: float


@dataclass(frozen=True)
class ConsistencyRoi:
    rows: list[ConsistencyRoiRow]
    correlation: Annotated[float | None, Field(description=(
        "Spearman rank correlation of consistency with ROI over campaigns that have both (None under 3 campaigns)"))]


def join_roi(consistency: list[CampaignConsistency], roi_rows: Iterable[Any]) -> ConsistencyRoi:
    """Pure join of consistency rows with ROI rows (objects with campaign_id, name, roi, roas, revenue, pipeline)."""
    by_id = {c.campaign_id: c for c in consistency}
    rows = []
    for r in roi_rows:
        if r.campaign_id is None:
            continue
        c = by_id.get(r.campaign_id)
        rows.append(ConsistencyRoiRow(campaign_id=r.campaign_id, campaign=r.name,
                                      consistency=c.score if c else None, outreach=c.outreach if c else 0,
                                      roi=r.roi, roas=r.roas, revenue=float(r.revenue), pipeline=float(r.pipeline)))
    both = [(r.consistency, r.roi) for r in rows if r.consistency is not None and r.roi is not None]
    corr = None
    if len(both) >= 3:
        from scipy.stats import spearmanr

        value = spearmanr([b[0] for b in both], [b[1] for b in both]).statistic
        corr = None if value != value else round(float(value), 3)  # NaN when one side is constant
    rows.sort(key=lambda r: (r.consistency is None, -(r.consistency or 0), r.campaign_id))
    return ConsistencyRoi(rows=rows, correlation=corr)


def consistency_beside_roi(*, backend: str | None = None, roi: Any = None) -> ConsistencyRoi:
    """Each campaign's consistency next to its ROI (linear attribution unless an ROI result is passed)."""
    if roi is None:
        from smarketing.analytics.queries.roi import RoiQuery
        from smarketing.analytics.registry import run_query

        roi = run_query(RoiQuery())
    return join_roi(campaign_consistency_list(backend=backend), roi.campaigns)
