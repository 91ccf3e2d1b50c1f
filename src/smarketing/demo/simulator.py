"""A seeded, vectorised simulator of a B2B SaaS company's year: who it sells to, what marketing ran, what happened.

`simulate(size=..., seed=...)` plans the company (people, campaigns, playbook periods) and yields the rest in
chunks of accounts, so even the large company (100k+ contacts, 5M+ touchpoints) stays within bounded memory.
Each chunk has its own generator spawned from the seed, so the same seed always gives the same company.
No ORM here: frames in, frames out; `demo.services` writes them.

Times are float days since the first simulated day (00:00 UTC); the ground truth is in `demo.truth`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo import catalog, handoff, journeys, pipeline, recycle, stats
from smarketing.demo.themes import LOSS_DRIVERS, THEMES
from smarketing.demo.truth import GroundTruth
from smarketing.playbook import schema
from smarketing.playbook.selectors import default_playbook_data

END_DAY = float(catalog.WINDOW_DAYS)
SWITCH_DAY = 182.0  # when the demo's v2 playbook is signed off


@dataclass(frozen=True)
class SizeSpec:
    name: str
    accounts: int
    sellers: dict[str, int]
    marketers: int
    touch_scale: float
    chunk_accounts: int = 2000
    budget_scale: float = 1.0

    @property
    def monthly_mqls(self) -> int:
        """The MQL volume marketing commits to per month in v2: about what a second-half month delivers."""
        return max(10, int(round(self.accounts * 0.15, -1)))


SIZES = {
    "small": SizeSpec("small", 400, {"Inbound": 3, "EMEA": 2, "AMER": 2, "Enterprise": 1}, 3, 0.5,
                      budget_scale=0.1),
    "medium": SizeSpec("medium", 4000, {"Inbound": 6, "EMEA": 4, "AMER": 5, "Enterprise": 3}, 5, 1.0),
    "large": SizeSpec("large", 17500, {"Inbound": 12, "EMEA": 8, "AMER": 10, "Enterprise": 6}, 8, 2.55,
                      budget_scale=4.0),
}


@dataclass(frozen=True)
class Person:
    username: str
    first_name: str
    last_name: str
    role: str
    team: str = ""
    region: str = ""
    segment: str = ""
    capacity: int = 0


@dataclass(frozen=True)
class PlaybookPeriod:
    """Playbook terms in force from `starts_day` on (index = position among the demo's versions)."""

    index: int
    starts_day: float
    terms: schema.Playbook


@dataclass
class Chunk:
    index: int
    accounts: pd.DataFrame
    contacts: pd.DataFrame
    touches: pd.DataFrame
    opportunities: pd.DataFrame
    stage_changes: pd.DataFrame
    feedback: pd.DataFrame
    handoffs: pd.DataFrame  # one row per MQL episode: routing, SLA clocks, the decision (demo.handoff)

    def rows(self) -> int:
        return sum(len(f) for f in (self.accounts, self.contacts, self.touches, self.opportunities,
                                    self.stage_changes, self.feedback, self.handoffs))


def v2_content(v1: dict[str, Any], *, monthly_mqls: int | None = None,
               revenue_goal: float | None = None) -> dict[str, Any]:
    """The demo's second playbook: after the mid-year review both teams lower the bar and speed up decay,
    marketing commits to a monthly MQL volume it can keep (`monthly_mqls`, when given), and the revenue goals are
    rescaled so the year's goal is `revenue_goal` (when given; the other goals keep their share of it)."""
    import copy

    data = copy.deepcopy(v1)
    marketing = data.get("sla", {}).get("marketing")
    if monthly_mqls is not None and marketing is not None:
        marketing["period"] = "month"
        marketing["mql_volume"] = monthly_mqls
    if revenue_goal is not None:
        data["goals"] = scaled_goals(data.get("goals", []), revenue_goal)
    scoring = data["scoring"]
    # The one place the MQL bar is stated; the stage's entry criteria only add to it.
    scoring["mql_threshold"] = max(float(scoring["mql_threshold"]) - 5, 0)
    scoring["engagement_half_life_days"] = max(float(scoring["engagement_half_life_days"]) * 0.7, 1.0)
    return data


GOAL_YEAR = "2026"
GOAL_STRETCH = (1.10, 1.18)  # how far above the simulated year's wins the teams set the goal


def revenue_goal(won: float, seed: int) -> float:
    """The year's revenue goal the demo teams agree on: 10–18 % above what the company wins in the simulated year
    (the stretch drawn from the seed), rounded to 10k, so goal pacing reads "slightly behind", not absurd."""
    stretch = float(np.random.default_rng(np.random.SeedSequence([seed, 5])).uniform(*GOAL_STRETCH))
    return max(10_000.0, round(won * stretch, -4))


def scaled_goals(goals: list[dict[str, Any]], year_revenue: float) -> list[dict[str, Any]]:
    """Every goal scaled by one factor so the company-wide goal for GOAL_YEAR becomes `year_revenue`.

    Why one factor: the shipped quarters keep their share of the year; without a year goal, a year goal is added.
    """
    year = next((g for g in goals if g.get("period") == GOAL_YEAR and not g.get("segment")), None)
    if year is None:
        return [*goals, {"period": GOAL_YEAR, "revenue": year_revenue, "currency": "USD"}]
    factor = year_revenue / float(year["revenue"])
    return [{**g, "revenue": year_revenue if g is year else max(1000.0, round(float(g["revenue"]) * factor, -3))}
            for g in goals]


def won_revenue(opportunities: pd.DataFrame) -> float:
    """What the simulated company won in the simulated year (all closed deals close within it)."""
    return float(opportunities.loc[opportunities["outcome"] == "won", "amount"].sum())


def start_datetime() -> datetime:
    return datetime.combine(catalog.window_start(), time(0), tzinfo=UTC)


def day_to_datetime(day: float) -> datetime:
    return start_datetime() + timedelta(seconds=round(day * 86400))


def to_datetime64(days: np.ndarray) -> np.ndarray:
    """Float days → datetime64[s] (naive UTC)."""
    base = np.datetime64(start_datetime().replace(tzinfo=None), "s")
    return base + np.round(np.asarray(days, dtype=np.float64) * 86400).astype("int64").astype("timedelta64[s]")


def people(spec: SizeSpec, rng: np.random.Generator) -> list[Person]:
    """The demo's users: one login per role, the marketers who own campaigns and the sellers in their teams."""
    out = [Person("maria.marketing", "Maria", "Marketing", "marketing", team="Demand generation"),
           Person("sam.sales", "Sam", "Sales", "sales", team="Inbound", region="", segment="smb", capacity=40),
           Person("rita.revops", "Rita", "Revops", "revops", team="Revenue operations"),
           Person("vic.viewer", "Vic", "Viewer", "viewer", team="Leadership")]
    taken = {p.username for p in out}

    def name() -> tuple[str, str, str]:
        while True:
            first = str(catalog.FIRST_NAMES[int(rng.integers(len(catalog.FIRST_NAMES)))])
            last = str(catalog.LAST_NAMES[int(rng.integers(len(catalog.LAST_NAMES)))])
            username = journeys.ascii_slug(f"{first}.{last}")
            if username not in taken:
                taken.add(username)
                return first, last, username

    for _ in range(spec.marketers - 1):
        first, last, username = name()
        out.append(Person(username, first, last, "marketing", team="Demand generation"))
    team_meta = {"Inbound": ("", "smb"), "EMEA": ("EMEA", "mid_market"), "AMER": ("AMER", "mid_market"),
                 "Enterprise": ("", "enterprise")}
    for team, count in spec.sellers.items():
        region, segment = team_meta[team]
        for _ in range(count - (1 if team == "Inbound" else 0)):  # sam.sales is the first Inbound seller
            first, last, username = name()
            out.append(Person(username, first, last, "sales", team=team, region=region, segment=segment,
                              capacity=int(rng.choice([20, 30, 40, 50]))))
    return out


def campaigns_frame(spec: SizeSpec, marketers: list[int], rng: np.random.Generator) -> pd.DataFrame:
    """The year of campaigns with budgets and actual costs (scaled to the company's size) and owners."""
    rows = []
    for i, c in enumerate(catalog.CAMPAIGNS):
        budget = round(c.budget * spec.budget_scale * float(rng.uniform(0.9, 1.1)), -2)
        end_day = c.start_day + c.days
        elapsed = min(1.0, max(0.0, (END_DAY - c.start_day) / max(c.days, 1)))
        cost = round(budget * elapsed * float(rng.uniform(0.82, 1.08)), 2)
        rows.append({"idx": i, "key": c.key, "name": c.name, "channel": c.channel, "type": c.type,
                     "start_day": c.start_day, "end_day": end_day, "budget": budget, "actual_cost": cost,
                     "owner": marketers[i % len(marketers)], "audience": c.audience, "message": c.message,
                     "lift": c.lift, "role": c.role})
    return pd.DataFrame(rows)


@dataclass
class Simulation:
    """A planned company; iterate `chunks()` once, then read `truth()`."""

    spec: SizeSpec
    seed: int
    people: list[Person]
    campaigns: pd.DataFrame
    periods: list[PlaybookPeriod]
    habits: handoff.Habits
    stats: dict[str, Any] = field(default_factory=dict)
    feedback_themes: dict[str, str] = field(default_factory=dict)
    _done: bool = False

    @property
    def switch_at(self) -> datetime:
        return day_to_datetime(self.periods[-1].starts_day)

    def chunks(self) -> Iterator[Chunk]:
        counters = {"contact": 0, "opportunity": 0, "feedback": 0, "episode": 0, "stage_change": 0,
                    "touch": 0}
        sellers = [i for i, p in enumerate(self.people) if p.role == "sales"]
        self.stats = {}
        self.feedback_themes = {}
        n_chunks = -(-self.spec.accounts // self.spec.chunk_accounts)
        for k in range(n_chunks):
            rng = np.random.default_rng(np.random.SeedSequence([self.seed, 1, k]))
            a0 = k * self.spec.chunk_accounts
            a1 = min(self.spec.accounts, a0 + self.spec.chunk_accounts)
            accounts = journeys.accounts(rng, np.arange(a0, a1), self.people, sellers, self.periods[0].terms)
            contacts = journeys.contacts(rng, accounts, counters["contact"])
            counters["contact"] += len(contacts)
            touches, hazard = journeys.journeys(rng, accounts, contacts, self.campaigns, self.spec.touch_scale)
            chunk = pipeline.funnel(rng, k, accounts, contacts, touches, self.campaigns, self.periods, self.people,
                                    counters, self.stats, self.habits)
            for fid, theme in zip(chunk.feedback["source_id"], chunk.feedback["theme"], strict=True):
                self.feedback_themes[str(fid)] = str(theme)
            stats.accumulate(self.stats, chunk, hazard, self.campaigns)
            yield chunk
        self._done = True

    def truth(self) -> GroundTruth:
        """The planted facts and the realised rates; needs `chunks()` to have run to the end."""
        if not self._done:
            raise RuntimeError("iterate chunks() to the end before reading the truth")
        lifts = dict(zip(self.campaigns["name"], self.campaigns["lift"].astype(float), strict=True))
        roles = dict(zip(self.campaigns["name"], self.campaigns["role"], strict=True))
        channel_lifts: dict[str, float] = {}
        for channel, group in pd.DataFrame([(c.channel, c.lift, c.reach + c.acquisition * 0.01)
                                            for c in catalog.CAMPAIGNS if not c.customers_only],
                                           columns=["channel", "lift", "w"]).groupby("channel"):
            w = group["w"].to_numpy() + 1e-9
            channel_lifts[str(channel)] = round(float(np.average(group["lift"], weights=w)), 4)
        return GroundTruth(
            seed=self.seed, size=self.spec.name, window_start=catalog.window_start().isoformat(),
            as_of=catalog.as_of().isoformat(), playbook_switch_at=self.switch_at.isoformat(),
            campaign_lifts=lifts, campaign_roles=roles, channel_lifts=channel_lifts,
            expansion_lifts={c.name: journeys.EXPANSION_LIFT for c in catalog.CAMPAIGNS if c.customers_only},
            base_hazard_per_day=journeys.BASE_HAZARD, hazard_multipliers=journeys.hazard_multipliers(),
            win_rates=dict(catalog.WIN_RATE), loss_drivers={k: dict(v) for k, v in LOSS_DRIVERS.items()},
            themes={t.key: t.label for t in THEMES}, feedback_themes=dict(self.feedback_themes),
            conversion_rates=stats.rates(self.stats), exposure_conversion=stats.exposure_rates(self.stats),
            counts={k: int(v) for k, v in self.stats.items() if k.startswith("n_")},
            handoff=self._handoff_truth())

    def _handoff_truth(self) -> dict[str, Any]:
        return {"sellers": self.habits.by_username(self.people),
                "rejection_reason_weights": dict(handoff.REJECT_REASONS),
                "free_email_rejection_reason_weights": dict(handoff.REJECT_FREE),
                "recycle_decision_share": handoff.RECYCLE_SHARE, "reengage_share": dict(recycle.REENGAGE),
                "reengage_delay_days": recycle.REENGAGE_DELAY_DAYS}


def simulate(*, size: str = "small", seed: int = 1, playbooks: list[schema.Playbook] | None = None) -> Simulation:
    """Plan the demo company for a size and seed; `playbooks` are the terms of v1 and v2 (defaults: shipped + v2)."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}")
    spec = SIZES[size]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0]))
    if playbooks is None:
        base = default_playbook_data()
        playbooks = [schema.parse(base), schema.parse(v2_content(base, monthly_mqls=spec.monthly_mqls))]
    periods = [PlaybookPeriod(i, 0.0 if i == 0 else SWITCH_DAY, terms) for i, terms in enumerate(playbooks)]
    crowd = people(spec, rng)
    marketers = [i for i, p in enumerate(crowd) if p.role == "marketing"]
    habits = handoff.Habits.draw(np.random.default_rng(np.random.SeedSequence([seed, 4])), crowd)
    return Simulation(spec=spec, seed=seed, people=crowd, campaigns=campaigns_frame(spec, marketers, rng),
                      periods=periods, habits=habits)


@dataclass(frozen=True)
class Generated:
    """A whole simulated company in memory (for tests and small sizes)."""

    simulation: Simulation
    accounts: pd.DataFrame
    contacts: pd.DataFrame
    touches: pd.DataFrame
    opportunities: pd.DataFrame
    stage_changes: pd.DataFrame
    feedback: pd.DataFrame
    handoffs: pd.DataFrame
    truth: GroundTruth


def generate(*, size: str = "small", seed: int = 1) -> Generated:
    """Simulate everything and concatenate the chunks."""
    sim = simulate(size=size, seed=seed)
    chunks = list(sim.chunks())

    def cat(name: str) -> pd.DataFrame:
        return pd.concat([getattr(c, name) for c in chunks], ignore_index=True)

    return Generated(sim, cat("accounts"), cat("contacts"), cat("touches"), cat("opportunities"),
                     cat("stage_changes"), cat("feedback"), cat("handoffs"), sim.truth())

