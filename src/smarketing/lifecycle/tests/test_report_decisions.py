"""Every MQL entry's decision read in one query over the whole history (`mql_decision_list`, what the scoreboard
keeps) is the decision `mql_outcomes` gives it: decision rows, the next change out of MQL (also at the same instant,
after a re-entry, corrected), entries still waiting, and account entries left out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from smarketing.lifecycle.enums import Stage
from smarketing.lifecycle.models import StageChange
from smarketing.lifecycle.selectors_report import mql_decision_list, mql_outcomes
from smarketing.lifecycle.services import stage_change_record
from smarketing.lifecycle.services_corrections import stage_change_correct
from smarketing.lifecycle.services_handoff import handoff_accept, handoff_recycle, handoff_reject, mql_qualify
from smarketing.testing.factories import AccountFactory, ContactFactory

DAY = timedelta(days=1)


def _imported(person: Any, *moves: tuple[str, Any]) -> list[StageChange]:
    return [stage_change_record(contact=person, to_stage=stage, occurred_at=when, actor_kind="import")
            for stage, when in moves]


def test_the_whole_history_read_at_once_gives_each_mql_the_decision_of_mql_outcomes(active_playbook, sellers, users,
                                                                                       now, make_lead):
    # given MQLs that sales decided on (accepted, rejected, recycled) and one still waiting
    decided = [make_lead() for _ in range(4)]
    for lead in decided:
        assert mql_qualify(contact=lead).qualified
    manager = sellers["emea_a"].manager
    handoff_accept(contact=decided[0], user=manager)
    handoff_reject(contact=decided[1], user=manager, reason_key="student_or_job_seeker")
    handoff_recycle(contact=decided[2], user=manager)
    # and imported history without decision rows: the next change out of MQL answers it
    t = now - timedelta(days=30)
    moved = {stage: ContactFactory() for stage in ("sal", "opportunity", "disqualified", "recycled", "lead")}
    for stage, person in moved.items():
        _imported(person, ("mql", t), (stage, t + DAY))
    # a move out of MQL at the very instant of the entry (after it by id), and a re-entry decided the same way
    same_instant, again = ContactFactory(), ContactFactory()
    _imported(same_instant, ("mql", t), ("sal", t))
    reentered = _imported(again, ("mql", t), ("disqualified", t + DAY), ("mql", t + 2 * DAY), ("recycled", t + 2 * DAY),
                          ("mql", t + 3 * DAY))
    # an MQL entry backfilled before a move that did not leave MQL (it left the stage recorded before it)
    backfilled = ContactFactory()
    _imported(backfilled, ("lead", t - DAY), ("sal", t + DAY), ("mql", t))
    # a move out of MQL that RevOps corrected since, and an MQL entry that was itself corrected
    corrected, wrong = ContactFactory(), ContactFactory()
    [_, mistaken_sal] = _imported(corrected, ("mql", t), ("sal", t + DAY))
    [mistaken_mql] = _imported(wrong, ("mql", t))
    for change in (mistaken_sal, mistaken_mql):
        stage_change_correct(stage_change_id=change.pk, reason="recorded by mistake", corrected_by=users["revops"])
    # and an account's MQL entry (the decisions are contacts')
    stage_change_record(account=AccountFactory(), to_stage="mql", occurred_at=t)

    # when every entry's decision is read at once
    listed = dict(mql_decision_list())

    # then it is what mql_outcomes gives each contact's MQL entry, "" where it gives none
    entries = list(StageChange.objects.filter(to_stage=Stage.MQL, contact__isnull=False).order_by("id"))
    outcomes = mql_outcomes(entries)
    assert listed == {c.pk: outcomes[c.pk].decision if c.pk in outcomes else "" for c in entries}
    # and not trivially: each way of deciding is there
    by_contact = {c.contact_id: listed[c.pk] for c in entries if c.contact_id != again.pk}
    assert [by_contact[p.pk] for p in decided] == ["accept", "reject", "recycle", ""]
    assert {stage: by_contact[p.pk] for stage, p in moved.items()} == {
        "sal": "accept", "opportunity": "accept", "disqualified": "reject", "recycled": "recycle", "lead": ""}
    # (the corrected move decides nothing: the MQL waits, as if it had never been recorded)
    assert [by_contact[p.pk] for p in (same_instant, corrected, wrong, backfilled)] == ["accept", "", "", ""]
    assert [listed[c.pk] for c in reentered if c.to_stage == Stage.MQL] == ["reject", "recycle", ""]
