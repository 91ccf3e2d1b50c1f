"""The registry of named measures: each figure of the product defined once, in plain words.

A measure states what it counts (`definition`), how the period selects it (`basis`), what one unit of it is
(`grain`), its `unit`, the filters it accepts and the kind of record its drill-down lists. The implementations
live beside this file by subject (lifecycle, revenue, activity, sla); `compute.py` runs them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from smarketing.core.errors import ValidationFailed

Basis = Literal["events in the period", "cohort entering in the period, what it reached by now", "snapshot now"]
Unit = Literal["count", "money", "ratio", "days", "percent", "number"]
# Which way is good news: a change against the previous period is coloured by it (a fall in lost deals is good).
Better = Literal["higher", "lower", "neutral"]

EVENTS: Basis = "events in the period"
COHORT: Basis = "cohort entering in the period, what it reached by now"
SNAPSHOT: Basis = "snapshot now"

# The contact fields the funnel groups by, with the funnel's rules: fields ANDed, values ORed, "(none)" for a
# missing value, owners by user id, campaign = the campaign of the contact's first touch.
CONTACT_FILTERS: tuple[str, ...] = ("source", "segment", "owner", "country", "campaign")


@dataclass(frozen=True)
class Measure:
    """One named figure: what it counts and how."""

    name: str
    label: str
    definition: str
    basis: Basis
    grain: str  # contact | account | opportunity | sla clock | touchpoint | feedback item | campaign
    unit: Unit
    filters: tuple[str, ...]
    records: str  # the kind of record the drill-down lists: contact | opportunity | touchpoint | feedback | campaign
    # | none
    filter_note: str = ""  # how the filters apply, when not to the contact itself
    better: Better = "higher"  # which way is good news; "neutral" when neither is (spend, recycling)

    @property
    def is_ratio(self) -> bool:
        return self.unit == "ratio"


_OPP_FILTERS = "owner = the opportunity's owner; the other filters apply to its primary contact"
# The campaign measures take one filter, the campaign itself (its id or name), and an attribution model.
CAMPAIGN_FILTERS: tuple[str, ...] = ("campaign",)
_CAMPAIGN_NOTE = ("campaign = the campaign's id (or name), several added up; the total over all campaigns without it; "
                  "credit under the attribution model asked for (default linear)")
_MEASURES = [
    # ---- lifecycle events: every stage change into the stage counts, so a re-qualified contact counts again
    *(Measure(f"{key}_entered" if key != "lead" else "leads_created", label,
              f"Stage changes of contacts into {stage} in the period (each entry counts, re-entries too)",
              EVENTS, "contact", "count", CONTACT_FILTERS, "contact", better=better)
      for key, stage, label, better in cast("tuple[tuple[str, str, str, Better], ...]", (
          ("lead", "lead", "Leads created", "higher"),
          ("mqls", "MQL", "MQLs entered", "higher"),
          ("sals", "SAL", "SALs entered", "higher"),
          ("sqls", "SQL", "SQLs entered", "higher"),
          ("opportunities", "opportunity", "Contacts entering opportunity", "higher"),
          ("customers", "customer", "Contacts becoming customers", "higher"),
          # Recycling and disqualifying sort leads rather than win or lose them: neither way is news by itself.
          ("recycled", "recycled", "Contacts recycled", "neutral"),
          ("disqualified", "disqualified", "Contacts disqualified", "neutral"),
      ))),
    # ---- the MQLs that entered in the period and how sales decided on them so far
    Measure("mqls_accepted", "MQLs accepted by sales",
            "MQLs that entered in the period that sales accepted (a recorded decision, or a move to SAL or later)",
            COHORT, "contact", "count", CONTACT_FILTERS, "contact"),
    Measure("mqls_rejected", "MQLs rejected by sales",
            "MQLs that entered in the period that sales rejected (or that were disqualified next)",
            COHORT, "contact", "count", CONTACT_FILTERS, "contact", better="lower"),
    Measure("mqls_recycled", "MQLs recycled by sales",
            "MQLs that entered in the period that sales sent back to nurture (recycled)",
            COHORT, "contact", "count", CONTACT_FILTERS, "contact", better="neutral"),
    Measure("mqls_awaiting_decision", "MQLs awaiting a sales decision",
            "MQLs that entered in the period on which sales has not decided yet",
            COHORT, "contact", "count", CONTACT_FILTERS, "contact", better="lower"),
    Measure("mql_acceptance_rate", "MQL acceptance rate",
            "Accepted / (accepted + rejected + recycled) of the MQLs that entered in the period",
            COHORT, "contact", "ratio", CONTACT_FILTERS, "contact"),
    # ---- the funnel cohort: contacts whose first funnel stage falls in the period, and how far they got
    Measure("cohort_entered", "Contacts entering the funnel",
            "Contacts whose first funnel stage (lead or later) was reached in the period",
            COHORT, "contact", "count", CONTACT_FILTERS, "contact"),
    *(Measure(f"cohort_reached_{stage}", f"Of those, reached {label}",
              f"Contacts entering the funnel in the period that have reached {label} or a later stage by now",
              COHORT, "contact", "count", CONTACT_FILTERS, "contact")
      for stage, label in (("mql", "MQL"), ("sal", "SAL"), ("sql", "SQL"), ("opportunity", "opportunity"),
                           ("customer", "customer"))),
    # ---- opportunities
    Measure("opportunities_opened", "Opportunities opened", "Opportunities opened in the period",
            EVENTS, "opportunity", "count", CONTACT_FILTERS, "opportunity", _OPP_FILTERS),
    Measure("pipeline_opened", "Pipeline opened", "Sum of the amounts of the opportunities opened in the period",
            EVENTS, "opportunity", "money", CONTACT_FILTERS, "opportunity", _OPP_FILTERS),
    Measure("deals_won", "Deals won", "Opportunities closed won in the period",
            EVENTS, "opportunity", "count", CONTACT_FILTERS, "opportunity", _OPP_FILTERS),
    Measure("revenue_won", "Revenue won", "Sum of the amounts of the opportunities closed won in the period",
            EVENTS, "opportunity", "money", CONTACT_FILTERS, "opportunity", _OPP_FILTERS),
    Measure("deals_lost", "Deals lost", "Opportunities closed lost in the period",
            EVENTS, "opportunity", "count", CONTACT_FILTERS, "opportunity", _OPP_FILTERS, better="lower"),
    Measure("win_rate", "Win rate", "Won / (won + lost) of the opportunities closed in the period",
            EVENTS, "opportunity", "ratio", CONTACT_FILTERS, "opportunity", _OPP_FILTERS),
    # ---- activity
    Measure("touchpoints_recorded", "Touchpoints recorded", "Touchpoints of contacts that happened in the period",
            EVENTS, "touchpoint", "count", CONTACT_FILTERS, "touchpoint", "filters apply to the touchpoint's contact"),
    Measure("feedback_items_recorded", "Feedback items recorded", "Feedback items from customers dated in the period",
            EVENTS, "feedback item", "count", (), "feedback", better="neutral"),
    # ---- campaigns: the roi query kind's figures under one attribution model
    Measure("campaign_cost", "Campaign cost", "The campaigns' whole spend (actual cost)",
            SNAPSHOT, "campaign", "money", CAMPAIGN_FILTERS, "campaign", _CAMPAIGN_NOTE, better="neutral"),
    Measure("campaign_attributed_pipeline", "Attributed pipeline",
            "Amounts of the opportunities opened in the period, credited to the campaigns by the attribution model",
            EVENTS, "opportunity", "money", CAMPAIGN_FILTERS, "opportunity", _CAMPAIGN_NOTE),
    Measure("campaign_attributed_revenue", "Attributed revenue",
            "Amounts of the deals won in the period, credited to the campaigns by the attribution model",
            EVENTS, "opportunity", "money", CAMPAIGN_FILTERS, "opportunity", _CAMPAIGN_NOTE),
    Measure("campaign_roi", "Campaign ROI (%)",
            "100 × (attributed revenue − cost) / cost: deals won in the period against the campaigns' spend",
            EVENTS, "campaign", "percent", CAMPAIGN_FILTERS, "opportunity", _CAMPAIGN_NOTE),
    Measure("campaign_pipeline_per_cost", "Pipeline per unit of cost",
            "Attributed pipeline of the opportunities opened in the period / the campaigns' spend",
            EVENTS, "campaign", "number", CAMPAIGN_FILTERS, "opportunity", _CAMPAIGN_NOTE),
    # ---- SLA
    Measure("first_touch_within_sla", "First touch within SLA",
            "Met / (met + breached) first-touch clocks of sales that started in the period",
            EVENTS, "sla clock", "ratio", (), "contact"),
    Measure("decision_within_sla", "Decision within SLA",
            "Met / (met + breached) decision clocks of sales that started in the period",
            EVENTS, "sla clock", "ratio", (), "contact"),
    Measure("mql_volume_target_to_date", "MQL target to date",
            "The marketing SLA's MQL commitment for the period, prorated by the part of the period elapsed",
            SNAPSHOT, "contact", "count", (), "none", better="neutral"),
]

MEASURES: dict[str, Measure] = {m.name: m for m in _MEASURES}


def measure_get(name: str) -> Measure:
    """The measure called `name`; an unknown name is an error naming `name` and listing the known ones."""
    if name not in MEASURES:
        raise ValidationFailed(f"measure {name!r} is unknown; known: {', '.join(MEASURES)}", field="name",
                               record=f"measure:{name}")
    return MEASURES[name]


def check_filters(measure: Measure, filters: dict[str, list[str]]) -> None:
    """Refuse a filter the measure cannot take, naming `filters.<field>` (never ignore it silently)."""
    for field in filters:
        if field not in measure.filters:
            takes = f"it takes {', '.join(measure.filters)}" if measure.filters else "it takes no filters"
            raise ValidationFailed(f"filters.{field}: measure {measure.name!r} cannot be filtered by {field!r}; "
                                   f"{takes}", field=f"filters.{field}", record=f"measure:{measure.name}")
