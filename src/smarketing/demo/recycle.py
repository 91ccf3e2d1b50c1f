"""Recycle loops: recycled contacts come back, and the playbook's scoring makes them MQLs again. Pure.

A contact is recycled when sales rejects or recycles its MQL for a "not now" reason, when an accepted lead stalls,
or when its opportunity is lost. The product may qualify it again once its recycle date has passed (the handoff
decision's `recycle_until`; right away after a stall or a loss). Planted: a share of recycled contacts re-engage
some weeks after that date, without any campaign (they come back by themselves: direct and organic visits, pricing,
a demo request or a form). Whether that, or their ordinary campaign touches, qualify them again is the product's
own rule, evaluated with `demo.qualify.first_mql` on the touches after the recycle date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo.events import END_DAY, touch_frame
from smarketing.demo.qualify import Qualification, first_mql

# Planted: the share of recycled contacts that re-engage, by why they were recycled.
REENGAGE = {"handoff": 0.45, "stall": 0.3, "lost": 0.2}
REENGAGE_DELAY_DAYS = 35.0  # mean days after the recycle date
ROUTES = (("direct", 0.55), ("organic_search", 0.45))


@dataclass(frozen=True)
class Recycled:
    """Contacts whose latest stage is recycled (local indices), since when, from when they may qualify, and why."""

    contact: np.ndarray
    t: np.ndarray
    ready: np.ndarray
    cause: np.ndarray  # handoff | stall | lost


def recycled_contacts(stages: pd.DataFrame, handoffs: pd.DataFrame) -> Recycled:
    """The contacts recycled so far, with the recycle date their handoff decision set (if any)."""
    cs = stages[stages["contact"] >= 0].sort_values(["contact", "t"], kind="stable")
    last = cs.groupby("contact").tail(1)
    rec = last[last["to_stage"] == "recycled"]
    episode = rec["episode"].to_numpy(dtype=np.int64)
    reason = rec["reason"].astype(str)
    cause = np.where(episode >= 0, "handoff",
                     np.where(reason.str.startswith("opportunity lost").to_numpy(), "lost", "stall")).astype(object)
    until = pd.Series(handoffs["recycle_until"].to_numpy(dtype=float), index=handoffs["episode"].to_numpy())
    ready_from = until.reindex(episode).to_numpy(dtype=float)
    t = rec["t"].to_numpy(dtype=float)
    ready = np.where(np.isfinite(ready_from), np.maximum(t, ready_from), t)
    return Recycled(contact=rec["contact"].to_numpy(dtype=np.int64), t=t, ready=ready, cause=cause)


def reengage(rng: np.random.Generator, rec: Recycled) -> tuple[pd.DataFrame, np.ndarray]:
    """The planted come-backs: touches of the contacts that re-engage, and which contacts (mask over `rec`)."""
    n = rec.contact.size
    p = np.asarray([REENGAGE[c] for c in rec.cause], dtype=float)
    tau = rec.ready + rng.exponential(REENGAGE_DELAY_DAYS, n) + rng.uniform(0, 1, n)
    back = (rng.random(n) < p) & (tau < END_DAY - 2)
    who, tau = rec.contact[back], tau[back]
    m = who.size
    route = rng.choice(len(ROUTES), size=m, p=[w for _, w in ROUTES])
    n_pricing = 1 + rng.poisson(1.0, m)
    download = rng.random(m) < 0.5
    demo = rng.random(m) < 0.55
    form = ~demo & (rng.random(m) < 0.6)
    rep = np.repeat(np.arange(m), n_pricing)
    t_pricing = tau[rep] + rng.uniform(0.01, 3, rep.size)
    t_download = tau + rng.uniform(0, 5, m)
    t_raise = tau + rng.uniform(0.2, 6, m)
    parts = []
    for r, (channel, _) in enumerate(ROUTES):
        on = route == r
        on_rep = on[rep]
        parts += [touch_frame(who[on], -1, channel, "page_view", tau[on]),
                  touch_frame(who[rep][on_rep], -1, channel, "pricing_view", t_pricing[on_rep]),
                  touch_frame(who[on & download], -1, channel, "content_download", t_download[on & download]),
                  touch_frame(who[on & demo], -1, channel, "demo_request", t_raise[on & demo]),
                  touch_frame(who[on & form], -1, channel, "form_fill", t_raise[on & form])]
    touches = pd.concat(parts, ignore_index=True)
    return touches[touches["t"] < END_DAY].reset_index(drop=True), back


def requalify(rec: Recycled, touches: pd.DataFrame, periods: list[Any], facts: list[dict[str, Any]],
              fits: list[tuple[Any, np.ndarray]]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """When each recycled contact first meets the MQL criteria again after its recycle date (product's rule).

    `touches` are all touches (contact_local, t, kind); `fits` the raw fit points per fit-rule set.
    Returns the contacts, the touch moments, the playbook period index and the fit points at that moment.
    """
    ready = np.full(len(facts), np.inf)
    ready[rec.contact] = rec.ready
    mine = touches[np.isfinite(ready[touches["contact_local"].to_numpy()])]
    mine = mine.sort_values(["contact_local", "t"], kind="stable", ignore_index=True)
    c_idx = mine["contact_local"].to_numpy()
    t = mine["t"].to_numpy(dtype=float)
    kind = mine["kind"].to_numpy()
    day = np.full(len(facts), np.nan)
    version = np.full(len(facts), -1)
    fit_at = np.zeros(len(facts))
    starts = [p.starts_day for p in periods] + [np.inf]
    for p in periods:
        eligible = (t >= ready[c_idx]) & (t >= starts[p.index]) & (t < starts[p.index + 1]) & (t < END_DAY)
        fit = next((f for rules, f in fits if rules == p.terms.scoring.fit_rules), None)
        q: Qualification = first_mql(p.terms, facts, c_idx, t, kind, eligible, fit=fit)
        new = (q.touch_index >= 0) & np.isnan(day)
        day[new] = t[q.touch_index[new]]
        version[new] = p.index
        fit_at[new] = q.fit[new]
    who = np.flatnonzero(np.isfinite(day))
    return who, day[who], version[who], fit_at[who]
