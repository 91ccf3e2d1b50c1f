"""Writes that follow a deal's outcome: a won opportunity makes its account and primary contact customers, a lost
one's reason becomes feedback (as a rejected MQL's reason does).

Runs after the opportunity's write committed, in the `opportunity_outcome_act` task (crm's services cannot call
the lifecycle inline: the lifecycle's stage-change service writes the CRM's stage caches through them). Every step
is idempotent, so a retry or a second close records nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import transaction

from smarketing.core import clock
from smarketing.core.errors import NotFound
from smarketing.crm.enums import Outcome
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.crm.services import account_update
from smarketing.feedback.capture import feedback_capture_opportunity_losses
from smarketing.lifecycle.enums import ActorKind, Stage
from smarketing.lifecycle.services import stage_change_record_once


@dataclass(frozen=True)
class OutcomeApplied:
    """What an opportunity's outcome changed: the customer stage changes recorded, the loss feedback created."""

    opportunity_id: int
    outcome: str
    stage_change_ids: list[int] = field(default_factory=list)
    feedback_created: int = 0


@transaction.atomic
def opportunity_outcome_apply(*, opportunity_id: int) -> OutcomeApplied:
    """Act on a closed opportunity: won → account and primary contact become customers at the close time (stamped
    with the playbook version in force then; never moved back, nothing recorded for one already a customer);
    lost → its loss reason recorded once as loss feedback. An open deal changes nothing."""
    opportunity = Opportunity.objects.filter(pk=opportunity_id).first()
    if opportunity is None:
        raise NotFound(f"opportunity {opportunity_id} does not exist", record=f"opportunity:{opportunity_id}")
    if opportunity.outcome == Outcome.WON:
        return OutcomeApplied(opportunity_id, opportunity.outcome, stage_change_ids=_customers_from_win(opportunity))
    if opportunity.outcome == Outcome.LOST:
        report = feedback_capture_opportunity_losses(opportunity_ids=[opportunity.pk])
        return OutcomeApplied(opportunity_id, opportunity.outcome, feedback_created=report.created)
    return OutcomeApplied(opportunity_id, opportunity.outcome)


def _customers_from_win(opportunity: Opportunity) -> list[int]:
    when = opportunity.closed_at or clock.now()  # one moment for the account and the contact
    recorded: list[int | None] = []
    if opportunity.account_id is not None:
        account = Account.objects.select_for_update().get(pk=opportunity.account_id)
        recorded.append(_customer_change(opportunity, when, account=account))
        if not account.is_customer:  # a win dated before later history still makes the account a customer
            account_update(account=account, data={"is_customer": True})
    if opportunity.primary_contact_id is not None:
        contact = Contact.objects.select_for_update().get(pk=opportunity.primary_contact_id)
        recorded.append(_customer_change(opportunity, when, contact=contact))
    return [pk for pk in recorded if pk is not None]


def _customer_change(opportunity: Opportunity, when: datetime, *, account: Account | None = None,
                     contact: Contact | None = None) -> int | None:
    """The customer stage change the win records for one subject (None when it is one already or was recorded)."""
    subject = account if account is not None else contact
    if subject is None or subject.lifecycle_stage == Stage.CUSTOMER:
        return None
    change, created = stage_change_record_once(
        account=account, contact=contact, to_stage=Stage.CUSTOMER, occurred_at=when,
        actor_kind=ActorKind.SYSTEM, reason=f"won opportunity {opportunity.name!r}"[:500],
        details={"opportunity_id": opportunity.pk, "amount": str(opportunity.amount),
                 "currency": opportunity.currency},
        source_key=f"won:opportunity:{opportunity.pk}:{'account' if account is not None else 'contact'}")
    return change.pk if created else None
