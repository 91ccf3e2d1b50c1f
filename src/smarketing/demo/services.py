"""Seeding the demo company into the configured database, in one transaction.

The simulator (pure) plans people, campaigns and two playbook versions; this module creates the users and the
v2 draft through the team and playbook services, writes the simulated CRM, touchpoints, stage history, the handoff
history and feedback with bulk inserts, chunk by chunk (`demo.rows`), then sizes v2's revenue goal on what the
company won and has both teams sign v2 off (so the demo shows a real sign-off). Why raw bulk inserts instead of
the other apps' services: millions of append-only rows; the rows are exactly what those services write. Small volumes go through the services themselves (`demo.services_history`):
marketing's monthly SLA verdicts, campaign briefs with sales' sign-off, and the reps' outreach.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from smarketing.campaigns.models import Campaign
from smarketing.core import bulk
from smarketing.core.errors import Conflict, ValidationFailed
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.demo import briefs, services_history, simulator, writer
from smarketing.demo.models import DemoSeed
from smarketing.demo.rows import EXPLICIT_IDS, _Ids, chunk_rows, write_chunk  # noqa: F401 (the seed benchmark)
from smarketing.demo.selectors import database_is_empty
from smarketing.demo.simulator import Person, Simulation
from smarketing.demo.truth import GroundTruth
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.models import PlaybookVersion
from smarketing.playbook.selectors import playbook_terms, playbook_version_active_get
from smarketing.playbook.services import (
    playbook_bootstrap,
    playbook_draft_create,
    playbook_draft_update,
    playbook_sign_off,
)
from smarketing.team.enums import Role
from smarketing.team.models import User
from smarketing.team.services import user_create

DEMO_PASSWORD = "demo"
SOURCE = "demo"
Progress = Callable[[int, int, int], None]  # (chunks done, chunks in all, rows written so far)


@dataclass(frozen=True)
class DemoSeedResult:
    size: str
    seed: int
    seconds: float
    counts: dict[str, int]
    logins: list[tuple[str, str]]  # (username, role), one per role; the password is DEMO_PASSWORD
    truth: GroundTruth = field(repr=False)

    @property
    def rows(self) -> int:
        return sum(v for k, v in self.counts.items() if k != "users")


def demo_seed(*, size: str, seed: int, progress: Progress | None = None, force: bool = False) -> DemoSeedResult:
    """Seed the demo company of a size from a seed; all or nothing."""
    if size not in simulator.SIZES:
        raise ValidationFailed(f"size {size!r} is not one of {', '.join(simulator.SIZES)}", field="size")
    started = time.perf_counter()
    try:
        with transaction.atomic():
            result = _seed(size=size, seed=seed, progress=progress, force=force, started=started)
    except IntegrityError as exc:
        raise Conflict(f"the demo company conflicts with rows already in this database ({str(exc).splitlines()[0]}); "
                       "seed an empty database", record="demo") from None
    # Why: on PostgreSQL the deferred foreign-key checks run at commit; the result reports the whole time.
    return replace(result, seconds=time.perf_counter() - started)


def _seed(*, size: str, seed: int, progress: Progress | None, force: bool, started: float) -> DemoSeedResult:
    if not database_is_empty() and not force:
        raise Conflict("the database already has contacts; seed an empty database or pass --force to add the demo "
                       "company anyway", record="demo")
    if Account.objects.filter(source=SOURCE).exists():
        raise Conflict("the demo company is already in this database; use a fresh database (DATABASE_URL)",
                       record="demo")
    writer.begin_bulk()
    plan = simulator.simulate(size=size, seed=seed)  # people and campaigns; playbooks are replaced below
    v1 = _active_playbook()
    users = _users(plan.people)
    v2 = _draft_v2(v1, users, plan)
    sim = simulator.simulate(size=size, seed=seed, playbooks=[playbook_terms(v1), playbook_terms(v2)])
    ids = _Ids(account=writer.next_id(Account), contact=writer.next_id(Contact),
               opportunity=writer.next_id(Opportunity), campaign=writer.next_id(Campaign),
               users=[u.pk for u in users], versions=[v1.pk, v2.pk])
    counts = {"users": len(users), "campaigns": _write_campaigns(sim, ids)}
    n_chunks = -(-sim.spec.accounts // sim.spec.chunk_accounts)
    written = counts["campaigns"]
    if progress is not None:
        progress(0, n_chunks, written)
    wanted = {k: i for k, i in zip(sim.campaigns["key"], sim.campaigns["idx"], strict=True)
              if k in {b.key for b in briefs.BRIEFS} | set(briefs.NO_BRIEF)}
    candidates: list[pd.DataFrame] = []
    first_names: dict[int, str] = {}
    won = 0.0
    for chunk in sim.chunks():
        won += simulator.won_revenue(chunk.opportunities)
        for name, n in write_chunk(chunk, ids).items():
            counts[name] = counts.get(name, 0) + n
            written += n
        found = briefs.outreach_candidates(chunk.handoffs, chunk.touches, wanted)
        candidates.append(found)
        people = chunk.contacts[chunk.contacts["id"].isin(found["contact"])]
        first_names.update(zip(people["id"].tolist(), people["first_name"].tolist(), strict=True))
        if progress is not None:
            progress(chunk.index + 1, n_chunks, written)
    writer.reset_sequences([Account, Contact, Opportunity, Campaign, *EXPLICIT_IDS])
    _agree_v2(v1, v2, users, sim, revenue_goal=simulator.revenue_goal(won, seed))
    # Small volumes through the other apps' services, so this history is written the way the product writes it.
    counts["marketing_verdicts"] = services_history.marketing_verdicts_write()
    counts["briefs"] = services_history.briefs_write(sim=sim, ids=ids, users=users)
    counts["outreach"] = services_history.outreach_write(sim=sim, ids=ids, users=users,
                                                         candidates=pd.concat(candidates, ignore_index=True),
                                                         first_names=first_names)
    truth = sim.truth()
    seconds = time.perf_counter() - started
    DemoSeed.objects.create(size=size, seed=seed, seconds=seconds, counts=counts, truth=_jsonable(truth))
    logins = [(p.username, p.role) for p in sim.people[:4]]
    return DemoSeedResult(size=size, seed=seed, seconds=seconds, counts=counts, logins=logins, truth=truth)


def _jsonable(truth: GroundTruth) -> dict[str, Any]:
    import json

    return json.loads(truth.to_json())


_clock_at = services_history.clock_at


def _active_playbook() -> PlaybookVersion:
    """The active version; on a new database the shipped default, adopted as of the first simulated day.

    `smarketing migrate` adopts the default when the database is created, today, while the demo's history starts
    a year earlier: a bootstrap version that is still the only one and has judged nothing yet is dated back to the
    first simulated day, so its activation comes before the history it judges and before v2 supersedes it.
    """
    start = simulator.start_datetime()
    if not PlaybookVersion.objects.filter(status="active").exists():
        with _clock_at(start):
            playbook_bootstrap()
    version = playbook_version_active_get()
    if (version.bootstrap and version.activated_at is not None and version.activated_at > start
            and not PlaybookVersion.objects.exclude(pk=version.pk).exists() and not StageChange.objects.exists()):
        PlaybookVersion.objects.filter(pk=version.pk).update(activated_at=start)
        version.refresh_from_db()
    return version


def _users(people: list[Person]) -> list[User]:
    """One login per role (password 'demo'), then the marketers and sellers; existing usernames are reused."""
    existing = {u.username: u for u in User.objects.filter(username__in=[p.username for p in people])}
    shared_hash = make_password(DEMO_PASSWORD)
    out: list[User] = []
    # Why: the sales login is the sellers' manager, so it decides on their MQLs (an MQL belongs to its owner).
    boss: User | None = None
    for i, p in enumerate(people):
        user = existing.get(p.username)
        if user is None and i < 4:
            user = user_create(username=p.username, password=DEMO_PASSWORD, role=p.role, first_name=p.first_name,
                               last_name=p.last_name, email=f"{p.username}@ledgerline.example",
                               team_name=p.team, region=p.region, segment=p.segment, capacity_per_week=p.capacity,
                               enforce_password_policy=False)  # the local demo's documented shared password
        elif user is None:
            # Why not user_create: hashing a password per seller costs seconds; they all share the demo password.
            user = User(username=p.username, password=shared_hash, role=p.role, first_name=p.first_name,
                        last_name=p.last_name, email=f"{p.username}@ledgerline.example", team_name=p.team,
                        region=p.region, segment=p.segment, capacity_per_week=p.capacity,
                        manager=boss if p.role == Role.SALES else None)
            user.save()
        if i < 4 and p.role == Role.SALES:
            boss = user
        out.append(user)
    return out


def _draft_v2(v1: PlaybookVersion, users: list[User], plan: Simulation) -> PlaybookVersion:
    """Marketing drafts v2 after the mid-year review (the simulation runs on its terms)."""
    with _clock_at(plan.switch_at - timedelta(days=3)):
        content = simulator.v2_content(v1.content, monthly_mqls=plan.spec.monthly_mqls)
        return playbook_draft_create(content=content, created_by=users[0], based_on=v1, notes="Mid-year review (draft)")


def _agree_v2(v1: PlaybookVersion, draft: PlaybookVersion, users: list[User], plan: Simulation, *,
              revenue_goal: float | None) -> None:
    """The draft gets its revenue goals; marketing signs it, then sales on the switch day.

    Why the goals come last: they are sized on what the simulated company wins, known only after the simulation
    (the simulation does not read goals, so its terms are the same either way).
    """
    maria, sam = users[0], users[1]
    with _clock_at(plan.switch_at - timedelta(days=3)):
        content = simulator.v2_content(v1.content, monthly_mqls=plan.spec.monthly_mqls,
                                       revenue_goal=revenue_goal)
        goal = ("" if revenue_goal is None else
                f" and a {simulator.GOAL_YEAR} revenue goal of {revenue_goal:,.0f} the teams can reach with a stretch")
        draft = playbook_draft_update(
            version=draft, content=content,
            notes="Mid-year review: MQL threshold down 5 points, faster engagement decay (sales asked for more, "
                  f"earlier leads), a monthly MQL commitment marketing can keep ({plan.spec.monthly_mqls}){goal}.")
        playbook_sign_off(version=draft, user=maria, comment="Marketing agrees.")
    with _clock_at(plan.switch_at):
        playbook_sign_off(version=draft, user=sam, comment="Sales agrees; we will work the extra MQLs within SLA.")


def _sign_off_v2(v1: PlaybookVersion, users: list[User], plan: Simulation, *,
                 revenue_goal: float | None = None) -> PlaybookVersion:
    """v2 drafted and signed off in one go, before any history is written (the seed benchmark's peer run)."""
    draft = _draft_v2(v1, users, plan)
    _agree_v2(v1, draft, users, plan, revenue_goal=revenue_goal)
    draft.refresh_from_db()
    return draft


def _write_campaigns(sim: Simulation, ids: _Ids) -> int:
    c = sim.campaigns
    start = simulator.start_datetime().date()
    rows = []
    for r in c.itertuples():
        begin = start + timedelta(days=int(r.start_day))
        end = start + timedelta(days=int(r.end_day) - 1)
        created = writer.timestamps(simulator.to_datetime64(np.array([max(r.start_day - 14, -30)])))[0]
        rows.append((ids.campaign + int(r.idx), r.name, r.channel, r.type, begin.isoformat(), end.isoformat(),
                     f"{r.budget:.2f}", f"{r.actual_cost:.2f}", ids.users[int(r.owner)], r.audience, r.message,
                     SOURCE, r.key, created, created))
    return bulk.rows_insert(Campaign, ["id", "name", "channel", "type", "start_date", "end_date", "budget", "actual_cost",
                                    "owner", "audience", "core_message", "source", "source_id", "created_at",
                                    "updated_at"], rows)
