"""The demo company's planted ground truth: what really causes what, so analytics can be checked against it.

The causal story the simulator implements:

* Every prospect has a hazard of becoming *in-market* (ready to buy), per day:
  `base_hazard_per_day × role × segment × industry × free-mail × account frailty`, multiplied from the moment of
  first exposure by the `campaign_lifts` of every campaign the contact was exposed to (a contact is exposed to a
  campaign exactly when it has at least one touchpoint of it). A lift of 1.0 means no effect.
* `role == "strong"` campaigns lift a lot with few touches (a webinar series, CFO dinners); `"null"` campaigns
  produce most of the touches (broad display, broad social) and change nothing; `"capture"` campaigns also change
  nothing but their touches land right *before* conversion because they are triggered by it (in-market people
  search the brand; new MQLs get the follow-up sequence) - last-touch attribution over-credits them.
* In-market contacts raise their hand (pricing views, demo request or contact-sales form); the playbook's scoring
  then makes them MQLs. Others can still become MQLs by engagement alone; sales rejects most of those.
* Sales accepts, qualifies and opens opportunities with realistic lags; outcomes depend on segment and role, and
  the reason for a loss is a feedback theme drawn from `loss_drivers[segment]`.
* Existing customers expand more when they attended a campaign in `expansion_lifts`.
* Every MQL is routed (account owner first) with two SLA clocks from the playbook's calendar: first touch and
  decision. Each seller has planted habits (`handoff["sellers"]`): how often they touch and decide in time and how
  closely their outreach follows campaign talk tracks. Rejections use the playbook's reasons with planted weights
  and go where each reason's disposition says (recycled or disqualified).
* Recycled contacts come back: a planted share (`handoff["reengage_share"]`, by why they were recycled) re-engage
  some weeks after their recycle date, without any campaign; the playbook's scoring re-qualifies them as MQLs and
  the handoff starts again.

Read it with `smarketing.demo.selectors.demo_truth_get()` after seeding, or from `simulate(...).truth`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class GroundTruth:
    seed: int
    size: str
    window_start: str  # ISO date, first simulated day
    as_of: str  # ISO date, last simulated day
    playbook_switch_at: str  # ISO datetime when v2 of the playbook (signed off in the demo) took effect
    campaign_lifts: dict[str, float]  # campaign name -> multiplicative lift on the in-market hazard
    campaign_roles: dict[str, str]  # campaign name -> "strong" | "null" | "capture" | "" (ordinary)
    channel_lifts: dict[str, float]  # channel -> reach-weighted mean lift of its campaigns
    expansion_lifts: dict[str, float]  # campaign name -> lift on a customer account's expansion probability
    base_hazard_per_day: float
    hazard_multipliers: dict[str, dict[str, float]]  # "role"/"segment"/"industry"/"free_email" -> value -> factor
    win_rates: dict[str, float]  # segment -> base win rate of a new-business opportunity
    loss_drivers: dict[str, dict[str, float]]  # segment -> theme key -> share of losses
    themes: dict[str, str]  # theme key -> label
    feedback_themes: dict[str, str] = field(repr=False)  # feedback source_id -> theme key
    conversion_rates: dict[str, float] = field(default_factory=dict)  # realised stage-to-stage rates
    exposure_conversion: dict[str, dict[str, float]] = field(default_factory=dict, repr=False)
    counts: dict[str, int] = field(default_factory=dict)
    # Planted handoff behaviour: per seller the chance of a first touch / decision within the SLA and of following
    # a campaign's talk track; rejection reason weights; the share of recycled contacts that re-engage.
    handoff: dict[str, Any] = field(default_factory=dict)

    def campaigns_with_role(self, role: str) -> list[str]:
        """Campaign names with a planted role: strong, null or capture."""
        return sorted(name for name, r in self.campaign_roles.items() if r == role)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str | dict[str, Any]) -> GroundTruth:
        data = json.loads(text) if isinstance(text, str) else text
        return cls(**data)
