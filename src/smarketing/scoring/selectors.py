"""Reads for scoring: score inputs as plain data (facts and touches), cached scores, models and outcomes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Count,
    F,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Cast

from smarketing.campaigns.models import Touchpoint
from smarketing.core.errors import NotFound
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.models import StageChange
from smarketing.scoring.models import AccountScore, ContactScore, PredictiveModel
from smarketing.scoring.rules import (
    Touch,
    TouchArrays,
    epoch_micros,
    facts_from,
    micros_to_datetime64,
    to_datetime64,
)
from smarketing.scoring.threshold import Outcome, Proposal, propose_threshold

if TYPE_CHECKING:
    import numpy as np

    from smarketing.playbook.schema import Scoring as ScoringTerms

CONTACT_FACT_FIELDS = ("email", "title", "buying_role", "lead_source", "country", "lifecycle_stage", "attributes")
ACCOUNT_FACT_FIELDS = ("name", "domain", "industry", "employees", "revenue_band", "region", "segment",
                       "is_customer", "lifecycle_stage")
ACCEPTED_STAGES = {Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER}
OPPORTUNITY_STAGES = {Stage.OPPORTUNITY, Stage.CUSTOMER}


@dataclass(frozen=True)
class ScoreInputs:
    """What the rules need for a batch of contacts, in row order."""

    contact_ids: list[int]
    account_ids: list[int | None]
    facts: list[dict[str, Any]]
    touches: TouchArrays


def _facts_rows(contact_ids: Sequence[int] | None) -> list[dict[str, Any]]:
    qs = Contact.objects.order_by("id")
    if contact_ids is not None:
        qs = qs.filter(id__in=list(contact_ids))
    cols = ["id", "account_id", *CONTACT_FACT_FIELDS, *(f"account__{f}" for f in ACCOUNT_FACT_FIELDS)]
    return list(qs.values(*cols))


def score_inputs(*, contact_ids: Sequence[int]) -> ScoreInputs:
    """Facts and touches of the given contacts (two queries however many contacts)."""
    import numpy as np  # NumPy loads when scores are computed, not when the CLI or server starts

    rows = _facts_rows(contact_ids)
    ids = [r["id"] for r in rows]
    position = {cid: i for i, cid in enumerate(ids)}
    facts = []
    for r in rows:
        contact = {f: r[f] for f in CONTACT_FACT_FIELDS}
        account = {f: r[f"account__{f}"] for f in ACCOUNT_FACT_FIELDS} if r["account_id"] else None
        facts.append(facts_from(contact, account))
    tp = Touchpoint.objects.filter(contact_id__in=ids).values_list("contact_id", "kind", "occurred_at")
    idx, kinds, micros = [], [], []
    for cid, kind, occurred_at in tp.iterator(chunk_size=5000):
        idx.append(position[cid])
        kinds.append(kind)
        micros.append(epoch_micros(occurred_at))
    arrays = TouchArrays(np.asarray(idx, dtype=np.int64), np.asarray(kinds, dtype=object),
                         micros_to_datetime64(micros))
    return ScoreInputs(contact_ids=ids, account_ids=[r["account_id"] for r in rows], facts=facts, touches=arrays)


def contact_touches(*, contact_id: int) -> list[Touch]:
    """One contact's touches as scoring sees them."""
    return [Touch(k, t) for k, t in Touchpoint.objects.filter(contact_id=contact_id)
            .values_list("kind", "occurred_at")]


def contact_ids_all(*, batch_size: int) -> Iterator[list[int]]:
    """Every contact id, in batches (keyset pagination, so memory stays flat)."""
    last = 0
    while True:
        batch = list(Contact.objects.filter(id__gt=last).order_by("id").values_list("id", flat=True)[:batch_size])
        if not batch:
            return
        yield batch
        last = batch[-1]


def contact_count() -> int:
    return Contact.objects.count()


def account_contact_ids(*, account_id: int) -> list[int]:
    return list(Contact.objects.filter(account_id=account_id).order_by("id").values_list("id", flat=True))


def account_ids_with_contacts() -> list[int]:
    return list(Account.objects.filter(contacts__isnull=False).distinct().order_by("id").values_list("id", flat=True))


def contact_score_get(*, contact_id: int) -> ContactScore:
    """A contact's cached score, or NotFound naming the contact."""
    score = ContactScore.objects.select_related("playbook_version", "predictive_model").filter(
        contact_id=contact_id).first()
    if score is None:
        if not Contact.objects.filter(pk=contact_id).exists():
            raise NotFound(f"contact {contact_id} does not exist", record=f"contact:{contact_id}", field="contact_id")
        raise NotFound(f"contact {contact_id} has not been scored yet (smarketing score rebuild)",
                       record=f"contact:{contact_id}", field="contact_id")
    return score


def account_score_get(*, account_id: int) -> AccountScore:
    """An account's cached score, or NotFound naming the account."""
    score = AccountScore.objects.select_related("playbook_version").filter(account_id=account_id).first()
    if score is None:
        if not Account.objects.filter(pk=account_id).exists():
            raise NotFound(f"account {account_id} does not exist", record=f"account:{account_id}", field="account_id")
        raise NotFound(f"account {account_id} has not been scored yet", record=f"account:{account_id}",
                       field="account_id")
    return score


def contact_score_list_top(*, limit: int = 50) -> QuerySet[ContactScore]:
    """Highest-scoring contacts first."""
    return ContactScore.objects.select_related("contact").order_by("-total", "contact_id")[:limit]


def predictive_model_list() -> QuerySet[PredictiveModel]:
    """Trained models, newest first (the artefact is left unloaded)."""
    return PredictiveModel.objects.defer("artefact").order_by("-created_at", "-id")


def predictive_model_get(*, pk: int) -> PredictiveModel:
    model = PredictiveModel.objects.filter(pk=pk).first()
    if model is None:
        raise NotFound(f"predictive model {pk} does not exist", record=f"predictive_model:{pk}")
    return model


def predictive_model_active() -> PredictiveModel | None:
    return PredictiveModel.objects.filter(active=True).first()


def predictive_model_loaded(*, model: PredictiveModel) -> dict[str, Any]:
    """A stored model's fitted pipeline, unpickled once per process (stored models never change)."""
    # Why the creation time is in the key: ids can be reused after a rollback or a restored database.
    return _loaded(model.pk, model.created_at.isoformat())


@lru_cache(maxsize=4)
def _loaded(model_id: int, created_at: str) -> dict[str, Any]:
    from smarketing.scoring import predictive

    return predictive.load(bytes(PredictiveModel.objects.only("artefact").get(pk=model_id).artefact))


@dataclass(frozen=True)
class Outcomes:
    """Per-contact outcome flags derived from lifecycle history and opportunities."""

    accepted: set[int]
    opportunity: set[int]
    won: set[int]


def contact_outcomes() -> Outcomes:
    """Which contacts sales accepted, which became opportunities and which were won (history + current stage)."""
    reached: dict[int, set[str]] = {}
    for cid, stage in StageChange.objects.filter(contact__isnull=False).values_list("contact_id", "to_stage"):
        reached.setdefault(cid, set()).add(stage)
    for cid, stage in Contact.objects.exclude(lifecycle_stage=Stage.LEAD).values_list("id", "lifecycle_stage"):
        reached.setdefault(cid, set()).add(stage)
    accepted = {c for c, s in reached.items() if s & ACCEPTED_STAGES}
    opportunity = {c for c, s in reached.items() if s & OPPORTUNITY_STAGES}
    won = {c for c, s in reached.items() if Stage.CUSTOMER in s}
    for cid, outcome in Opportunity.objects.filter(primary_contact__isnull=False).values_list(
            "primary_contact_id", "outcome"):
        opportunity.add(cid)
        accepted.add(cid)
        if outcome == "won":
            won.add(cid)
    return Outcomes(accepted=accepted, opportunity=opportunity, won=won)


def training_rows(*, contact_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Contacts' features as plain data for the predictive model: fields, attributes, account, touch counts."""
    contacts = Contact.objects.order_by("id")
    touches = Touchpoint.objects.all()
    if contact_ids is not None:
        contacts = contacts.filter(id__in=list(contact_ids))
        touches = touches.filter(contact_id__in=list(contact_ids))
    rows = {r["id"]: {**r, "touch_counts": {}} for r in contacts.values(
        "id", "first_seen_at", "lead_source", "country", "buying_role", "title", "attributes",
        *(f"account__{f}" for f in ("industry", "employees", "region", "segment")))}
    counts = touches.order_by().values("contact_id", "kind").annotate(n=Count("id"))
    for cid, kind, n in counts.values_list("contact_id", "kind", "n"):
        if cid in rows:
            rows[cid]["touch_counts"][kind] = n
    return list(rows.values())


QUALIFYING_STAGES = {Stage.MQL, Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.DISQUALIFIED,
                     Stage.RECYCLED}


def training_rows_before_qualification(*, contact_ids: Sequence[int] | None = None) -> list[dict[str, Any]]:
    """Training rows as they stood when each contact qualified: touches after its first MQL or decision left out.

    Each row also carries `first_stage` (the stage of its earliest change, to spot contacts created as
    customers), `qualified_at` (None while never qualified) and `touches_after` (how many touches were left out).
    """
    contacts = Contact.objects.order_by("id")
    changes = StageChange.objects.filter(contact__isnull=False)
    touches = Touchpoint.objects.all()
    if contact_ids is not None:
        contacts = contacts.filter(id__in=list(contact_ids))
        changes = changes.filter(contact_id__in=list(contact_ids))
        touches = touches.filter(contact_id__in=list(contact_ids))
    rows = {r["id"]: {**r, "touch_counts": {}, "first_stage": None, "qualified_at": None, "touches_after": 0}
            for r in contacts.values(
                "id", "first_seen_at", "lead_source", "country", "buying_role", "title", "attributes",
                *(f"account__{f}" for f in ("industry", "employees", "region", "segment")))}
    for cid, stage, at in changes.order_by("occurred_at", "id").values_list("contact_id", "to_stage", "occurred_at"):
        row = rows.get(cid)
        if row is None:
            continue
        if row["first_stage"] is None:
            row["first_stage"] = stage
        if row["qualified_at"] is None and stage in QUALIFYING_STAGES:
            row["qualified_at"] = at
    # Why a subquery: the cut is per contact, and counting in the database spares walking every touchpoint.
    cut = (StageChange.objects.filter(contact_id=OuterRef("contact_id"), to_stage__in=list(QUALIFYING_STAGES))
           .order_by("occurred_at").values("occurred_at")[:1])
    after = Case(When(Q(cut__isnull=False) & Q(occurred_at__gt=F("cut")), then=Value(True)), default=Value(False),
                 output_field=BooleanField())
    counts = (touches.order_by().annotate(cut=Subquery(cut)).annotate(after=after)
              .values("contact_id", "kind", "after").annotate(n=Count("id")))
    for cid, kind, is_after, n in counts.values_list("contact_id", "kind", "after", "n"):
        row = rows.get(cid)
        if row is None:
            continue
        if is_after:
            row["touches_after"] += n
        else:
            row["touch_counts"][kind] = n
    return list(rows.values())


def touchpoint_contact_id(*, touchpoint_id: int) -> int | None:
    return Touchpoint.objects.filter(pk=touchpoint_id).values_list("contact_id", flat=True).first()


def touchpoint_contact_ids(*, touchpoint_ids: Sequence[int]) -> list[int]:
    """Distinct contacts of some touchpoints (in chunks, to stay under SQL parameter limits)."""
    out: set[int] = set()
    for start in range(0, len(touchpoint_ids), 5000):
        chunk = list(touchpoint_ids[start:start + 5000])
        out.update(Touchpoint.objects.filter(pk__in=chunk).values_list("contact_id", flat=True))
    return sorted(out)


def score_totals() -> dict[int, tuple[float, float | None]]:
    """Every cached (total, predictive) by contact id."""
    return {cid: (t, p) for cid, t, p in ContactScore.objects.values_list("contact_id", "total", "predictive")}


DECISION_STAGES = {Stage.SAL, Stage.SQL, Stage.OPPORTUNITY, Stage.CUSTOMER, Stage.DISQUALIFIED, Stage.RECYCLED}


def _decision_times() -> dict[int, Any]:
    """When each contact's outcome was decided: its first move past MQL (accepted, rejected or recycled)."""
    return dict(StageChange.objects.filter(contact__isnull=False, to_stage__in=list(DECISION_STAGES)).order_by()
                .values("contact_id").annotate(at=Min("occurred_at")).values_list("contact_id", "at"))


def touch_columns(*, contact_ids: Sequence[int], until: datetime | None = None,
                  chunk_size: int = 100_000) -> TouchArrays:
    """The touchpoints of these contacts (ids ascending) as columns: each touch's row in `contact_ids`, kind, when;
    with `until`, only those that happened by then.

    Read in one query straight into arrays, without the ORM building and converting each row (a medium company
    has ~650,000 touchpoints); the SQL is still the ORM's, so it runs on every database.
    """
    import numpy as np  # NumPy and pandas load when scores are computed, not when the CLI or server starts
    import pandas as pd

    ids = np.asarray(contact_ids, dtype=np.int64)
    if not len(ids):
        return TouchArrays(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), micros_to_datetime64([]))
    # The id range, not the list: one index range scan; touches of contacts in between are dropped below.
    qs = Touchpoint.objects.order_by().filter(contact_id__gte=int(ids[0]), contact_id__lte=int(ids[-1]))
    if until is not None:
        qs = qs.filter(occurred_at__lte=until)
    if connection.vendor == "sqlite":
        # Why text: SQLite stores ISO text, which pandas parses in bulk; the driver's own per-row converter costs
        # more than the rest of the read.
        qs = qs.annotate(at=Cast("occurred_at", CharField()))
    else:
        qs = qs.annotate(at=F("occurred_at"))
    sql, params = qs.values_list("contact_id", "kind", "at").query.sql_with_params()
    idx: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    times: list[np.ndarray] = []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(chunk_size):
            cids, ks, ats = zip(*rows, strict=True)
            found = np.asarray(cids, dtype=np.int64)
            rows_of = np.minimum(np.searchsorted(ids, found), len(ids) - 1)
            keep = ids[rows_of] == found
            # Naive UTC text or datetimes (SQLite), aware datetimes (PostgreSQL): all become UTC here.
            stamps = pd.to_datetime(pd.Series(ats, dtype=object), utc=True, format="ISO8601")
            idx.append(rows_of[keep])
            kinds.append(np.asarray(ks, dtype=object)[keep])
            times.append(stamps.to_numpy(dtype="datetime64[us]")[keep])
    if not idx:
        return TouchArrays(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=object), micros_to_datetime64([]))
    return TouchArrays(np.concatenate(idx), np.concatenate(kinds), np.concatenate(times))


def threshold_outcomes(*, score: str, scoring: ScoringTerms | None = None,
                       since: datetime | None = None) -> tuple[list[Outcome], str]:
    """Each contact's score as it stood when its outcome was decided, with the outcome; and how it was scored.

    Rule scores use the active playbook's scoring terms, or `scoring` (a draft's, for its impact preview); with
    `since`, only contacts decided (or, undecided, last touched) at or after it count.

    Rule scores are recomputed as of the decision (or, undecided, as of the contact's latest touch), so old
    history is not judged by today's decay. Predictive scores use only the active model's held-out contacts,
    so the table is not flattered by contacts the model learned from.

    Set-based: the contacts' facts, their touchpoints (as columns), the decision times and the outcomes are
    each one read of a whole table, then every contact is scored at once by the rules' vectorised twin.
    """
    import numpy as np  # NumPy loads when scores are computed, not when the CLI or server starts

    from smarketing.core import clock
    from smarketing.playbook.selectors import playbook_active_terms
    from smarketing.scoring import rules

    outcomes = contact_outcomes()

    def outcome(cid: int, value: float) -> Outcome:
        return Outcome(score=value, accepted=cid in outcomes.accepted, opportunity=cid in outcomes.opportunity,
                       won=cid in outcomes.won)

    if score == "predictive":
        from smarketing.scoring import predictive  # scikit-learn loads only for the predictive table

        model = predictive_model_active()
        if model is None:
            raise NotFound("no active predictive model: train one first (smarketing score train)",
                           record="predictive_model", field="score")
        loaded = predictive_model_loaded(model=model)
        holdout = [int(i) for i in loaded.get("holdout_ids") or []]
        # As the model saw them: each contact's features as they stood when it qualified.
        rows = training_rows_before_qualification(contact_ids=holdout)
        probs = predictive.predict(loaded, rows)
        return ([outcome(int(r["id"]), round(100 * float(p), 4)) for r, p in zip(rows, probs, strict=True)],
                f"predictive probability × 100 of model {model.pk}, on its {len(rows)} held-out contacts")
    if scoring is None:
        scoring = playbook_active_terms()[1].scoring
    ids, facts = _facts_all()
    position = {cid: i for i, cid in enumerate(ids)}
    touches = touch_columns(contact_ids=ids)
    decided = _decision_times()
    # Undecided contacts are scored as of their latest touch (else now): the newest touch per row at once.
    latest = np.full(len(ids), np.iinfo(np.int64).min, dtype=np.int64)
    np.maximum.at(latest, touches.contact_index, touches.occurred_at.astype(np.int64))
    now = int(to_datetime64(clock.now()).astype(np.int64))
    as_of = np.where(latest == np.iinfo(np.int64).min, now, latest)
    for cid, at in decided.items():
        if cid in position:
            as_of[position[cid]] = int(to_datetime64(at).astype(np.int64))
    batch = rules.score_many(scoring, facts, touches, as_of.view("datetime64[us]"))
    floor = int(to_datetime64(since).astype(np.int64)) if since is not None else None
    return ([outcome(cid, float(batch.total[i])) for i, cid in enumerate(ids) if floor is None or as_of[i] >= floor],
            "rule-based total as of each contact's decision (or latest touch while undecided)")


def _facts_all() -> tuple[list[int], list[dict[str, Any]]]:
    """Every contact's id and scoring facts, in id order (one query)."""
    rows = _facts_rows(None)
    facts = [facts_from({f: r[f] for f in CONTACT_FACT_FIELDS},
                        {f: r[f"account__{f}"] for f in ACCOUNT_FACT_FIELDS} if r["account_id"] else None)
             for r in rows]
    return [r["id"] for r in rows], facts


def threshold_proposal(*, score: str = "total") -> Proposal:
    """The MQL threshold trade-off table from history, with a proposal against the acceptance commitment."""
    from smarketing.playbook.selectors import playbook_active_terms

    _, terms = playbook_active_terms()
    outcomes, basis = threshold_outcomes(score=score)
    proposal = propose_threshold(outcomes, target_acceptance_rate=terms.sla.marketing.min_acceptance_rate,
                                 current_threshold=terms.scoring.mql_threshold if score == "total" else None)
    return replace(proposal, basis=basis)


def contact_score_explain(*, contact_id: int, fresh: bool = True) -> dict[str, Any]:
    """A contact's score with every contributing rule and why it is or is not an MQL.

    Fresh computes from history now (nothing is written); otherwise the cached score is shown.
    """
    from smarketing.core import clock
    from smarketing.playbook.selectors import playbook_active_terms
    from smarketing.scoring import predictive, rules

    version, terms = playbook_active_terms()
    inputs = score_inputs(contact_ids=[contact_id])
    if not inputs.contact_ids:
        raise NotFound(f"contact {contact_id} does not exist", record=f"contact:{contact_id}", field="contact_id")
    facts = inputs.facts[0]
    if fresh:
        as_of = clock.now()
        result = rules.score_many(terms.scoring, inputs.facts, inputs.touches, as_of).result(0)
        model = PredictiveModel.objects.filter(active=True).defer("artefact").first()
        prob = float(predictive.predict(predictive_model_loaded(model=model),
                                        training_rows(contact_ids=[contact_id]))[0]) if model else None
        version_number, model_id = version.number, model.pk if model else None
    else:
        cached = contact_score_get(contact_id=contact_id)
        result = rules.ScoreResult(fit=cached.fit, engagement=cached.engagement, total=cached.total,
                                   explanation=[rules.Contribution.from_dict(c) for c in cached.explanation])
        as_of, prob = cached.as_of, cached.predictive
        version_number, model_id = cached.playbook_version.number, cached.predictive_model_id
    if prob is not None:
        facts = {**facts, "score.predictive": prob}
    unmet = rules.mql_unmet(terms, result, facts)
    return {"contact_id": contact_id, **result.as_dict(), "fit_weight": terms.scoring.fit_weight,
            "engagement_weight": terms.scoring.engagement_weight, "predictive": prob,
            "predictive_model_id": model_id, "qualifies_as_mql": not unmet, "mql_unmet": unmet,
            "mql_threshold": terms.scoring.mql_threshold, "playbook_version": version_number,
            "as_of": as_of.isoformat(), "fresh": fresh}
