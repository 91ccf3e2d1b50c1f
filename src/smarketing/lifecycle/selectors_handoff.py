"""Reads for qualification and routing: a contact's facts and score now, the open MQL, sellers with their load."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q

from smarketing.campaigns.models import Touchpoint
from smarketing.core.errors import Conflict
from smarketing.crm.models import Contact
from smarketing.lifecycle.enums import Decision, Stage
from smarketing.lifecycle.models import Assignment, HandoffDecision, StageChange
from smarketing.lifecycle.routing import Seller
from smarketing.playbook.schema import Playbook
from smarketing.scoring import rules as scoring_rules
from smarketing.team.enums import Role
from smarketing.team.models import User

CONTACT_FACT_FIELDS = ("email", "first_name", "last_name", "title", "buying_role", "lead_source", "country",
                       "lifecycle_stage", "attributes")
ACCOUNT_FACT_FIELDS = ("name", "domain", "industry", "employees", "revenue_band", "region", "segment",
                       "is_customer", "lifecycle_stage")


def _contact_plain(contact: Contact) -> tuple[dict[str, Any], dict[str, Any] | None]:
    plain = {f: getattr(contact, f) for f in CONTACT_FACT_FIELDS}
    account = contact.account
    acc = {f: getattr(account, f) for f in ACCOUNT_FACT_FIELDS} if account is not None else None
    return plain, acc


def contact_facts(contact: Contact) -> dict[str, Any]:
    """The flat facts (`contact.*`, `account.*`) that playbook criteria test."""
    plain, acc = _contact_plain(contact)
    return scoring_rules.facts_from(plain, acc)


def contact_score_now(*, contact: Contact, terms: Playbook, as_of: datetime) -> tuple[dict[str, Any], list[str]]:
    """The contact's score as of a moment under the given terms, and the MQL criteria that do not hold."""
    plain, acc = _contact_plain(contact)
    facts = scoring_rules.facts_from(plain, acc)
    touches = [scoring_rules.Touch(kind=k, occurred_at=t) for k, t in
               Touchpoint.objects.filter(contact=contact, occurred_at__lte=as_of).values_list("kind", "occurred_at")]
    result = scoring_rules.score_contact(terms.scoring, facts, touches, as_of)
    return result.as_dict(), scoring_rules.mql_unmet(terms, result, facts)


def mql_open_get(*, contact_id: int) -> StageChange:
    """The stage change that made the contact its current MQL (the one a handoff decision answers)."""
    change = (StageChange.objects.filter(contact_id=contact_id, to_stage=Stage.MQL)
              .order_by("-occurred_at", "-id").first())
    if change is None:
        raise Conflict(f"contact {contact_id} never became an MQL", record=f"contact:{contact_id}")
    return change


def seller_snapshots(*, period_start: datetime, period_end: datetime) -> list[Seller]:
    """Every active sales user as routing sees them, with leads assigned to them in the period."""
    users = (User.objects.filter(role=Role.SALES, is_active=True)
             .annotate(load=Count("lead_assignments", filter=Q(lead_assignments__assigned_at__gte=period_start,
                                                              lead_assignments__assigned_at__lt=period_end)))
             .order_by("id"))
    return [Seller(id=u.pk, name=u.get_full_name() or u.username, team=u.team_name,
                   capacity_per_week=u.capacity_per_week, load=u.load,  # type: ignore[attr-defined]
                   out_of_office_until=u.out_of_office_until) for u in users]


def assignment_current(*, mql_change_id: int) -> Assignment | None:
    """The latest assignment of an MQL."""
    return (Assignment.objects.select_related("owner").filter(mql_change_id=mql_change_id)
            .order_by("-assigned_at", "-id").first())


# ------------------------------------------------------------------------- many contacts at once (qualify --all)


def contact_ids_in_stages(*, stages: Iterable[str], limit: int | None = None) -> list[int]:
    """Ids of the contacts now in these stages, ascending (the first `limit` of them)."""
    ids = Contact.objects.filter(lifecycle_stage__in=list(stages)).order_by("id").values_list("id", flat=True)
    return list(ids[:limit] if limit else ids)


def contacts_for_qualification(*, contact_ids: Sequence[int]) -> list[Contact]:
    """One batch of contacts with their accounts, locked until the batch commits, in id order."""
    return list(Contact.objects.select_for_update(of=("self",)).select_related("account")
                .filter(pk__in=list(contact_ids)).order_by("id"))


def recycle_until_by_contact(*, contact_ids: Sequence[int]) -> dict[int, date | None]:
    """Each contact's nurture date from its latest reject or recycle decision (contacts without one are absent)."""
    out: dict[int, date | None] = {}
    for cid, until in (HandoffDecision.objects.filter(contact_id__in=list(contact_ids),
                                                      decision__in=[Decision.RECYCLE, Decision.REJECT])
                       .order_by("contact_id", "-decided_at", "-id").values_list("contact_id", "recycle_until")):
        out.setdefault(cid, until)
    return out


def stages_reached_before_later_history(*, contact_ids: Sequence[int], at: datetime) -> dict[int, str]:
    """For the contacts whose history already goes past `at`: the stage that history had reached at `at` ("")."""
    later = set(StageChange.objects.filter(contact_id__in=list(contact_ids), occurred_at__gt=at)
                .values_list("contact_id", flat=True).distinct())
    out = dict.fromkeys(later, "")
    for cid, stage in (StageChange.objects.filter(contact_id__in=list(later), occurred_at__lte=at)
                       .order_by("contact_id", "occurred_at", "id").values_list("contact_id", "to_stage")):
        out[cid] = stage
    return out
