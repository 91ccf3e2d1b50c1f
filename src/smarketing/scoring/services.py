"""Writes of scores and predictive models.

Scores are a cache of the playbook's rules applied to history; they are rewritten, never appended. A new
touchpoint rescores only its contact and account (through the task queue); a full rebuild scores every
contact in vectorised batches, queued too when a new playbook version becomes active.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING

from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import ValidationFailed
from smarketing.crm.models import Contact
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.schema import Playbook
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.scoring import rules, selectors
from smarketing.scoring.enums import Algorithm
from smarketing.scoring.hooks import RESCORE_HOOKS
from smarketing.scoring.models import AccountScore, ContactScore, PredictiveModel
from smarketing.team.models import User

if TYPE_CHECKING:
    from smarketing.scoring import predictive

Progress = Callable[[int, int], None]
CONTACT_SCORE_FIELDS = ["fit", "engagement", "total", "predictive", "qualifies_as_mql", "explanation", "as_of",
                        "computed_at", "playbook_version", "predictive_model"]
ACCOUNT_SCORE_FIELDS = ["coverage", "total", "best_contact", "engaged_roles", "explanation", "computed_at",
                        "playbook_version"]


def _predictive(contact_ids: Sequence[int]) -> tuple[PredictiveModel | None, dict[int, float]]:
    model = PredictiveModel.objects.filter(active=True).defer("artefact").first()
    if model is None or not contact_ids:
        return model, {}
    from smarketing.scoring import predictive  # scikit-learn loads only when a model scores

    rows = selectors.training_rows(contact_ids=contact_ids)
    probs = predictive.predict(selectors.predictive_model_loaded(model=model), rows)
    return model, {int(r["id"]): float(p) for r, p in zip(rows, probs, strict=True)}


def _contact_score_rows(version: PlaybookVersion, terms: Playbook, inputs: selectors.ScoreInputs,
                        as_of: datetime) -> list[ContactScore]:
    batch = rules.score_many(terms.scoring, inputs.facts, inputs.touches, as_of)
    model, probs = _predictive(inputs.contact_ids)
    now = clock.now()
    out = []
    for i, cid in enumerate(inputs.contact_ids):
        result = batch.result(i)
        facts = {**inputs.facts[i], **({"score.predictive": probs[cid]} if cid in probs else {})}
        out.append(ContactScore(
            contact_id=cid, fit=result.fit, engagement=result.engagement, total=result.total,
            predictive=probs.get(cid), qualifies_as_mql=rules.qualifies_as_mql(terms, result, facts),
            explanation=[c.as_dict() for c in result.explanation], as_of=as_of, computed_at=now,
            playbook_version=version, predictive_model=model if cid in probs else None))
    return out


def _upsert_contacts(rows: list[ContactScore]) -> None:
    ContactScore.objects.bulk_create(rows, update_conflicts=True, unique_fields=["contact"],
                                     update_fields=CONTACT_SCORE_FIELDS, batch_size=1000)


def _account_score_rows(version: PlaybookVersion, terms: Playbook, account_ids: Sequence[int]) -> list[AccountScore]:
    members: dict[int, list[rules.AccountContact]] = {a: [] for a in account_ids}
    for s in ContactScore.objects.filter(contact__account_id__in=list(account_ids)).values(
            "contact_id", "contact__account_id", "contact__buying_role", "fit", "engagement", "total"):
        score = rules.ScoreResult(fit=s["fit"], engagement=s["engagement"], total=s["total"])
        members[s["contact__account_id"]].append(
            rules.AccountContact(s["contact_id"], s["contact__buying_role"], score))
    now = clock.now()
    out = []
    for account_id, contacts in members.items():
        r = rules.score_account(terms.scoring, contacts)
        out.append(AccountScore(account_id=account_id, coverage=r.coverage, total=r.total,
                                best_contact_id=r.best_contact_id, engaged_roles=r.engaged_roles,
                                explanation=[c.as_dict() for c in r.explanation], computed_at=now,
                                playbook_version=version))
    return out


def _upsert_accounts(rows: list[AccountScore]) -> None:
    AccountScore.objects.bulk_create(rows, update_conflicts=True, unique_fields=["account"],
                                     update_fields=ACCOUNT_SCORE_FIELDS, batch_size=1000)


def _after_rescore(contact_ids: Sequence[int]) -> None:
    for cid in contact_ids:
        for hook in RESCORE_HOOKS:
            hook(cid)


@transaction.atomic
def contacts_rescore(*, contact_ids: Sequence[int], as_of: datetime | None = None) -> list[ContactScore]:
    """Rescore some contacts and their accounts (the incremental path after new touchpoints)."""
    version, terms = playbook_active_terms()
    inputs = selectors.score_inputs(contact_ids=contact_ids)
    rows = _contact_score_rows(version, terms, inputs, as_of or clock.now())
    _upsert_contacts(rows)
    account_ids = sorted({a for a in inputs.account_ids if a is not None})
    if account_ids:
        _upsert_accounts(_account_score_rows(version, terms, account_ids))
    ids = list(inputs.contact_ids)
    transaction.on_commit(lambda: _after_rescore(ids))
    return rows


def contact_rescore(*, contact_id: int, as_of: datetime | None = None) -> ContactScore:
    """Rescore one contact and its account; NotFound-style error if the contact does not exist."""
    rows = contacts_rescore(contact_ids=[contact_id], as_of=as_of)
    if not rows:
        raise ValidationFailed(f"contact {contact_id} does not exist", field="contact_id",
                               record=f"contact:{contact_id}")
    return rows[0]


def scores_rebuild_all(*, progress: Progress | None = None, batch_size: int = 2000,
                       as_of: datetime | None = None) -> int:
    """Rescore every contact and account in vectorised batches (one transaction per batch); returns contacts.

    RESCORE_HOOKS run for the contacts that newly qualify as MQL (not for every contact).
    """
    version, terms = playbook_active_terms()
    when = as_of or clock.now()
    total = selectors.contact_count()
    done = 0
    for ids in selectors.contact_ids_all(batch_size=batch_size):
        with transaction.atomic():
            was_mql = set(ContactScore.objects.filter(contact_id__in=ids, qualifies_as_mql=True)
                          .values_list("contact_id", flat=True))
            rows = _contact_score_rows(version, terms, selectors.score_inputs(contact_ids=ids), when)
            _upsert_contacts(rows)
            # Only contacts that newly meet the MQL criteria need the lifecycle's attention.
            crossed = [r.contact_id for r in rows if r.qualifies_as_mql and r.contact_id not in was_mql]
            if crossed:
                transaction.on_commit(partial(_after_rescore, crossed))
        done += len(ids)
        if progress:
            progress(done, total)
    account_ids = selectors.account_ids_with_contacts()
    for start in range(0, len(account_ids), batch_size):
        with transaction.atomic():
            _upsert_accounts(_account_score_rows(version, terms, account_ids[start:start + batch_size]))
    return done


# -------------------------------------------------------------------------------------------- predictive


def predictive_train(*, include_leaky: bool = False, algorithm: str = Algorithm.AUTO,
                     trained_by: User | None = None, accept_suspicious: bool = False) -> PredictiveModel:
    """Train on what was known before each contact's outcome, store the model with its card; non-leaky models
    become active.

    A model that uses columns sales writes after the handoff cannot score new leads honestly, so it is kept
    for comparison but never activated. A model whose held-out AUC is suspiciously high is refused (nothing is
    stored) unless accept_suspicious is given.
    """
    if algorithm not in Algorithm.values:
        raise ValidationFailed(f"unknown algorithm {algorithm!r}; use one of {Algorithm.values}", field="algorithm")
    from smarketing.scoring import predictive  # scikit-learn loads only when training

    rows = selectors.training_rows_before_qualification()
    outcomes = selectors.contact_outcomes()
    labels = [1 if r["id"] in outcomes.opportunity else 0 for r in rows]
    try:
        trained = predictive.train(rows, labels, include_leaky=include_leaky, algorithm=algorithm,
                                   label_name="became an opportunity or customer",
                                   first_seen=[r["first_seen_at"] for r in rows])
    except predictive.NotEnoughOutcomes as exc:
        raise ValidationFailed(str(exc), field="outcomes", record="predictive_model") from None
    if trained.card["suspicious"] and not accept_suspicious:
        raise ValidationFailed(f"model not stored: {trained.card['suspicious']}; look at the excluded and top "
                               "features, or train again with accept_suspicious (--accept-suspicious) to keep it",
                               field="auc", record="predictive_model",
                               details=[{k: trained.card[k] for k in ("auc", "top_features", "excluded_columns",
                                                                       "excluded_contacts", "cutoff")}])
    return _predictive_model_store(trained=trained, include_leaky=include_leaky, trained_by=trained_by)


@transaction.atomic
def _predictive_model_store(*, trained: predictive.Trained, include_leaky: bool,
                            trained_by: User | None) -> PredictiveModel:
    activate = not include_leaky
    if activate:
        PredictiveModel.objects.filter(active=True).update(active=False)
    model = PredictiveModel.objects.create(
        created_at=clock.now(), algorithm=trained.algorithm, include_leaky=include_leaky, n_train=trained.n_train,
        n_test=trained.n_test, auc=trained.auc, brier=trained.brier, base_rate=trained.base_rate,
        card={**trained.card, "active": activate}, artefact=trained.artefact, active=activate,
        trained_by=trained_by)
    if activate:
        from smarketing.scoring.tasks import scores_rebuild_all_task

        transaction.on_commit(lambda: scores_rebuild_all_task.enqueue())
    return model


@transaction.atomic
def predictive_model_activate(*, model: PredictiveModel) -> PredictiveModel:
    """Make a stored non-leaky model the one that scores contacts."""
    if model.include_leaky:
        raise ValidationFailed(f"model {model.pk} uses leaky columns and cannot score new leads",
                               field="include_leaky", record=f"predictive_model:{model.pk}")
    PredictiveModel.objects.filter(active=True).exclude(pk=model.pk).update(active=False)
    PredictiveModel.objects.filter(pk=model.pk).update(active=True)
    model.active = True
    from smarketing.scoring.tasks import scores_rebuild_all_task

    transaction.on_commit(lambda: scores_rebuild_all_task.enqueue())
    return model


def predictive_score(*, contact: Contact) -> float | None:
    """The active model's probability that this contact converts (None without an active model)."""
    _, probs = _predictive([contact.pk])
    return probs.get(contact.pk)
