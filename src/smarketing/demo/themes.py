"""Latent themes behind the demo's sales feedback, and the sentences sellers write about them.

Each feedback text is drawn from exactly one theme; the simulator keeps that label as ground truth so theme
clustering can be scored against it. Phrasing varies (openers, several core sentences, slot values, details)
so texts of one theme share vocabulary without being copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Theme:
    key: str
    label: str
    kinds: tuple[tuple[str, float], ...]  # feedback kinds this theme shows up as, with weights
    cores: tuple[str, ...]
    details: tuple[str, ...]


SLOTS = {
    "competitor": ("BlackLine", "FloQast", "Trintech", "Numeric", "a spreadsheet add-in", "their ERP's own module"),
    "erp": ("NetSuite", "SAP S/4HANA", "Dynamics 365", "Sage Intacct", "Oracle Fusion", "Xero"),
    "persona": ("the CFO", "their controller", "the VP Finance", "the head of accounting", "the FP&A lead",
                "the finance director"),
    "days": ("two", "three", "four", "five"),
    "olddays": ("eight", "ten", "twelve", "fifteen"),
    "n": ("12", "20", "35", "50", "80", "150"),
    "pct": ("15%", "20%", "30%", "40%"),
    "quarter": ("Q1", "Q2", "next quarter", "the new fiscal year", "January"),
}

OPENERS = ("", "", "", "On the call today, ", "In discovery, ", "Heads up: ", "FYI - ", "Quick note from the demo: ",
           "After the follow-up, ", "From the QBR: ", "Per my notes, ", "Again this week, ")
CLOSERS = ("", "", "", " Can marketing help?", " Flagging for product.", " This keeps coming up.",
           " Logged in the deal notes.", " Would love a one-pager on this.", " Third time this month.")

THEMES: tuple[Theme, ...] = (
    Theme("pricing", "Price and per-seat cost too high",
          (("objection", 0.55), ("loss_reason", 0.4), ("competitor", 0.05)),
          ("{persona} said the per-seat price is way above what they budgeted.",
           "pricing was the blocker - they think {pct} too expensive for a team their size.",
           "they balked at the price once we showed the quote.",
           "the annual cost is more than they pay for the whole ERP, so price is the issue.",
           "they like it but the cost per user does not work for a {n}-person team.",
           "budget holder pushed back hard on the price and asked for a {pct} discount.",
           "too expensive compared with what they pay today; pricing killed the momentum."),
          ("They asked about a smaller starter tier.", "Discount was not enough.",
           "Price per seat came up three times.", "They want usage-based pricing instead of seats.", "")),
    Theme("sso_security", "Security review: SSO, SOC 2, data residency",
          (("objection", 0.5), ("loss_reason", 0.3), ("feature_request", 0.2)),
          ("their IT security team requires SAML SSO and we could not confirm it for their IdP.",
           "security review stalled: they want our SOC 2 Type II report and a pen test summary.",
           "InfoSec asked for SSO with Okta and SCIM provisioning before anything else.",
           "the security questionnaire has {n} open items, mostly about encryption and SSO.",
           "data residency in the EU plus SSO enforcement are hard requirements for them.",
           "they failed us on the vendor security assessment because of SSO and audit logging."),
          ("Legal also wants a DPA.", "Okta and Azure AD both came up.", "They need audit logs exported to their SIEM.",
           "Security team joined the call unannounced.", "")),
    Theme("erp_integration", "Missing or weak ERP integration",
          (("feature_request", 0.45), ("objection", 0.3), ("loss_reason", 0.25)),
          ("they run {erp} and our connector does not sync the sub-ledgers they need.",
           "the {erp} integration is the deal breaker; they need two-way journal entry sync.",
           "no native {erp} connector, so they would have to build CSV exports every month.",
           "asked whether we integrate with {erp} bank feeds - we don't, yet.",
           "they need multi-subsidiary support in the {erp} integration before they can switch.",
           "integration with {erp} came up again: they want real-time sync, not nightly."),
          ("Their IT team will not build middleware.", "Partner SI offered to help but it adds cost.",
           "They asked for a roadmap date.", "")),
    Theme("competitor", "Competitor cheaper or already in place",
          (("competitor", 0.55), ("loss_reason", 0.3), ("objection", 0.15)),
          ("they are also evaluating {competitor}, who came in much lower.",
           "{competitor} is bundling it for free with their existing contract.",
           "they went with {competitor} because the team already knows it.",
           "{persona} said {competitor} offered a two-year price lock.",
           "incumbent is {competitor} and switching feels risky to them mid-year.",
           "they compared us side by side with {competitor} and liked their reconciliation rules better."),
          ("Need a stronger competitive battlecard.", "They asked for a side-by-side comparison.",
           "The decision came down to price and familiarity.", "")),
    Theme("budget_timing", "No budget this year / timing",
          (("objection", 0.5), ("loss_reason", 0.4), ("story", 0.1)),
          ("budget freeze until {quarter}; they will revisit then.",
           "{persona} says there is no budget left this fiscal year.",
           "timing is bad: they are in the middle of an audit and cannot start a project.",
           "hiring freeze and cost cuts, so every new tool is on hold until {quarter}.",
           "they want it but the money is only released in {quarter}.",
           "project got deprioritised after a reorg; no owner and no budget for now."),
          ("Set a reminder to re-engage.", "They asked us to check back after the audit.",
           "Champion is still keen, just blocked on budget.", "")),
    Theme("onboarding", "Fast, smooth onboarding and implementation",
          (("praise", 0.6), ("story", 0.4)),
          ("they were live in {days} weeks, faster than any finance tool they have rolled out.",
           "implementation was smooth; the onboarding team mapped their chart of accounts in a day.",
           "{persona} praised how easy the onboarding was and how little IT was involved.",
           "onboarding went really well, the team was reconciling bank accounts in week one.",
           "they loved the guided setup - no consultants needed to get started.",
           "go-live happened ahead of plan and the implementation checklist kept everyone on track."),
          ("They offered to be a reference.", "Would be a great case study.", "Happy to speak at a webinar.", "")),
    Theme("time_savings", "Faster close, hours saved",
          (("story", 0.6), ("praise", 0.4)),
          ("they cut the month-end close from {olddays} days to {days}.",
           "{persona} told us reconciliation that took a week now runs overnight.",
           "close is down to {days} days and the team stopped working weekends at month end.",
           "they save roughly {n} hours every close on bank and intercompany reconciliations.",
           "audit prep went from weeks to days because everything is matched and documented.",
           "after two closes they measured {pct} less time on manual journal entries."),
          ("Numbers are solid enough for a case study.", "They shared a before/after timeline.",
           "Great quote for the website.", "")),
    Theme("reporting", "Custom reporting and dashboards",
          (("feature_request", 0.8), ("objection", 0.2)),
          ("they want custom dashboards for the close status by entity.",
           "asked for a report builder so the controller can slice variances by department.",
           "reporting is too rigid: they need to export close metrics to their BI tool.",
           "{persona} wants a board-ready dashboard of close progress and open reconciliations.",
           "they asked for scheduled reports emailed to each entity owner.",
           "need drill-down reporting from the balance sheet to matched transactions."),
          ("Power BI and Tableau both came up.", "They currently do this in Excel.", "Nice-to-have, not a blocker.",
           "")),
    Theme("mobile_approvals", "Mobile app and approvals on the go",
          (("feature_request", 0.85), ("objection", 0.15)),
          ("approvers want to sign off journal entries from their phone.",
           "they asked for a mobile app so {persona} can approve reconciliations while travelling.",
           "no mobile approvals means the close waits for the CFO to get back to a laptop.",
           "push notifications on mobile for pending approvals would help them a lot.",
           "their controllers travel constantly and need approvals in a mobile app."),
          ("iOS first, Android later is fine for them.", "Slack approvals would also work.", "")),
    Theme("multi_entity", "Multi-entity and multi-currency consolidation",
          (("feature_request", 0.6), ("objection", 0.25), ("loss_reason", 0.15)),
          ("they have {n} legal entities and need consolidation with currency translation.",
           "multi-currency intercompany eliminations are a must for their group close.",
           "consolidation across entities in different currencies is the main gap for them.",
           "they asked how we handle FX revaluation across subsidiaries.",
           "{persona} needs group-level consolidation with minority interests."),
          ("Entities across EMEA and APAC.", "Today it is a monster spreadsheet.", "")),
    Theme("support", "Responsive, expert customer support",
          (("praise", 0.85), ("story", 0.15)),
          ("support answered within the hour and fixed the mapping issue on the spot.",
           "{persona} called out our support team as the best of any vendor they use.",
           "their CSM knows accounting, which they said makes all the difference.",
           "support was fast and friendly during their first close on the platform.",
           "they praised the support team for walking the accountants through matching rules."),
          ("Renewal looks safe.", "They mentioned it in the NPS survey too.", "")),
    Theme("data_migration", "Migration from spreadsheets / legacy effort",
          (("objection", 0.6), ("loss_reason", 0.3), ("feature_request", 0.1)),
          ("they worry about migrating {n} reconciliation templates out of Excel.",
           "historic data migration from their legacy tool looks like a big project to them.",
           "moving years of spreadsheets and prior-period workpapers feels too heavy right now.",
           "the migration effort scared {persona}; they do not have the people to run it.",
           "they asked if we can import their existing reconciliation workbooks automatically."),
          ("A migration service offer might unblock it.", "Templates are a mess, to be fair.", "")),
    Theme("ease_of_use", "Intuitive, easy to use interface",
          (("praise", 0.75), ("story", 0.25)),
          ("the accountants found the interface intuitive and needed almost no training.",
           "{persona} said it is the first finance tool the team actually likes using.",
           "they love how clean and simple the matching screen is.",
           "users picked it up in a day; the UX is much easier than their old tool.",
           "the team called the workflow easy to follow, even for new hires."),
          ("Adoption is close to 100%.", "Great for the product marketing page.", "")),
    Theme("procurement", "Procurement, legal and contract terms",
          (("objection", 0.55), ("loss_reason", 0.45)),
          ("procurement wants a three-year contract with termination for convenience.",
           "legal redlined our MSA on liability caps and it has been stuck for weeks.",
           "the deal is stuck in procurement; they require a vendor onboarding process of {n} steps.",
           "their legal team will not accept auto-renewal terms.",
           "procurement asked for payment terms of net 90 and a price hold."),
          ("Deal slipped a quarter because of this.", "Need a standard fallback clause list.", "")),
    Theme("ai_matching", "Smarter automatic matching (AI)",
          (("feature_request", 0.7), ("praise", 0.3)),
          ("they want the matching engine to learn from manual matches.",
           "asked for AI suggestions on exceptions that do not match automatically.",
           "auto-match rate is {pct} for them and they want it higher with smarter rules.",
           "{persona} loved the auto-matching and asked for anomaly detection next.",
           "fuzzy matching on counterparty names would save them a lot of manual work."),
          ("Competitors are marketing AI heavily.", "They would pilot a beta.", "")),
)

THEME_KEYS = tuple(t.key for t in THEMES)
THEME_INDEX = {t.key: i for i, t in enumerate(THEMES)}
LOSS_THEMES = ("pricing", "sso_security", "erp_integration", "competitor", "budget_timing", "data_migration",
               "procurement")
# Planted: which themes drive losses in each segment (probability of a loss being for that theme).
LOSS_DRIVERS = {
    "smb": {"pricing": 0.42, "competitor": 0.22, "budget_timing": 0.18, "data_migration": 0.1, "erp_integration": 0.05,
            "procurement": 0.02, "sso_security": 0.01},
    "mid_market": {"erp_integration": 0.3, "pricing": 0.2, "competitor": 0.18, "budget_timing": 0.12,
                   "data_migration": 0.1, "sso_security": 0.06, "procurement": 0.04},
    "enterprise": {"sso_security": 0.34, "procurement": 0.22, "erp_integration": 0.18, "competitor": 0.1,
                   "budget_timing": 0.08, "pricing": 0.05, "data_migration": 0.03},
}
# Themes customers talk about (praise, stories, feature requests), with weights.
CUSTOMER_THEMES = {"onboarding": 0.14, "time_savings": 0.16, "support": 0.13, "ease_of_use": 0.12, "reporting": 0.12,
                   "mobile_approvals": 0.08, "multi_entity": 0.09, "ai_matching": 0.1, "erp_integration": 0.06}
# Themes prospects raise while a deal is open (objections, requests, competitor mentions).
DEAL_THEMES = {"pricing": 0.16, "sso_security": 0.1, "erp_integration": 0.14, "competitor": 0.12,
               "budget_timing": 0.08, "data_migration": 0.08, "procurement": 0.06, "reporting": 0.08,
               "multi_entity": 0.07, "mobile_approvals": 0.04, "ai_matching": 0.05, "ease_of_use": 0.02}


def _fill(template: str, rng: np.random.Generator) -> str:
    out = template
    for slot, values in SLOTS.items():
        token = "{" + slot + "}"
        while token in out:
            out = out.replace(token, values[int(rng.integers(len(values)))], 1)
    return out


def feedback_text(theme: Theme, rng: np.random.Generator) -> str:
    """One seller's note about a theme: an opener, a core sentence, maybe a detail and a closer."""
    core = _fill(theme.cores[int(rng.integers(len(theme.cores)))], rng)
    opener = OPENERS[int(rng.integers(len(OPENERS)))]
    text = opener + core if opener else core[0].upper() + core[1:]
    detail = theme.details[int(rng.integers(len(theme.details)))]
    if detail and rng.random() < 0.6:
        text += " " + _fill(detail, rng)
    return text + CLOSERS[int(rng.integers(len(CLOSERS)))]


def theme_kind(theme: Theme, rng: np.random.Generator, allowed: tuple[str, ...] = ()) -> str:
    """A feedback kind for a theme, restricted to `allowed` kinds when given (falls back to the theme's first)."""
    kinds = [(k, w) for k, w in theme.kinds if not allowed or k in allowed] or [theme.kinds[0]]
    weights = np.array([w for _, w in kinds])
    return kinds[int(rng.choice(len(kinds), p=weights / weights.sum()))][0]
