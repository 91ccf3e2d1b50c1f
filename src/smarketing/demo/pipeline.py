"""From touches to revenue: playbook-driven MQLs, the sales handoff, opportunities, customers and feedback.

Stage progression follows the playbook in force at each moment (`demo.qualify`); everything after the MQL follows
sales behaviour with realistic lags (business hours for people, weeks for deals). Pure: frames in, frames out.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo import catalog, deals
from smarketing.demo.events import END_DAY, StageEvents, business_time, sales_touches, touch_frame
from smarketing.demo.qualify import first_mql

POST_MQL = next(i for i, c in enumerate(catalog.CAMPAIGNS) if c.key == "email-post-mql")
REJECT_PASSIVE = ("no_need", "bad_timing", "no_authority", "no_budget")
REJECT_FREE = ("student_or_job_seeker", "bad_data")


def _facts(con: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [con[c].tolist() for c in ("buying_role", "email", "title", "country", "industry", "employees", "region",
                                      "segment")]
    return [{"contact.buying_role": r, "contact.email": e, "contact.title": ti, "contact.country": co,
             "account.industry": ind, "account.employees": int(emp), "account.region": reg, "account.segment": seg}
            for r, e, ti, co, ind, emp, reg, seg in zip(*cols, strict=True)]


def funnel(rng: np.random.Generator, chunk_index: int, acc: pd.DataFrame, con: pd.DataFrame, touches: pd.DataFrame,
           camps: pd.DataFrame, periods: list[Any], people: list[Any], counters: dict[str, int],
           stats: dict[str, Any]) -> Any:
    """Run one chunk's contacts through the funnel; returns a simulator Chunk with global ids."""
    from smarketing.demo.simulator import Chunk

    n = len(con)
    touches = touches.sort_values(["contact_local", "t"], kind="stable", ignore_index=True)
    c_idx = touches["contact_local"].to_numpy()
    t = touches["t"].to_numpy()
    kind = touches["kind"].to_numpy()
    prospect = ~con["customer"].to_numpy()
    facts = _facts(con)
    mql_day = np.full(n, np.nan)
    mql_version = np.full(n, -1)
    mql_score = np.zeros((n, 3))
    thresholds = np.zeros(n)
    starts = [p.starts_day for p in periods] + [np.inf]
    fits: list[tuple[Any, np.ndarray]] = []
    for p in periods:
        eligible = (t >= starts[p.index]) & (t < starts[p.index + 1]) & prospect[c_idx]
        fit = next((f for rules, f in fits if rules == p.terms.scoring.fit_rules), None)
        q = first_mql(p.terms, facts, c_idx, t, kind, eligible, fit=fit)
        fits.append((p.terms.scoring.fit_rules, q.fit))
        new = (q.touch_index >= 0) & np.isnan(mql_day)
        mql_day[new] = t[q.touch_index[new]]
        mql_version[new] = p.index
        mql_score[new] = np.c_[q.fit, q.engagement, q.total][new]
        thresholds[new] = p.terms.scoring.mql_threshold
    local_acc = con["local_account"].to_numpy()
    owner = acc["owner"].to_numpy().copy()
    seller = acc["seller"].to_numpy()
    in_market = con["in_market_day"].to_numpy()
    free = con["free_email"].to_numpy()
    ev = StageEvents()
    extra: list[pd.DataFrame] = []

    # Leads and customers from before the year.
    cust = ~prospect
    first_seen = con["first_seen"].to_numpy()
    src_kind = np.where(con["lead_source"].to_numpy() == "list_import", "import", "system")
    ev.add(contact=np.arange(n), to_stage="lead", t=first_seen, actor_kind=np.where(cust, "import", src_kind),
           reason=np.asarray(["first touch: " + s.replace("_", " ") for s in con["lead_source"]], dtype=object))
    since = acc["customer_since"].to_numpy()[local_acc]
    cc = np.flatnonzero(cust)
    ev.add(contact=cc, to_stage="customer", t=np.maximum(since[cc], first_seen[cc] + 0.01), actor=owner[local_acc[cc]],
           actor_kind="import", reason="customer before the demo year")

    # MQL, by the playbook rule.
    m_idx = np.flatnonzero(np.isfinite(mql_day))
    m = mql_day[m_idx]
    details = [json.dumps({"fit": round(float(f), 2), "engagement": round(float(e), 2), "total": round(float(s), 2),
                           "threshold": float(th), "rule": "scoring.mql_threshold + mql entry criteria"})
               for (f, e, s), th in zip(mql_score[m_idx], thresholds[m_idx], strict=True)]
    ev.add(contact=m_idx, to_stage="mql", t=m, actor_kind="rule",
           reason=np.asarray([f"score {s:.0f} reached the MQL threshold {th:g}"
                              for s, th in zip(mql_score[m_idx, 2], thresholds[m_idx], strict=True)], dtype=object),
           details=details)
    # Account owner first; otherwise the routed seller becomes the owner at the first MQL.
    la = local_acc[m_idx]
    first_mql_acc = pd.Series(m).groupby(la).idxmin()
    unowned = owner[first_mql_acc.index.to_numpy()] < 0
    owner[first_mql_acc.index.to_numpy()[unowned]] = seller[first_mql_acc.index.to_numpy()[unowned]]
    who = owner[la]
    contact_owner = np.full(n, -1)
    contact_owner[m_idx] = who
    contact_owner[cc] = owner[local_acc[cc]]

    # Sales follow-up: the post-MQL sequence (marketing), the first sales email, the accept/reject decision.
    k = m_idx.size
    seq = rng.random(k) < 0.9
    extra.append(_sequence(rng, m_idx[seq], m[seq]))
    first_touch = np.maximum(business_time(m + rng.lognormal(np.log(0.15), 0.8, k)), m + 0.01)
    extra.append(sales_touches(m_idx, "sales_email", first_touch))
    t_sal = np.maximum(business_time(m + rng.lognormal(np.log(0.35), 0.9, k)), m + 0.02)
    intent = np.isfinite(in_market[m_idx]) & (in_market[m_idx] <= m + 30)
    p_accept = np.where(intent, np.where(mql_score[m_idx, 0] >= 10, 0.88, 0.6), 0.3)
    p_accept = np.where(free[m_idx], 0.05, p_accept)
    accepted = rng.random(k) < p_accept
    rejected = ~accepted
    reason_keys = np.where(free[m_idx], _choice(rng, REJECT_FREE, k), _choice(rng, REJECT_PASSIVE, k))
    recycle = rng.random(k) < 0.65
    labels = {r.key: r.label for r in periods[0].terms.handoff.rejection_reasons}
    for stage, sel in (("recycled", rejected & recycle), ("disqualified", rejected & ~recycle)):
        idx = np.flatnonzero(sel)
        ev.add(contact=m_idx[idx], to_stage=stage, t=t_sal[idx], actor=who[idx], actor_kind="user",
               reason=np.asarray([f"rejected: {labels.get(r, r)}" for r in reason_keys[idx]], dtype=object),
               details=[json.dumps({"rejection_reason": r}) for r in reason_keys[idx]])
    a = np.flatnonzero(accepted)
    ev.add(contact=m_idx[a], to_stage="sal", t=t_sal[a], actor=who[a], actor_kind="user", reason="accepted")
    calls = a[rng.random(a.size) < 0.7]
    extra.append(sales_touches(m_idx[calls], "sales_call", business_time(t_sal[calls] + rng.uniform(0.05, 3, calls.size))))
    p_sql = np.where(intent[a], 0.72, 0.12)
    qualifies = rng.random(a.size) < p_sql
    s = a[qualifies]
    t_sql = np.maximum(business_time(t_sal[s] + rng.lognormal(np.log(6), 0.6, s.size)), t_sal[s] + 0.05)
    extra.append(sales_touches(m_idx[s], "meeting", t_sql - rng.uniform(0.01, 0.5, s.size)))
    ev.add(contact=m_idx[s], to_stage="sql", t=t_sql, actor=who[s], actor_kind="user",
           reason="discovery call confirmed budget, authority, need and timing")
    stall = a[~qualifies]
    ev.add(contact=m_idx[stall], to_stage="recycled", t=business_time(t_sal[stall] + rng.uniform(14, 45, stall.size)),
           actor=who[stall], actor_kind="user",
           reason=_choice(rng, ("no response after three attempts", "not a priority this quarter"), stall.size))

    opps, opp_touches = deals.opportunities(rng, acc, con, m_idx[s], t_sql, owner, counters, ev)
    extra.append(opp_touches)
    feedback = deals.feedback(rng, acc, con, opps, owner, counters)
    opps, feedback = deals.expansions(rng, acc, con, opps, feedback, owner, counters, touches)

    opps["contact"] = con["id"].to_numpy()[opps["contact"].to_numpy().astype(np.int64)]
    # Touches: exposures and hand-raising plus what sales and the sequence did, within the year.
    all_touches = pd.concat([touches, *extra], ignore_index=True)
    all_touches = all_touches[all_touches["t"] < END_DAY]
    stages = _with_accounts(ev.frame(), con, acc)
    stages = stages[stages["t"] < END_DAY].copy()
    stages["version"] = np.clip(np.searchsorted(np.asarray(starts[:-1]), stages["t"].to_numpy(), side="right") - 1,
                                0, None)
    return Chunk(index=chunk_index, accounts=_final_accounts(acc, owner, stages),
                 contacts=_final_contacts(con, contact_owner, stages, mql_day, in_market),
                 touches=_final_touches(all_touches, con), opportunities=opps, stage_changes=_final_stages(stages, con, acc),
                 feedback=feedback)


def _choice(rng: np.random.Generator, values: tuple[str, ...], n: int) -> np.ndarray:
    return np.asarray(values, dtype=object)[rng.integers(0, len(values), n)]


def _sequence(rng: np.random.Generator, contact: np.ndarray, m: np.ndarray) -> pd.DataFrame:
    """The post-MQL email sequence: opens and clicks in the days after the MQL (a planted zero-effect campaign)."""
    opens = 1 + rng.poisson(2.0, contact.size)
    clicks = (rng.random(contact.size) < 0.5) * (1 + rng.poisson(1.0, contact.size))
    rep_o = np.repeat(np.arange(contact.size), opens)
    rep_c = np.repeat(np.arange(contact.size), clicks)
    t_o = m[rep_o] + rng.uniform(0.02, 10, rep_o.size)
    t_c = m[rep_c] + rng.uniform(0.05, 10, rep_c.size)
    return pd.concat([touch_frame(contact[rep_o], POST_MQL, "email", "email_open", t_o),
                      touch_frame(contact[rep_c], POST_MQL, "email", "email_click", t_c)], ignore_index=True)


def _with_accounts(stages: pd.DataFrame, con: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    """Add account-level stage changes: each account enters a funnel stage when its first contact does."""
    local_acc = con["local_account"].to_numpy()
    cs = stages[stages["contact"] >= 0]
    acc_of = local_acc[cs["contact"].to_numpy().astype(np.int64)]
    funnel = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
    df = pd.DataFrame({"account": acc_of, "stage": cs["to_stage"].to_numpy(), "t": cs["t"].to_numpy(),
                       "actor": cs["actor"].to_numpy(), "kind": cs["actor_kind"].to_numpy()})
    df = df[df["stage"].isin(funnel)]
    df = df.sort_values(["account", "stage", "t"], kind="stable").groupby(["account", "stage"], sort=False).head(1)
    df = df.assign(order=df["stage"].map({s: i for i, s in enumerate(funnel)})).sort_values(["account", "order"])
    # Keep the account's path forward-only in time (a pre-year customer enters as lead, then customer).
    df = df[df.groupby("account")["t"].cummax().to_numpy() <= df["t"].to_numpy()]
    rows = pd.DataFrame({"contact": -1, "account": df["account"].to_numpy(), "to_stage": df["stage"].to_numpy(),
                         "t": df["t"].to_numpy() + 1e-5, "actor": df["actor"].to_numpy(),
                         "actor_kind": df["kind"].to_numpy(),
                         "reason": ["first contact reached " + s for s in df["stage"]], "details": "{}"})
    return pd.concat([stages, rows], ignore_index=True)


def _final_stages(stages: pd.DataFrame, con: pd.DataFrame, acc: pd.DataFrame) -> pd.DataFrame:
    ids = con["id"].to_numpy()
    acc_ids = acc["id"].to_numpy()
    stages = stages.sort_values(["account", "contact", "t"], kind="stable", ignore_index=True)
    subject = np.where(stages["contact"] >= 0, stages["contact"], -2 - stages["account"])
    prev = stages["to_stage"].shift(1).fillna("").to_numpy()
    first = np.r_[True, subject[1:] != subject[:-1]]
    out = stages.copy()
    out["from_stage"] = np.where(first, "", prev)
    contact = stages["contact"].to_numpy().astype(np.int64)
    account = stages["account"].to_numpy().astype(np.int64)
    out["contact"] = np.where(contact >= 0, ids[np.maximum(contact, 0)], -1)
    out["account"] = np.where(account >= 0, acc_ids[np.maximum(account, 0)], -1)
    return out


def _last_stage(stages: pd.DataFrame, key: str, n: int, default: str) -> np.ndarray:
    s = stages[stages[key] >= 0].sort_values([key, "t"], kind="stable")
    last = s.groupby(key).tail(1)
    out = np.full(n, default, dtype=object)
    out[last[key].to_numpy().astype(np.int64)] = last["to_stage"].to_numpy()
    return out


def _final_accounts(acc: pd.DataFrame, owner: np.ndarray, stages: pd.DataFrame) -> pd.DataFrame:
    out = acc.copy()
    out["owner"] = owner
    out["lifecycle_stage"] = _last_stage(stages, "account", len(acc), "lead")
    out["is_customer"] = acc["customer"].to_numpy() | (out["lifecycle_stage"] == "customer").to_numpy()
    return out


def _final_contacts(con: pd.DataFrame, contact_owner: np.ndarray, stages: pd.DataFrame, mql_day: np.ndarray,
                    in_market: np.ndarray) -> pd.DataFrame:
    out = con.copy()
    out["owner"] = contact_owner
    out["lifecycle_stage"] = _last_stage(stages, "contact", len(con), "lead")
    out["mql_day"] = mql_day
    out["in_market"] = np.isfinite(in_market) & (in_market < END_DAY)
    return out


def _final_touches(touches: pd.DataFrame, con: pd.DataFrame) -> pd.DataFrame:
    touches = touches.sort_values(["contact_local", "t"], kind="stable", ignore_index=True)
    local = touches["contact_local"].to_numpy()
    return pd.DataFrame({"contact": con["id"].to_numpy()[local], "account": con["account"].to_numpy()[local],
                         "campaign": touches["campaign"].to_numpy(), "channel": touches["channel"].to_numpy(),
                         "kind": touches["kind"].to_numpy(), "t": touches["t"].to_numpy()})
