"""`score threshold` on recorded history: the set-based read gives the table the contact-by-contact reading gave."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from smarketing.campaigns.models import Touchpoint
from smarketing.core import clock
from smarketing.crm.models import Contact
from smarketing.demo.services import demo_seed
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.scoring import rules
from smarketing.scoring.selectors import (
    ACCOUNT_FACT_FIELDS,
    CONTACT_FACT_FIELDS,
    DECISION_STAGES,
    contact_outcomes,
    threshold_outcomes,
    threshold_proposal,
    touch_columns,
)
from smarketing.scoring.threshold import Outcome, propose_threshold
from smarketing.testing.factories import ContactFactory


def _reference_outcomes() -> list[Outcome]:
    """The table's inputs read one contact at a time through the ORM and scored by the scalar rules: each
    contact as of its first decision, else its latest touch, else now (what `score threshold` did before)."""
    _, terms = playbook_active_terms()
    outcomes = contact_outcomes()
    now = clock.now()
    out = []
    for contact in Contact.objects.select_related("account").order_by("id"):
        facts = rules.facts_from({f: getattr(contact, f) for f in CONTACT_FACT_FIELDS},
                                 {f: getattr(contact.account, f) for f in ACCOUNT_FACT_FIELDS}
                                 if contact.account is not None else None)
        touches = [rules.Touch(k, t) for k, t in Touchpoint.objects.filter(contact=contact)
                   .values_list("kind", "occurred_at")]
        decided = (StageChange.objects.filter(contact=contact, to_stage__in=list(DECISION_STAGES))
                   .order_by("occurred_at").values_list("occurred_at", flat=True).first())
        as_of = decided or max((t.occurred_at for t in touches), default=now)
        total = rules.score_contact(terms.scoring, facts, touches, as_of).total
        out.append(Outcome(score=total, accepted=contact.pk in outcomes.accepted,
                           opportunity=contact.pk in outcomes.opportunity, won=contact.pk in outcomes.won))
    return out


def _table(outcomes: list[Outcome]) -> dict[str, Any]:
    _, terms = playbook_active_terms()
    return propose_threshold(outcomes, target_acceptance_rate=terms.sla.marketing.min_acceptance_rate,
                             current_threshold=terms.scoring.mql_threshold).as_dict()


@pytest.mark.slow
def test_on_the_demo_the_set_based_table_equals_the_contact_by_contact_one(active_playbook):
    # given the small demo company's history
    demo_seed(size="small", seed=1)
    clock.freeze(datetime(2026, 12, 1, 12, tzinfo=UTC))
    # when the threshold table is built from whole-table reads
    proposal = threshold_proposal(score="total")
    new, _ = threshold_outcomes(score="total")
    # then every contact has the score the scalar rules give it one by one (to rounding in the last bit: numpy's
    # power and Python's differ there) and the same outcome
    reference = _reference_outcomes()
    assert len(new) == len(reference) > 2000
    assert [o.score for o in new] == pytest.approx([o.score for o in reference], rel=1e-12, abs=1e-12)
    assert [(o.accepted, o.opportunity, o.won) for o in new] == [(o.accepted, o.opportunity, o.won)
                                                                  for o in reference]
    # and the table and the proposal are the same, row for row
    assert proposal.as_dict() | {"basis": ""} == _table(reference) | {"basis": ""}
    assert sum(r.mql_volume for r in proposal.table) > 0


def test_touch_columns_keep_microseconds_and_only_the_contacts_asked_for(active_playbook):
    # given two contacts with touches, one of them at a fractional second
    first, second, other = ContactFactory(), ContactFactory(), ContactFactory()
    at = datetime(2026, 3, 4, 17, 25, 8, 123456, tzinfo=UTC)
    for contact, when in ((first, at), (second, at + timedelta(days=1)), (second, at - timedelta(days=3)),
                          (other, at)):
        Touchpoint.objects.create(contact=contact, kind="page_view", channel="web", occurred_at=when)
    # when the touches of two of them are read as columns
    columns = touch_columns(contact_ids=sorted([first.pk, second.pk]))
    # then each touch keeps its exact time and points at its contact's row; the third contact is left out
    got = sorted(zip(columns.contact_index.tolist(), columns.occurred_at.tolist(), strict=True))
    row = {pk: i for i, pk in enumerate(sorted([first.pk, second.pk]))}
    expected = sorted([(row[first.pk], at), (row[second.pk], at + timedelta(days=1)),
                       (row[second.pk], at - timedelta(days=3))])
    assert [(i, t.replace(tzinfo=UTC)) for i, t in got] == expected
    assert list(columns.kind) == ["page_view"] * 3
