"""A labelled feedback set for measuring theme quality: 14 themes, varied phrasing, shared noise.

Written by hand for this project (the demo simulator was not ready when the theme work started). Each theme has
ten or more differently worded statements with slots (competitors, products, numbers, roles); most items also carry
context sentences shared by every theme ("Heard on the discovery call."), so a backend must look past them.
Deterministic for a given seed.
"""

from __future__ import annotations

import random

COMPETITORS = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay"]
ROLES = ["CFO", "VP Finance", "controller", "head of IT", "procurement lead", "COO", "ops manager"]
CRMS = ["Salesforce", "HubSpot", "Dynamics", "Pipedrive"]
NUMBERS = ["20", "35", "40", "50", "60"]

THEMES: dict[str, list[str]] = {
    "pricing": [
        "The price is too high for a team of our size.",
        "The {role} said the licence cost is way above what they budgeted per seat.",
        "They think we are expensive compared with what they pay today.",
        "Per-user pricing gets too costly once they add the whole department.",
        "Sticker shock on the quote, they asked for a {n}% discount.",
        "Pricing is the main objection, they cannot justify the cost to the {role}.",
        "Too pricey for a company their size, they want a cheaper tier.",
        "The {role} pushed back on the annual fee, far more than they expected to pay.",
        "Our list price is double what they hoped, the budget owner balked at the cost.",
        "They like the product but the seat price kills the business case.",
    ],
    "competitor": [
        "They went with {comp} instead of us.",
        "Lost the deal to {comp}, who already had a relationship with the {role}.",
        "{comp} came in late and won the evaluation.",
        "They chose {comp} because their team had used it at a previous company.",
        "Switched to {comp} after a bake-off, {comp} had the stronger demo.",
        "The {role} preferred {comp} and signed with them last week.",
        "{comp} undercut us and bundled it with their suite, so they picked {comp}.",
        "Competitive loss to {comp}; the champion left and the new {role} favoured {comp}.",
        "They are renewing with {comp}, the incumbent vendor, instead of switching.",
        "Evaluation ended in favour of {comp}.",
    ],
    "crm_integration": [
        "No native {crm} integration, which is a deal breaker for them.",
        "They need the data to sync both ways with {crm}.",
        "Our {crm} connector does not map custom objects, so they cannot use it.",
        "The {role} asked whether we integrate with {crm} out of the box.",
        "Without a two-way {crm} sync their reps would have to enter everything twice.",
        "Integration with {crm} is missing fields they rely on.",
        "They want contacts and deals pushed into {crm} automatically.",
        "The {crm} integration breaks whenever they add a custom field.",
        "Their whole sales team lives in {crm}; no connector means no deal.",
        "Asked for a {crm} app on the marketplace so setup is one click.",
    ],
    "onboarding": [
        "Implementation took {n} days longer than we promised.",
        "Onboarding is too slow, they are still not live after two months.",
        "The setup process needs too many calls with our implementation team.",
        "They struggled to get their team onboarded without a dedicated trainer.",
        "Rollout stalled because the kickoff and configuration dragged on.",
        "Time to value is too long, it took weeks before anyone used it.",
        "The {role} complained the onboarding plan was unclear and kept slipping.",
        "They need a faster go-live; the implementation timeline scared them.",
        "Training sessions were not enough, users still do not know how to set things up.",
        "Getting started required too much configuration work from their admins.",
    ],
    "reporting": [
        "They need custom dashboards for the {role}.",
        "Reporting is too basic, they cannot build the charts they need.",
        "They want to export reports to Excel and schedule them weekly.",
        "The analytics module lacks drill-down by region and product.",
        "The {role} asked for a board-ready dashboard with monthly trends.",
        "Cannot filter reports by custom fields, which they need for forecasting.",
        "They want scheduled PDF reports emailed to leadership every Monday.",
        "Dashboards do not refresh in real time, so the numbers look stale.",
        "Missing a pivot-style report builder like the one they have in their BI tool.",
        "Need KPI widgets and chart templates for their weekly metrics review.",
    ],
    "security": [
        "Security review flagged that we do not have SOC 2 Type II yet.",
        "They require single sign-on with Okta before rollout.",
        "The {role} needs a signed GDPR data processing agreement.",
        "Their infosec team wants data residency in the EU.",
        "We failed the vendor security questionnaire on encryption at rest.",
        "SSO and SCIM provisioning are mandatory for their IT policy.",
        "Compliance asked for our penetration test report and ISO 27001 certificate.",
        "They need audit logs of every admin action for compliance.",
        "Legal is worried about where customer data is stored and who can access it.",
        "Blocked by the security team until we support SAML login.",
    ],
    "performance": [
        "The app is slow to load, pages take {n} seconds.",
        "Users complain the dashboard lags with large datasets.",
        "Search is sluggish once they have more than a few thousand records.",
        "The web app freezes when they open big lists.",
        "Performance is poor in the afternoon when everyone is logged in.",
        "Page load times are hurting adoption, people give up waiting.",
        "Bulk updates time out when they edit {n} hundred rows.",
        "It feels laggy compared with the tools they use every day.",
        "The {role} said the latency makes daily use painful.",
        "Timeouts and spinning wheels whenever they run a big query.",
    ],
    "mobile": [
        "They need a mobile app for reps in the field.",
        "No iOS app is a problem for their travelling sales team.",
        "The mobile web version is hard to use on a phone.",
        "Field staff want to log visits from their Android phones.",
        "Offline mode on mobile is required since they visit sites with no signal.",
        "The {role} asked when the iPhone app will launch.",
        "Reps want push notifications on their phones for new leads.",
        "Without a tablet app their technicians cannot use it on site.",
        "The responsive layout breaks on small screens.",
        "They asked for a native app so people can work from their phone on the road.",
    ],
    "support": [
        "Support took {n} hours to answer a critical ticket.",
        "They are unhappy with how slow customer support responds.",
        "Tickets get bounced between agents without a resolution.",
        "The {role} wants a named customer success manager.",
        "Support is only available in US hours, which does not work for their Asia team.",
        "They waited a week for help with an urgent outage.",
        "Our help desk closed their ticket without fixing the problem.",
        "They want phone support and a faster escalation path.",
        "The support team did not understand their setup and kept asking the same questions.",
        "Response times from the help centre are far too long.",
    ],
    "ease_of_use": [
        "They love how easy it is to use, the team picked it up in a day.",
        "The interface is intuitive, nobody needed training.",
        "Great user experience, the {role} called it the simplest tool they have tried.",
        "Users say it is clean and simple compared with their old system.",
        "Adoption was fast because the product is so straightforward.",
        "They praised the clean design and how quickly new hires get going.",
        "The {role} said it just works and the team enjoys using it.",
        "Really easy to navigate, the workflow feels natural.",
        "They were impressed by how little clicking it takes to get things done.",
        "Everyone found the UI friendly and self-explanatory.",
    ],
    "api": [
        "They hit the API rate limit during their nightly sync.",
        "Webhooks are missing for the events they care about.",
        "The REST API does not expose custom objects.",
        "Their developers want a GraphQL endpoint and better API docs.",
        "API throttling at {n} requests per minute is too low for them.",
        "The {role} asked for an SDK in Python and Java.",
        "Bulk endpoints are needed to load data programmatically.",
        "Their engineers found the API documentation incomplete.",
        "They need webhook retries and signed payloads.",
        "Pagination in the API is inconsistent, which breaks their scripts.",
    ],
    "contract": [
        "They only sign monthly contracts, not annual commitments.",
        "Procurement wants net 60 payment terms.",
        "Legal redlined the liability cap and the renewal clause.",
        "The {role} will not accept auto-renewal in the agreement.",
        "They need a termination for convenience clause.",
        "A three-year term is too long a commitment for them.",
        "Their purchasing department requires their own paper, not our MSA.",
        "Contract negotiation stalled on the indemnity language.",
        "They asked to pay quarterly instead of upfront for the year.",
        "The order form terms need changes before legal approves.",
    ],
    "migration": [
        "Migrating years of historical data from spreadsheets worries them.",
        "They need help importing records from their legacy system.",
        "The CSV import fails on their old files with special characters.",
        "Moving data over from the old tool will take their team months.",
        "They want a migration service to transfer their existing records.",
        "Data import keeps creating duplicates they then have to clean up.",
        "The {role} is afraid of losing history during the switch.",
        "Mapping their old fields onto ours is too hard without a wizard.",
        "They have {n} thousand records in Excel to bring across.",
        "Switching systems means a painful data conversion project.",
    ],
    "budget_timing": [
        "No budget this quarter, they will revisit next year.",
        "The project was put on hold until the next fiscal year.",
        "A hiring freeze means the purchase is paused.",
        "The {role} froze all new software spend until Q{q}.",
        "Not a priority right now, other initiatives come first.",
        "Their budget was reallocated after a reorg.",
        "Timing is wrong, they are in the middle of a merger.",
        "They asked us to follow up in six months when planning starts.",
        "Spend approvals are frozen pending the board meeting.",
        "The initiative lost its sponsor and has no funding for now.",
    ],
}

CONTEXT = [
    "Heard on the discovery call.",
    "From the QBR last week.",
    "The {role} mentioned this in the demo.",
    "Noted during the follow-up meeting.",
    "Said in passing at the end of the call.",
    "Feedback from the pilot.",
    "This came up again in the renewal conversation.",
    "Raised in the steering committee.",
    "Logged after the onsite visit.",
    "Shared over email this morning.",
]


def _fill(template: str, rng: random.Random) -> str:
    return template.format(comp=rng.choice(COMPETITORS), role=rng.choice(ROLES), crm=rng.choice(CRMS),
                           n=rng.choice(NUMBERS), q=rng.randint(1, 4))


def labelled_feedback(*, per_theme: int = 25, seed: int = 7) -> list[tuple[str, str]]:
    """(text, true theme) pairs: per_theme items for each of the themes, shuffled."""
    rng = random.Random(seed)
    out: list[tuple[str, str]] = []
    for label, templates in THEMES.items():
        for i in range(per_theme):
            core = _fill(templates[i % len(templates)] if i < len(templates) else rng.choice(templates), rng)
            roll = rng.random()
            if roll < 0.35:
                text = f"{_fill(rng.choice(CONTEXT), rng)} {core}"
            elif roll < 0.6:
                text = f"{core} {_fill(rng.choice(CONTEXT), rng)}"
            elif roll < 0.75:
                other = _fill(rng.choice(templates), rng)
                text = core if other == core else f"{core} {other}"
            else:
                text = core
            if rng.random() < 0.15:
                text = text.lower()
            out.append((text, label))
    rng.shuffle(out)
    return out


def demo_labelled(*, per_theme: int = 25, seed: int = 3) -> list[tuple[str, str]]:
    """(text, true theme) pairs from the demo simulator's feedback generator (its own themes and wording)."""
    import numpy as np

    from smarketing.demo.themes import THEMES as DEMO_THEMES
    from smarketing.demo.themes import feedback_text

    rng = np.random.default_rng(seed)
    out = [(feedback_text(theme, rng), theme.key) for theme in DEMO_THEMES for _ in range(per_theme)]
    order = rng.permutation(len(out))
    return [out[i] for i in order]
