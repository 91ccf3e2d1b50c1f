"""Campaign briefs and the sales outreach that carries them: static content and a seeded plan (pure, no ORM).

Marketing writes a brief (audience, core message, proof points, talk track, objections, assets) for the campaigns
sales has to carry; sales signs most of them off before launch, some are still waiting (never signed, or changed
after sign-off). Reps then write to the MQLs those campaigns brought in. Planted: each rep's talk-track adherence
(`demo.handoff.Habits.adherence`) is the chance that a sentence of their message comes from the brief rather than
from generic sales talk; briefs awaiting sign-off are followed less. The product's message-consistency score
(`campaigns.consistency`) should therefore rank reps roughly as their planted adherence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo.events import END_DAY

SITE = "https://ledgerline.example"


@dataclass(frozen=True)
class BriefSpec:
    key: str  # campaign key in demo.catalog
    core_message: str
    proof_points: tuple[str, ...]
    talk_track: str
    objections: tuple[tuple[str, str], ...]
    assets: tuple[tuple[str, str], ...]
    on_message: tuple[str, ...]  # how a rep says the brief in their own words
    status: str = "signed"  # signed | changed (signed, then edited: needs sign-off again) | pending
    comments: tuple[tuple[str, str], ...] = ()  # (topic, text) from sales before sign-off
    revision: dict[str, Any] = field(default_factory=dict)  # fields marketing changed after sign-off


OFF_MESSAGE = (
    "We are offering 20% off if you sign before the end of the quarter.",
    "Ledgerline has a lot of features, and I would be happy to show you all of them.",
    "Our new AI assistant can answer any accounting question your team has.",
    "We integrate with hundreds of tools, so whatever you use is probably covered.",
    "I noticed your company is growing fast and wanted to reach out.",
    "Most of our customers are very happy with the product.",
    "We were named a leader in a recent analyst report on finance software.",
    "Pricing is flexible and we can find a package that fits your budget.",
    "Our mobile app lets approvers sign off from anywhere.",
    "I would love to learn more about your priorities for next year.",
    "Many companies your size are switching to us this year.",
    "We also do expense management and invoicing, if that is of interest.",
)
GREETINGS = ("Hi {first},", "Hello {first},", "{first}, thanks for your interest.", "Hi {first}, hope your week is going well.")
CLOSINGS = ("Best, {rep}", "Thanks, {rep}", "Cheers, {rep}", "Kind regards, {rep}")
ASKS = ("Do you have 20 minutes on Thursday?", "Would a short call next week work?",
        "Can I send over a couple of times for a call?")

BRIEFS: tuple[BriefSpec, ...] = (
    BriefSpec(
        key="webinar-close-faster",
        core_message="A three-day close, shown live by customers who did it.",
        proof_points=("Customers cut their month-end close from ten days to three on average.",
                      "Bank and intercompany reconciliations run automatically every night.",
                      "Every webinar is hosted by a controller who made the switch, not by our sales team."),
        talk_track=("Open with the close: ask how many days their month-end close takes today. Point them to the "
                    "Close Faster session where a controller shows a three-day close live. Use the ten-to-three "
                    "days benchmark and offer to map their own close calendar on a call."),
        objections=(("We tried automation before and it did not stick.",
                     "The speakers had the same worry; in the session they show what changed in the first two closes."),
                    ("We do not have time for a webinar.", "Send the recording and the two-page close calendar.")),
        assets=(("Webinar recording", f"{SITE}/webinars/close-faster"),
                ("Close calendar template", f"{SITE}/resources/close-calendar.xlsx")),
        on_message=("In the Close Faster webinar a controller shows, live, how their team closes the month in "
                    "three days.",
                    "Customers who joined went from a ten-day close to three days on average.",
                    "The reconciliations run automatically overnight, bank and intercompany alike.",
                    "The session is run by a controller who did the switch, not by sales.",
                    "How many days does your month-end close take today?",
                    "I can walk you through a three-day close calendar built on your own month-end steps.")),
    BriefSpec(
        key="event-cfo-roundtable",
        core_message="How peers took audit prep from weeks to days.",
        proof_points=("Finance teams on Ledgerline prepare for the audit in days instead of weeks.",
                      "Every matched transaction keeps its evidence, so auditors sample in the tool.",
                      "Roundtables are eight CFOs, no slides, hosted by a customer CFO."),
        talk_track=("Invite CFOs personally: it is a dinner with peers, not a pitch. Lead with audit prep going "
                    "from weeks to days and the evidence trail auditors can sample. Follow up within a day with the "
                    "audit readiness checklist."),
        objections=(("Our auditors will not accept a new system.",
                     "Three of the big four audit customers in the tool already; bring your audit partner along."),),
        assets=(("Audit readiness checklist", f"{SITE}/resources/audit-readiness.pdf"),),
        on_message=("At the roundtable, CFOs shared how they took audit prep from weeks to days.",
                    "Every matched transaction keeps its evidence, so your auditors can sample directly in the tool.",
                    "It is eight CFOs around a dinner table, hosted by a customer CFO, with no slides.",
                    "Audit preparation that took weeks now takes a few days for teams like yours.",
                    "I can send you the audit readiness checklist the group discussed.")),
    BriefSpec(
        key="content-benchmark",
        core_message="How long does your close take? 600 finance teams compared.",
        proof_points=("The median close in the benchmark is 6.4 working days.",
                      "Top-quartile teams close in under four days and automate most reconciliations.",
                      "The report breaks results down by company size and industry."),
        talk_track=("Use the benchmark to start a conversation, not to sell: ask where they think they sit, share "
                    "the median of 6.4 days and what top-quartile teams do differently. Offer a personal comparison "
                    "against peers of their size and industry."),
        objections=(("Our close is fine.", "Then the benchmark shows where you already beat peers; worth a look."),
                    ("Benchmarks are marketing.", "600 teams, methodology on page two, no vendor data in it.")),
        assets=(("Close benchmark report 2026", f"{SITE}/resources/close-benchmark-2026.pdf"),),
        on_message=("You downloaded our close benchmark, which compares 600 finance teams.",
                    "The median team needs 6.4 working days to close the month.",
                    "Top-quartile teams close in under four days, mostly by automating reconciliations.",
                    "I can compare your close with peers of your size and industry from the report.",
                    "Where do you think your team sits against the 600 teams in the benchmark?")),
    BriefSpec(
        key="referral-partners",
        core_message="Your auditors already trust it.",
        proof_points=("Over 40 accounting firms recommend Ledgerline to their clients.",
                      "Partners get read access to the close, so year-end requests shrink.",
                      "Referred customers go live in four weeks on average."),
        talk_track=("Name the accounting firm that referred them in the first line. Explain that the firm works "
                    "in Ledgerline with other clients, so their auditors already trust it, and that referred "
                    "customers are live in about four weeks."),
        objections=(("We do not want our accountant in our systems.", "Access is read-only and you decide scope."),),
        assets=(("Partner programme overview", f"{SITE}/partners"),),
        on_message=("Your accounting firm suggested we talk: their auditors already trust Ledgerline.",
                    "More than 40 accounting firms recommend it to their clients.",
                    "Your partner gets read access to the close, so year-end requests shrink a lot.",
                    "Teams referred by their accountants are live in about four weeks.")),
    BriefSpec(
        key="event-finance-expo",
        core_message="See a reconciliation run in 30 seconds.",
        proof_points=("A full bank reconciliation runs in 30 seconds in the booth demo.",
                      "Matching rules learn from the corrections your team makes.",
                      "Visitors get a sandbox with their own sample data."),
        talk_track=("Remind them of the 30-second reconciliation they saw at the booth. Offer the sandbox with "
                    "their own sample data and book a follow-up where they bring a real bank statement."),
        objections=(("Demos always look easy.", "Bring a real bank statement and we run it together."),),
        assets=(("Sandbox sign-up", f"{SITE}/sandbox"),),
        on_message=("Great to meet you at the FinanceTech Expo, where you saw a reconciliation run in 30 seconds.",
                    "A full bank reconciliation runs in about 30 seconds, as in the booth demo.",
                    "The matching rules learn from every correction your team makes.",
                    "I set up a sandbox with sample data so you can try it yourself.",
                    "Bring a real bank statement to our next call and we will run it together.")),
    BriefSpec(
        key="social-linkedin-abm-q3",
        core_message="Your close is a project plan. It should be a button.",
        proof_points=("Close tasks, owners and deadlines live in one checklist that updates itself.",
                      "Controllers see blockers across entities in real time.",
                      "Customers cut manual journal entries by 40%."),
        talk_track=("Target finance leaders at named accounts. Contrast the spreadsheet project plan with a close "
                    "that runs itself: one live checklist, blockers visible across entities, 40% fewer manual "
                    "journal entries."),
        objections=(("We are mid-ERP migration.", "The checklist works on top of any ERP, old or new."),),
        assets=(("Close checklist demo video", f"{SITE}/videos/close-checklist"),),
        on_message=("Your close should not be a project plan in a spreadsheet; it should be a button.",
                    "Close tasks, owners and deadlines sit in one checklist that updates itself.",
                    "Controllers see every blocker across entities in real time.",
                    "Customers cut their manual journal entries by around 40%.")),
    BriefSpec(
        key="social-linkedin-abm-q4",
        core_message="Your close is a project plan. It should be a button.",
        proof_points=("Close tasks, owners and deadlines live in one checklist that updates itself.",
                      "Controllers see blockers across entities in real time.",
                      "Customers cut manual journal entries by 40%."),
        talk_track=("Same story as Q3 for the new target list: the close as a button, not a project plan. Lead "
                    "with the live checklist and the 40% fewer manual journal entries."),
        objections=(("We are mid-ERP migration.", "The checklist works on top of any ERP, old or new."),),
        assets=(("Close checklist demo video", f"{SITE}/videos/close-checklist"),),
        on_message=("Your close should not be a project plan in a spreadsheet; it should be a button.",
                    "Close tasks, owners and deadlines sit in one checklist that updates itself.",
                    "Controllers see every blocker across entities in real time.",
                    "Customers cut their manual journal entries by around 40%."),
        status="changed",
        comments=(("messaging", "The 40% figure needs a source before I put it in front of a CFO."),
                  ("targeting", "Half of the Q4 list are subsidiaries of accounts we already sell to.")),
        revision={"proof_points": ["Close tasks, owners and deadlines live in one checklist that updates itself.",
                                   "Controllers see blockers across entities in real time.",
                                   "In the 2026 customer survey, teams cut manual journal entries by 40% in "
                                   "their first two closes."]}),
    BriefSpec(
        key="webinar-customer-advanced",
        core_message="Consolidate every entity in one close.",
        proof_points=("Multi-entity consolidation with currency translation is built in.",
                      "Intercompany eliminations run automatically at period end.",
                      "Existing customers add consolidation without a new implementation."),
        talk_track=("For account managers: invite customers with more than one entity. Show consolidation with "
                    "currency translation and automatic intercompany eliminations, added to their current setup "
                    "without a new implementation project."),
        objections=(("We consolidate in Excel and it works.", "Until the auditor asks for the elimination trail."),),
        assets=(("Consolidation add-on overview", f"{SITE}/product/consolidation"),),
        on_message=("You can now consolidate every entity in the same close you already run in Ledgerline.",
                    "Currency translation for each subsidiary is built into the consolidation.",
                    "Intercompany eliminations run automatically at period end.",
                    "You add consolidation to your current setup, with no new implementation project.")),
    BriefSpec(
        key="search-generic-q4",
        core_message="Automate reconciliation. Close in three days.",
        proof_points=("Most reconciliations match automatically without rules to maintain.",
                      "Exceptions land in one queue with the likely match suggested."),
        talk_track=("These are searchers comparing tools. Confirm what they searched for, show automatic matching "
                    "and the exception queue, and offer a trial on their own bank data."),
        objections=(("We are comparing three vendors.", "Run the same bank file through all three; we welcome it."),),
        assets=(("Reconciliation product page", f"{SITE}/product/reconciliation"),),
        on_message=("You were looking at ways to automate reconciliation, so here is how we close in three days.",
                    "Most of your reconciliations would match automatically, with no rules to maintain.",
                    "Exceptions land in one queue with the likely match already suggested."),
        status="pending",
        comments=(("messaging", "Three days is a stretch for a team that just started; can we say 'faster close'?"),)),
    BriefSpec(
        key="content-guides-q4",
        core_message="The 27-step close checklist.",
        proof_points=("The checklist covers all 27 steps of a month-end close.",
                      "Each step links to a template the team can reuse."),
        talk_track=("Follow up on the checklist download: ask which steps take them longest and offer to show how "
                    "Ledgerline automates those steps."),
        objections=(("We already have a checklist.", "Compare it with the 27 steps; most teams find two or three "
                                                     "they skip."),),
        assets=(("Close checklist", f"{SITE}/resources/27-step-close-checklist.pdf"),),
        on_message=("Thanks for downloading the 27-step close checklist.",
                    "Which of the 27 steps of your month-end close take the longest today?",
                    "Each step of the checklist links to a template your team can reuse."),
        status="pending"),
)
# Reps also mention campaigns that have no brief (so the consistency report shows what a missing brief looks like).
NO_BRIEF = ("social-broad-q4",)
PENDING_FOLLOW = 0.6  # reps follow a brief that is not signed off this much less
MESSAGES_PER_CAMPAIGN = {"small": 18, "medium": 24, "large": 30}  # a sample: each is written through the service


def brief_data(spec: BriefSpec, audience: str) -> dict[str, Any]:
    """The brief as `campaigns.briefs.brief_create` takes it."""
    return {"audience": audience, "core_message": spec.core_message, "proof_points": list(spec.proof_points),
            "talk_track": spec.talk_track,
            "objection_handling": [{"objection": o, "response": r} for o, r in spec.objections],
            "assets": [{"title": t, "url": u} for t, u in spec.assets]}


def outreach_candidates(handoffs: pd.DataFrame, touches: pd.DataFrame, campaign_index: dict[str, int]) -> pd.DataFrame:
    """Episodes a rep wrote to about a campaign: the last campaign of interest the contact touched before its MQL.

    Returns contact, account (global ids), owner (person), campaign (index) and sent (the first touch, days).
    """
    wanted = {i: k for k, i in campaign_index.items()}
    tp = touches[touches["campaign"].isin(list(wanted))][["contact", "campaign", "t"]]
    first = handoffs["t_first_touch"].to_numpy(dtype=float)
    eps = handoffs[np.isfinite(first) & (first < END_DAY)]  # written within the year
    eps = eps[["contact", "account", "owner", "t_mql", "t_first_touch"]]
    both = tp.merge(eps, on="contact")
    both = both[both["t"] <= both["t_mql"]].sort_values(["contact", "t_mql", "t"], kind="stable")
    last = both.groupby(["contact", "t_mql"]).tail(1)
    return pd.DataFrame({"contact": last["contact"].to_numpy(), "account": last["account"].to_numpy(),
                         "owner": last["owner"].to_numpy(), "campaign": last["campaign"].to_numpy(),
                         "sent": last["t_first_touch"].to_numpy(dtype=float)})


@dataclass(frozen=True)
class Message:
    campaign: int
    contact: int  # global ids
    account: int
    owner: int  # person index
    sent: float  # days
    kind: str
    subject: str
    text: str


def compose(rng: np.random.Generator, spec: BriefSpec | None, follow: float, first: str, rep: str,
            kind: str) -> str:
    """One message: each body sentence is on-brief with probability `follow`, else generic sales talk."""
    n = int(rng.integers(3, 6))
    on = list(spec.on_message) if spec is not None else []
    body = []
    for _ in range(n):
        if on and rng.random() < follow:
            body.append(on.pop(int(rng.integers(len(on)))))
        else:
            body.append(OFF_MESSAGE[int(rng.integers(len(OFF_MESSAGE)))])
    body = list(dict.fromkeys(body))
    ask = ASKS[int(rng.integers(len(ASKS)))]
    if kind == "call_note":
        return f"Call with {first}. " + " ".join(body) + " Next step: " + ask.lower()
    greeting = GREETINGS[int(rng.integers(len(GREETINGS)))].format(first=first)
    closing = CLOSINGS[int(rng.integers(len(CLOSINGS)))].format(rep=rep)
    return "\n\n".join([greeting, " ".join(body) + " " + ask, closing])


def plan_outreach(rng: np.random.Generator, candidates: pd.DataFrame, size: str, campaign_index: dict[str, int],
                  adherence: np.ndarray, first_names: dict[int, str], rep_names: list[str]) -> list[Message]:
    """Pick up to MESSAGES_PER_CAMPAIGN candidates per campaign (key -> catalog index) and write each message."""
    per = MESSAGES_PER_CAMPAIGN.get(size, 18)
    specs = {b.key: b for b in BRIEFS}
    out: list[Message] = []
    for key, j in campaign_index.items():
        mine = candidates[candidates["campaign"] == j]
        if mine.empty:
            continue
        pick = np.sort(rng.choice(len(mine), size=min(per, len(mine)), replace=False))
        spec = specs.get(key)
        for row in mine.iloc[pick].itertuples():
            follow = float(adherence[int(row.owner)])
            if spec is not None and spec.status != "signed":
                follow *= PENDING_FOLLOW
            kind = "call_note" if rng.random() < 0.25 else "email"
            subject = "" if kind == "call_note" else _subject(rng, spec)
            text = compose(rng, spec, follow, first_names.get(int(row.contact), "there"),
                           rep_names[int(row.owner)], kind)
            out.append(Message(int(row.campaign), int(row.contact), int(row.account), int(row.owner),
                               float(row.sent), kind, subject, text))
    return out


def _subject(rng: np.random.Generator, spec: BriefSpec | None) -> str:
    options = ["Quick follow-up", "Following up", "Your month-end close"]
    if spec is not None:
        options.append(spec.core_message.rstrip("."))
    return options[int(rng.integers(len(options)))]
