"""How sales answers MQLs in the simulated year: routing, SLA clocks, first touch, accept / reject / recycle.

Pure and vectorised: MQL episodes in, stage events, touches and one row per episode out. Every seller has planted
habits (`Habits`): how often they touch and decide within the playbook's SLA and how closely they follow campaign
talk tracks. Deadlines come from the playbook's business calendar (`demo.business_clock`, equal to the product's
`lifecycle.sla.sales_deadlines`); a rejection reason goes where the playbook's disposition for it says.
The SLA outcome of each clock (met, breached at its deadline, cancelled by a rejection, still open at the end of
the year) follows the product's rules in `lifecycle.services_sla_clocks`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo.business_clock import DAY, clock_for
from smarketing.demo.events import END_DAY, StageEvents, business_time, sales_touches

# Planted: why sales rejects MQLs (weights among prospects with a company address; free-mail ones are students or
# bad data), and how often a "not now" reason is recorded as a recycle with its own date instead of a rejection.
REJECT_REASONS = {"no_budget": 0.28, "bad_timing": 0.27, "no_need": 0.2, "no_authority": 0.17, "competitor": 0.08}
REJECT_FREE = {"student_or_job_seeker": 0.6, "bad_data": 0.4}
RECYCLE_SHARE = 0.3
NOTE_SHARE = 0.35
NOTES = {
    "accept": ("Strong fit, booked a discovery call.", "Came in through the webinar, wants a demo next week.",
               "Controller is the champion; CFO joins the next call.", "Replied within the hour, real project."),
    "no_budget": ("Budget is frozen until next fiscal year.", "Likes it but no money this year.",
                  "Spend is on hold after a reorg."),
    "bad_timing": ("In the middle of an audit; asked us to come back after it.", "ERP migration first, then us.",
                   "Asked to reconnect next quarter."),
    "no_need": ("Month-end close is two days already; no pain.", "Uses a spreadsheet and is happy with it.",
                "Too small for a close tool."),
    "no_authority": ("Staff accountant researching; no path to the controller.", "Intern collecting brochures.",
                     "Says finance leadership will not look at new tools."),
    "competitor": ("Signed a three-year contract with a competitor last month.", "Incumbent tool renewed in March."),
    "student_or_job_seeker": ("University address, writing a thesis on close automation.",
                              "Job seeker downloading for interview prep."),
    "bad_data": ("Email bounced, phone number is fake.", "Company name is gibberish."),
}
STALL_REASONS = ("no response after three attempts", "not a priority this quarter")
# Planted seller habits: chance of a first touch / a decision within the SLA, and of following a talk track.
FIRST_TOUCH_ON_TIME = (0.7, 0.97)
DECISION_ON_TIME = (0.8, 0.98)
ADHERENCE = (0.15, 0.9)
LATE_FIRST_TOUCH_HOURS = 3.0  # mean business hours past the deadline when late
LATE_DECISION_HOURS = 6.0


@dataclass(frozen=True)
class Habits:
    """Planted per person (index into the simulation's people; zero for non-sellers)."""

    first_touch_on_time: np.ndarray
    decision_on_time: np.ndarray
    adherence: np.ndarray

    @classmethod
    def draw(cls, rng: np.random.Generator, people: list[Any]) -> Habits:
        seller = np.array([p.role == "sales" for p in people])
        n = len(people)

        def spread(lo_hi: tuple[float, float]) -> np.ndarray:
            return np.where(seller, rng.uniform(*lo_hi, n), 0.0).round(3)

        return cls(spread(FIRST_TOUCH_ON_TIME), spread(DECISION_ON_TIME), spread(ADHERENCE))

    def by_username(self, people: list[Any]) -> dict[str, dict[str, float]]:
        return {p.username: {"first_touch_on_time": float(self.first_touch_on_time[i]),
                             "decision_on_time": float(self.decision_on_time[i]),
                             "talk_track_adherence": float(self.adherence[i])}
                for i, p in enumerate(people) if p.role == "sales"}


@dataclass
class Episodes:
    """MQL episodes of one chunk: one per time a contact became an MQL (local contact indices)."""

    id: np.ndarray  # global episode ids
    contact: np.ndarray
    t: np.ndarray  # days
    version: np.ndarray  # playbook period index in force at the MQL
    owner: np.ndarray  # person index of the seller the MQL is routed to
    owned_before: np.ndarray  # the account already had an owner (routing: account owner first)
    intent: np.ndarray  # the contact is really in-market (sales can tell on the call)
    fit: np.ndarray
    free: np.ndarray
    round: int  # 1: first MQL; 2: re-qualified after a recycle
    # The first touch of a first-touch kind already on record at or after the MQL (e.g. a meeting at an event,
    # which names no rep): the product counts it as an unattributed first touch. inf / "" when there is none.
    prior_t: np.ndarray | None = None
    prior_kind: np.ndarray | None = None


@dataclass
class Response:
    frame: pd.DataFrame  # one row per episode
    touches: list[pd.DataFrame]
    sql_contacts: np.ndarray
    t_sql: np.ndarray


def _pick(rng: np.random.Generator, weights: dict[str, float], n: int) -> np.ndarray:
    keys = list(weights)
    p = np.asarray([weights[k] for k in keys], dtype=float)
    return np.asarray(keys, dtype=object)[rng.choice(len(keys), size=n, p=p / p.sum())]


def _reason_weights(weights: dict[str, float], known: dict[str, Any]) -> dict[str, float]:
    """The planted weights of the reasons this playbook has (all of its reasons alike if it has none of them)."""
    kept = {k: w for k, w in weights.items() if k in known}
    return kept or {k: 1.0 for k in known}


def _seconds(days: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(days, dtype=float) * DAY).astype(np.int64)


def respond(rng: np.random.Generator, eps: Episodes, periods: list[Any], people: list[Any], habits: Habits,
            ev: StageEvents, origin: Any) -> Response:
    """Sales' response to each MQL: first touch and decision (on time or late), then SAL → SQL or back to nurture."""
    k = eps.contact.size
    starts = np.asarray([p.starts_day for p in periods])
    sla = [p.terms.sla for p in periods]
    # SLA deadlines from the MQL moment, on the calendar of the version in force (the product's arithmetic).
    start_s = _seconds(eps.t)
    ft_deadline = np.zeros(k, dtype=np.int64)
    dec_deadline = np.zeros(k, dtype=np.int64)
    ft_s = np.zeros(k, dtype=np.int64)
    dec_s = np.zeros(k, dtype=np.int64)
    on_ft = rng.random(k) < habits.first_touch_on_time[eps.owner]
    on_dec = rng.random(k) < habits.decision_on_time[eps.owner]
    ft_frac, dec_frac = rng.beta(1.2, 3.0, k), rng.beta(2.0, 2.0, k)
    ft_late = 60 + rng.exponential(LATE_FIRST_TOUCH_HOURS * 3600, k)
    dec_late = 60 + rng.exponential(LATE_DECISION_HOURS * 3600, k)
    for v, terms in enumerate(sla):
        sel = eps.version == v
        if not sel.any():
            continue
        clk = clock_for(terms.calendar, origin, int(END_DAY) + 30)
        ft_allowed = round(terms.sales.first_touch_business_hours * 3600)
        dec_allowed = round(terms.sales.decision_business_days * clk.day_seconds)
        s = start_s[sel]
        ft_deadline[sel] = clk.add(s, ft_allowed)
        dec_deadline[sel] = clk.add(s, dec_allowed)
        ft_s[sel] = np.where(on_ft[sel], clk.add(s, np.maximum(60, ft_frac[sel] * ft_allowed).astype(np.int64)),
                             clk.add(ft_deadline[sel], ft_late[sel].astype(np.int64)))
        dec_s[sel] = np.where(on_dec[sel], clk.add(s, np.maximum(120, dec_frac[sel] * dec_allowed).astype(np.int64)),
                              clk.add(dec_deadline[sel], dec_late[sel].astype(np.int64)))
    t_ft, t_dec = ft_s / DAY, dec_s / DAY
    dec_version = np.clip(np.searchsorted(starts, t_dec, side="right") - 1, 0, None)

    # The verdict: intent and fit make sales accept; reasons follow the playbook's dispositions.
    p_accept = np.where(eps.intent, np.where(eps.fit >= 10, 0.88, 0.6), 0.3)
    p_accept = np.where(eps.free, 0.05, p_accept)
    accepted = rng.random(k) < p_accept
    decision = np.where(accepted, "accept", "reject").astype(object)
    reason_key = np.full(k, "", dtype=object)
    reason_label = np.full(k, "", dtype=object)
    to_stage = np.where(accepted, "sal", "").astype(object)
    until = np.full(k, np.nan)
    as_recycle = rng.random(k) < RECYCLE_SHARE
    recycle_days = rng.uniform(45, 120, k)
    for v, p in enumerate(periods):
        reasons = {r.key: r for r in p.terms.handoff.rejection_reasons}
        sel = ~accepted & (dec_version == v)
        for free, weights in ((True, REJECT_FREE), (False, REJECT_REASONS)):
            idx = np.flatnonzero(sel & (eps.free == free))
            reason_key[idx] = _pick(rng, _reason_weights(weights, reasons), idx.size)
        for i in np.flatnonzero(sel):
            r = reasons[reason_key[i]]
            reason_label[i] = r.label
            to_stage[i] = r.disposition
            if r.disposition == "recycled":
                day0 = np.floor(t_dec[i])
                if as_recycle[i]:
                    decision[i] = "recycle"
                    until[i] = day0 + np.floor(recycle_days[i])
                else:
                    until[i] = day0 + p.terms.handoff.recycle_default_days
    note_pick = rng.random(k)
    has_note = rng.random(k) < NOTE_SHARE
    banks = [NOTES.get(r or "accept", ("",)) for r in reason_key]
    notes = np.asarray([b[int(u * len(b))] if h else "" for b, u, h in zip(banks, note_pick, has_note, strict=True)],
                       dtype=object)

    # A rejected MQL gets a first touch only if the seller wrote before deciding; an accepted one always does.
    touched = accepted | (t_ft < t_dec)
    who = eps.owner
    names = np.asarray([p.username for p in people], dtype=object)
    verb = {"accept": "accepted", "reject": "rejected", "recycle": "recycled"}
    why = [f"{verb[d]} by {names[o]}" + (f": {lab}" if lab else "") for d, o, lab in
           zip(decision, who, reason_label, strict=True)]
    details = [json.dumps({"handoff": d, "reason_key": rk, "note": n}) for d, rk, n in
               zip(decision, reason_key, notes, strict=True)]
    for stage in ("sal", "recycled", "disqualified"):
        idx = np.flatnonzero(to_stage == stage)
        ev.add(contact=eps.contact[idx], to_stage=stage, t=t_dec[idx], actor=who[idx], actor_kind="user",
               reason=np.asarray([why[i] for i in idx], dtype=object), details=[details[i] for i in idx],
               episode=eps.id[idx])
    touches = [sales_touches(eps.contact[touched], "sales_email", t_ft[touched], who[touched])]

    # After acceptance: calls, discovery, and either an SQL or a stall back to nurture.
    a = np.flatnonzero(accepted)
    calls = a[rng.random(a.size) < 0.7]
    t_call = business_time(t_dec[calls] + rng.uniform(0.05, 3, calls.size))
    touches.append(sales_touches(eps.contact[calls], "sales_call", t_call, who[calls]))
    # Whichever sales touch comes first meets the first-touch clock (lifecycle's first_touch_detect).
    first_call = np.full(k, np.inf)
    first_call[calls] = t_call
    own = np.where(touched, np.minimum(t_ft, first_call), np.inf)
    own_kind = np.where(first_call < t_ft, "sales_call", "sales_email").astype(object)
    prior = eps.prior_t if eps.prior_t is not None else np.full(k, np.inf)
    by_prior = prior < own
    t_first = np.where(by_prior, prior, own)
    t_first = np.where(np.isfinite(t_first), t_first, np.nan)
    first_kind = np.where(by_prior, eps.prior_kind if eps.prior_kind is not None else "", own_kind).astype(object)
    first_by = np.where(by_prior, "unattributed", "owner").astype(object)
    qualifies = rng.random(a.size) < np.where(eps.intent[a], 0.72, 0.12)
    s = a[qualifies]
    t_sql = np.maximum(business_time(t_dec[s] + rng.lognormal(np.log(6), 0.6, s.size)), t_dec[s] + 0.05)
    touches.append(sales_touches(eps.contact[s], "meeting", t_sql - rng.uniform(0.01, 0.5, s.size), who[s]))
    ev.add(contact=eps.contact[s], to_stage="sql", t=t_sql, actor=who[s], actor_kind="user",
           reason="discovery call confirmed budget, authority, need and timing")
    stall = a[~qualifies]
    stall_reason = np.asarray(STALL_REASONS, dtype=object)[rng.integers(0, len(STALL_REASONS), stall.size)]
    ev.add(contact=eps.contact[stall], to_stage="recycled",
           t=business_time(t_dec[stall] + rng.uniform(14, 45, stall.size)), actor=who[stall], actor_kind="user",
           reason=stall_reason)

    frame = pd.DataFrame({
        "episode": eps.id, "contact_local": eps.contact, "round": eps.round, "owner": who, "version": eps.version,
        "owned_before": eps.owned_before, "t_mql": eps.t, "ft_deadline": ft_deadline / DAY,
        "dec_deadline": dec_deadline / DAY, "t_first_touch": t_first, "first_kind": first_kind,
        "first_by": first_by, "t_decision": t_dec,
        "dec_version": dec_version, "decision": decision, "reason_key": reason_key, "reason_label": reason_label,
        "note": notes, "to_stage": to_stage, "recycle_until": until})
    return Response(frame=frame, touches=touches, sql_contacts=eps.contact[s], t_sql=t_sql)


def sla_outcomes(frame: pd.DataFrame) -> pd.DataFrame:
    """Each episode's two clocks as of the end of the year: state and when it was resolved (product rules).

    First touch: met by a sales touch by the deadline; cancelled by a rejection or recycle before any touch;
    otherwise breached at the deadline (the SLA worker runs continuously). Decision: met by a decision by the
    deadline, else breached at it. Anything after the end of the year has not happened yet: the clock is open.
    """
    end = END_DAY
    touch = frame["t_first_touch"].to_numpy(dtype=float)
    touch = np.where(np.isfinite(touch) & (touch < end), touch, np.inf)
    dec = frame["t_decision"].to_numpy(dtype=float)
    decided = frame["decision"].to_numpy() != ""
    dec = np.where(decided & (dec < end), dec, np.inf)
    cancel = np.where(frame["decision"].to_numpy() != "accept", dec, np.inf)
    out = frame.copy()
    for kind, first, dl in (("ft", np.minimum(touch, cancel), frame["ft_deadline"].to_numpy()),
                            ("dec", dec, frame["dec_deadline"].to_numpy())):
        in_time = _seconds(np.where(np.isfinite(first), first, 0)) <= _seconds(dl)
        in_time &= np.isfinite(first)
        state = np.where(in_time, "met", np.where(dl < end, "breached", "open")).astype(object)
        if kind == "ft":
            state = np.where(in_time & (cancel < touch), "cancelled", state)
        out[f"{kind}_state"] = state
        out[f"{kind}_resolved"] = np.where(in_time, first, np.where(state == "breached", dl, np.nan))
    return out


def routing_reason(terms: Any, people: list[Any]) -> Any:
    """A function (owner, account already owned) -> (team, reason code, rule id, reason), worded as routing is.

    The simulator picks the seller (account owner, else capacity-weighted within the team the playbook's rules
    choose); this says why in the words of `lifecycle.routing.route`.
    """
    from smarketing.lifecycle import routing

    rule_of_team = {r.team: r.id for r in reversed(terms.routing.rules)}

    def why(owner: int, owned: bool) -> tuple[str, str, str, str]:
        p = people[owner]
        name = f"{p.first_name} {p.last_name}".strip() or p.username
        if owned and terms.routing.account_owner_first:
            return p.team, routing.ACCOUNT_OWNER, "", f"{name} owns the account"
        rule_id = rule_of_team.get(p.team, "")
        if rule_id:
            return p.team, routing.RULE, rule_id, (f"rule {rule_id} routes to {p.team}; weighted round-robin "
                                                   f"picked {name}")
        return p.team, routing.DEFAULT_TEAM, "", f"default team {p.team}; weighted round-robin picked {name}"

    return why


def breach_notifies_owner(terms: Any) -> bool:
    notify = terms.sla.sales.on_breach.notify
    return "owner" in notify or "in_app" in notify


def breach_recipients(terms: Any, people: list[Any]) -> tuple[int, ...]:
    """People told about a breach besides its owner: revops when managers are notified, marketing if asked."""
    notify = terms.sla.sales.on_breach.notify
    roles = {"revops"} if "manager" in notify else set()
    roles |= {"marketing"} if "marketing" in notify else set()
    return tuple(i for i, p in enumerate(people) if p.role in roles)


def escalation_recipients(terms: Any, people: list[Any]) -> tuple[int, ...]:
    """People a breach is escalated to (the playbook's escalate_to_role)."""
    role = terms.sla.sales.on_breach.escalate_to_role
    return tuple(i for i, p in enumerate(people) if role and p.role == role)


# Planted: the share of MQLs a seller other than the owner touches (a colleague calls while covering, or picks up a
# reply) while the owner's first-touch clock runs; the product records it as other_touch and the clock keeps going.
OTHER_TOUCH_SHARE = 0.03
OTHER_TOUCH_KINDS = ("sales_call", "sales_email")


def other_touches(rng: np.random.Generator, frame: pd.DataFrame, people: list[Any]) -> pd.DataFrame:
    """Touches by someone other than the owner, one for a few episodes whose first-touch clock was open a while.

    Each falls strictly inside the open clock (from the MQL to its resolution, or the end of the year), so
    `lifecycle.services_sla_clocks.first_touch_detect` would record it as other_touch and leave the clock running. A
    colleague in the owner's team makes it (another seller when the owner has none). In every chunk with an MQL
    still waiting for its decision at the end of the year, at least one such MQL is among them, so the handoff
    queue shows the flag. Returns one row per planted touch: episode row, contact_local, t, kind, actor.
    """
    t0 = frame["t_mql"].to_numpy(dtype=float)
    end = np.where(frame["ft_state"].to_numpy() == "open", END_DAY, frame["ft_resolved"].to_numpy(dtype=float))
    end = np.minimum(np.nan_to_num(end, nan=END_DAY), END_DAY)
    eligible = end - t0 > 0.05  # over an hour: room for a colleague's touch strictly inside the clock
    pick = eligible & (rng.random(len(frame)) < OTHER_TOUCH_SHARE)
    waiting = eligible & (frame["dec_sc"].to_numpy() < 0)
    if waiting.any() and not (pick & waiting).any():
        pick[np.flatnonzero(waiting)[np.argmax(t0[waiting])]] = True  # the most recent MQL still waiting
    rows = np.flatnonzero(pick)
    sellers = [i for i, p in enumerate(people) if p.role == "sales"]
    actors = []
    for owner in frame["owner"].to_numpy(dtype=np.int64)[rows]:
        mates = [i for i in sellers if i != owner and people[i].team == people[owner].team]
        others = mates or [i for i in sellers if i != owner]
        actors.append(others[int(rng.integers(len(others)))])
    t = t0[rows] + (end[rows] - t0[rows]) * rng.uniform(0.2, 0.8, rows.size)
    kinds = np.asarray(OTHER_TOUCH_KINDS, dtype=object)[rng.integers(len(OTHER_TOUCH_KINDS), size=rows.size)]
    return pd.DataFrame({"row": rows, "contact_local": frame["contact_local"].to_numpy(dtype=np.int64)[rows],
                         "t": t, "kind": kinds, "actor": np.asarray(actors, dtype=np.int64)})
