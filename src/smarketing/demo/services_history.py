"""The parts of the demo year written through the other apps' services, where the volume is small.

Marketing's monthly SLA verdicts (`lifecycle.services_sla_check.marketing_period_judge`, as its worker would have run
each month), campaign briefs with sales' comments, sign-offs and launches (`campaigns.briefs`), and the reps'
outreach that carries them (`campaigns.briefs.outreach_record`). Each write happens with the clock pinned to its
simulated moment where the service reads the clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd

from smarketing.campaigns.briefs import (
    brief_comment_add,
    brief_create,
    brief_launch,
    brief_sign_off,
    brief_update,
    outreach_record,
)
from smarketing.core import clock
from smarketing.demo import briefs, simulator
from smarketing.demo.rows import SOURCE, _Ids
from smarketing.demo.simulator import Simulation
from smarketing.lifecycle import calendar
from smarketing.lifecycle import sla as sla_rules
from smarketing.lifecycle.services_sla_check import marketing_period_judge
from smarketing.playbook.selectors import playbook_active_terms
from smarketing.team.models import User


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Pin the clock to a simulated moment, then restore what it was."""
    before = clock._frozen
    clock.freeze(moment)
    try:
        yield
    finally:
        clock.freeze(before)


def marketing_verdicts_write() -> int:
    """Judge every commitment period that closed (and whose decision window passed) within the simulated year."""
    _, terms = playbook_active_terms()
    commitment, cal = terms.sla.marketing, terms.sla.calendar
    end = simulator.day_to_datetime(simulator.END_DAY)
    period = sla_rules.period_at(commitment.period, simulator.start_datetime(), cal.timezone)
    judged = 0
    while True:
        period = sla_rules.period_of(commitment.period, period.end)
        _, hi = period.bounds_utc(cal.timezone)
        # Why the next morning: the worker judges acceptance once sales' decision window after the close has passed.
        at = calendar.add_business_days(cal, hi, terms.sla.sales.decision_business_days) + timedelta(hours=1)
        if at >= end:
            return judged
        judged += len(marketing_period_judge(now=at))


def briefs_write(*, sim: Simulation, ids: _Ids, users: list[User]) -> int:
    """Briefs of the main campaigns: most signed off by sales and launched, some still awaiting sign-off."""
    index = _campaign_index(sim)
    signer = _signer(sim)
    written = 0
    for spec in briefs.BRIEFS:
        if spec.key not in index:
            continue
        row = sim.campaigns.iloc[index[spec.key]]
        campaign_id = ids.campaign + index[spec.key]
        author = users[int(row["owner"])]
        brief = brief_create(campaign_id=campaign_id, data=briefs.brief_data(spec, str(row["audience"])),
                             actor=author)
        seller = users[signer(spec.key)]
        for topic, text in spec.comments:
            brief_comment_add(brief_id=brief.pk, author=seller, text=text, topic=topic)
        if spec.status in ("signed", "changed"):
            brief_sign_off(brief_id=brief.pk, user=author)  # marketing's side, then sales'
            brief_sign_off(brief_id=brief.pk, user=seller, comment="Good to go; the team has the talk track.")
        if spec.status == "changed":
            brief_update(brief_id=brief.pk, data=spec.revision, actor=author)
        elif spec.status == "signed" and float(row["start_day"]) < simulator.END_DAY:
            with clock_at(simulator.day_to_datetime(float(row["start_day"]) + 9 / 24)):
                brief_launch(brief_id=brief.pk, actor=author)
        written += 1
    return written


def outreach_write(*, sim: Simulation, ids: _Ids, users: list[User], candidates: pd.DataFrame,
                   first_names: dict[int, str]) -> int:
    """The reps' emails and call notes to the MQLs the briefed campaigns brought in."""
    rng = np.random.default_rng(np.random.SeedSequence([sim.seed, 3]))
    index = {k: i for k, i in _campaign_index(sim).items()
             if k in {b.key for b in briefs.BRIEFS} | set(briefs.NO_BRIEF)}
    reps = [p.first_name for p in sim.people]
    messages = briefs.plan_outreach(rng, candidates, sim.spec.name, index, sim.habits.adherence, first_names, reps)
    for n, m in enumerate(messages):
        outreach_record(rep=users[m.owner], text=m.text, sent_at=simulator.day_to_datetime(m.sent), kind=m.kind,
                        campaign_id=ids.campaign + m.campaign, contact_id=ids.contact + m.contact,
                        account_id=ids.account + m.account, subject=m.subject, source=SOURCE,
                        source_id=f"demo-out-{n}")
    return len(messages)


def _campaign_index(sim: Simulation) -> dict[str, int]:
    return {str(k): int(i) for k, i in zip(sim.campaigns["key"], sim.campaigns["idx"], strict=True)}


def _signer(sim: Simulation) -> Any:
    """Who in sales signs a campaign's brief: an enterprise seller for account-based campaigns, else sam.sales."""
    sales = [i for i, p in enumerate(sim.people) if p.role == "sales"]
    enterprise = next((i for i in sales if sim.people[i].team == "Enterprise"), sales[0])
    abm = set(sim.campaigns.loc[sim.campaigns["type"] == "abm", "key"])
    return lambda key: enterprise if key in abm else sales[0]
