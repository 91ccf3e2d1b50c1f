"""From touches to revenue: playbook-driven MQLs, the sales handoff, opportunities, customers and feedback.

Stage progression follows the playbook in force at each moment (`demo.qualify`); everything after the MQL follows
sales behaviour with realistic lags (business hours for people, weeks for deals). Pure: frames in, frames out.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo import catalog, deals, handoff, recycle
from smarketing.demo.events import END_DAY, StageEvents, touch_frame
from smarketing.demo.qualify import first_mql, mql_details

POST_MQL = next(i for i, c in enumerate(catalog.CAMPAIGNS) if c.key == "email-post-mql")
FIRST_TOUCH_KINDS = ("sales_call", "sales_email", "meeting")  # as lifecycle.services_sla_clocks counts them


def _facts(con: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [con[c].tolist() for c in ("buying_role", "email", "title", "country", "industry", "employees", "region",
                                      "segment")]
    return [{"contact.buying_role": r, "contact.email": e, "contact.title": ti, "contact.country": co,
             "account.industry": ind, "account.employees": int(emp), "account.region": reg, "account.segment": seg}
            for r, e, ti, co, ind, emp, reg, seg in zip(*cols, strict=True)]


def funnel(rng: np.random.Generator, chunk_index: int, acc: pd.DataFrame, con: pd.DataFrame, touches: pd.DataFrame,
           camps: pd.DataFrame, periods: list[Any], people: list[Any], counters: dict[str, int],
           stats: dict[str, Any], habits: handoff.Habits) -> Any:
    """Run one chunk's contacts through the funnel; returns a simulator Chunk with global ids."""
    from smarketing.demo.simulator import Chunk, start_datetime

    origin = start_datetime()
    n = len(con)
    touches = touches.sort_values(["contact_local", "t"], kind="stable", ignore_index=True)
    c_idx = touches["contact_local"].to_numpy()
    t = touches["t"].to_numpy()
    kind = touches["kind"].to_numpy()
    prospect = ~con["customer"].to_numpy()
    facts = _facts(con)
    mql_day = np.full(n, np.nan)
    mql_version = np.full(n, -1)
    mql_fit = np.zeros(n)
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
        mql_fit[new] = q.fit[new]
    local_acc = con["local_account"].to_numpy()
    owned_at_start = acc["owner"].to_numpy() >= 0
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

    # MQL, by the playbook rule. Account owner first; otherwise the routed seller becomes the owner at the first MQL.
    m_idx = np.flatnonzero(np.isfinite(mql_day))
    m = mql_day[m_idx]
    la = local_acc[m_idx]
    first_mql_acc = pd.Series(m).groupby(la).idxmin()
    first_of_account = np.zeros(m_idx.size, dtype=bool)
    first_of_account[first_mql_acc.to_numpy()] = True
    unowned = owner[first_mql_acc.index.to_numpy()] < 0
    owner[first_mql_acc.index.to_numpy()[unowned]] = seller[first_mql_acc.index.to_numpy()[unowned]]
    who = owner[la]
    contact_owner = np.full(n, -1)
    contact_owner[m_idx] = who
    contact_owner[cc] = owner[local_acc[cc]]
    intent = np.isfinite(in_market[m_idx]) & (in_market[m_idx] <= m + 30)
    eps = handoff.Episodes(id=_take(counters, "episode", m_idx.size), contact=m_idx, t=m, version=mql_version[m_idx],
                           owner=who, owned_before=owned_at_start[la] | ~first_of_account, intent=intent,
                           fit=mql_fit[m_idx], free=free[m_idx], round=1)
    eps.prior_t, eps.prior_kind = _first_touch_after(touches, m_idx, m)
    _mql_events(ev, eps, periods, facts, c_idx, t, kind, origin)

    # Sales follow-up: the post-MQL sequence (marketing), then the handoff and what sales does with the lead.
    seq = rng.random(m_idx.size) < 0.9
    extra.append(_sequence(rng, m_idx[seq], m[seq]))
    first = handoff.respond(rng, eps, periods, people, habits, ev, origin)
    extra.extend(first.touches)
    opps, opp_touches = deals.opportunities(rng, acc, con, first.sql_contacts, first.t_sql, owner, counters, ev)
    extra.append(opp_touches)

    # Recycle loop: recycled contacts that come back and qualify again go through the handoff once more.
    rec = recycle.recycled_contacts(ev.frame(), first.frame)
    back_touches, back = recycle.reengage(rng, rec)
    extra.append(back_touches)
    # Only the recycled contacts' touches matter for qualifying again (sorting every touch twice costs seconds).
    recycled = np.zeros(n, dtype=bool)
    recycled[rec.contact] = True
    so_far = pd.concat([f[recycled[f["contact_local"].to_numpy()]] for f in (touches, *extra)], ignore_index=True)
    so_far = so_far.sort_values(["contact_local", "t"], kind="stable", ignore_index=True)
    c2, t2, v2, fit2 = recycle.requalify(rec, so_far, periods, facts, fits)
    came_back = np.isin(c2, rec.contact[back])
    window = np.isfinite(in_market[c2]) & (in_market[c2] > t2 - 60) & (in_market[c2] <= t2 + 30)
    owner2 = np.where(owner[local_acc[c2]] >= 0, owner[local_acc[c2]], seller[local_acc[c2]])
    eps2 = handoff.Episodes(id=_take(counters, "episode", c2.size), contact=c2, t=t2, version=v2, owner=owner2,
                            owned_before=np.ones(c2.size, dtype=bool), intent=came_back | window, fit=fit2,
                            free=free[c2], round=2)
    eps2.prior_t, eps2.prior_kind = _first_touch_after(so_far, c2, t2)
    _mql_events(ev, eps2, periods, facts, so_far["contact_local"].to_numpy(), so_far["t"].to_numpy(),
                so_far["kind"].to_numpy(), origin)
    seq2 = rng.random(c2.size) < 0.9
    extra.append(_sequence(rng, c2[seq2], t2[seq2]))
    second = handoff.respond(rng, eps2, periods, people, habits, ev, origin)
    extra.extend(second.touches)
    keep = _no_open_deal(opps, local_acc[second.sql_contacts], second.t_sql)
    opps2, opp_touches2 = deals.opportunities(rng, acc, con, second.sql_contacts[keep], second.t_sql[keep], owner,
                                              counters, ev)
    extra.append(opp_touches2)
    opps = pd.concat([opps, opps2], ignore_index=True) if len(opps2) else opps

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
    final = _final_stages(stages, con, acc)
    final["id"] = _take(counters, "stage_change", len(final))
    handoffs = _final_handoffs(pd.concat([first.frame, second.frame], ignore_index=True), final, con, acc,
                               periods, people)
    final["mql_ref"] = _mql_refs(final, handoffs)
    touch_rows = _final_touches(all_touches, con)
    touch_rows["id"] = _take(counters, "touch", len(touch_rows))
    handoffs["first_touch_id"] = _first_touch_ids(handoffs, touch_rows)
    touch_rows, handoffs = _other_touches(rng, handoffs, touch_rows, con, people, counters)
    stats["handoff_reengaged"] = stats.get("handoff_reengaged", 0) + int(back.sum())
    return Chunk(index=chunk_index, accounts=_final_accounts(acc, owner, stages),
                 contacts=_final_contacts(con, contact_owner, stages, mql_day, in_market),
                 touches=touch_rows, opportunities=opps, stage_changes=final,
                 feedback=feedback, handoffs=handoffs)


def _take(counters: dict[str, int], key: str, n: int) -> np.ndarray:
    """The next n global ids of a kind (episodes, stage changes)."""
    first = counters.get(key, 0)
    counters[key] = first + n
    return np.arange(first, first + n, dtype=np.int64)


def _mql_events(ev: StageEvents, eps: handoff.Episodes, periods: list[Any], facts: list[dict[str, Any]],
                c_idx: np.ndarray, t: np.ndarray, kind: np.ndarray, origin: Any) -> None:
    """MQL stage changes as the product records them: by the rule, with the score and its explanation."""
    for p in periods:
        sel = np.flatnonzero(eps.version == p.index)
        if sel.size == 0:
            continue
        details = mql_details(p.terms, facts, eps.contact[sel], eps.t[sel], c_idx, t, kind, origin)
        th = p.terms.scoring.mql_threshold
        ev.add(contact=eps.contact[sel], to_stage="mql", t=eps.t[sel], actor_kind="rule",
               reason=np.asarray([f"score {d['score']['total']:.1f} ≥ MQL threshold {th:g} and entry criteria hold"
                                  for d in details], dtype=object),
               details=[json.dumps(d) for d in details], episode=eps.id[sel])


def _no_open_deal(opps: pd.DataFrame, account: np.ndarray, t_sql: np.ndarray) -> np.ndarray:
    """Which SQLs come at a time their account has no open or won new-business deal (so a new one can open)."""
    deals_ = opps[opps["type"] == "new_business"]
    ok = np.ones(account.size, dtype=bool)
    for a, opened, closed, outcome in zip(deals_["local_account"], deals_["opened"], deals_["closed"],
                                          deals_["outcome"], strict=True):
        end = closed if np.isfinite(closed) else np.inf
        busy = (account == a) & (t_sql >= opened) & ((t_sql < end) | (outcome == "won"))
        ok &= ~busy
    return ok


def _final_handoffs(frame: pd.DataFrame, stages: pd.DataFrame, con: pd.DataFrame, acc: pd.DataFrame,
                    periods: list[Any], people: list[Any]) -> pd.DataFrame:
    """One row per MQL episode with its stage-change ids, routing, SLA outcomes and who hears about breaches."""
    ep = stages[stages["episode"] >= 0]
    mql = ep[ep["to_stage"] == "mql"].set_index("episode")["id"]
    dec = ep[ep["to_stage"] != "mql"].set_index("episode")["id"]
    out = frame.copy()
    out["mql_sc"] = mql.reindex(out["episode"]).fillna(-1).to_numpy(dtype=np.int64)
    out["dec_sc"] = dec.reindex(out["episode"]).fillna(-1).to_numpy(dtype=np.int64)
    pending = out["dec_sc"].to_numpy() < 0
    for col, blank in (("decision", ""), ("reason_key", ""), ("reason_label", ""), ("note", ""), ("to_stage", "")):
        out.loc[pending, col] = blank
    out.loc[pending, "recycle_until"] = np.nan
    out = handoff.sla_outcomes(out)
    local = out["contact_local"].to_numpy()
    out["contact"] = con["id"].to_numpy()[local]
    out["account"] = con["account"].to_numpy()[local]
    out["contact_name"] = (con["first_name"] + " " + con["last_name"]).to_numpy()[local]
    routing = [handoff.routing_reason(p.terms, people) for p in periods]
    rows = [routing[v](int(o), bool(b)) for v, o, b in zip(out["version"], out["owner"], out["owned_before"],
                                                           strict=True)]
    out["team"] = [r[0] for r in rows]
    out["reason_code"] = [r[1] for r in rows]
    out["rule_id"] = [r[2] for r in rows]
    out["route_reason"] = [r[3] for r in rows]
    out["owner_username"] = [people[o].username for o in out["owner"]]
    out["notify_owner"] = [handoff.breach_notifies_owner(periods[v].terms) for v in out["version"]]
    out["escalate_role"] = [periods[v].terms.sla.sales.on_breach.escalate_to_role for v in out["version"]]
    out["breach_to"] = [handoff.breach_recipients(periods[v].terms, people) for v in out["version"]]
    out["escalate_to"] = [handoff.escalation_recipients(periods[v].terms, people) for v in out["version"]]
    return out


def _mql_refs(stages: pd.DataFrame, handoffs: pd.DataFrame) -> np.ndarray:
    """For each decision stage change, the id of the MQL stage change it decides (-1 for other changes)."""
    mql_of = pd.Series(handoffs["mql_sc"].to_numpy(), index=handoffs["episode"].to_numpy())
    episode = stages["episode"].to_numpy()
    ref = mql_of.reindex(episode).fillna(-1).to_numpy(dtype=np.int64)
    return np.where((episode >= 0) & (stages["to_stage"].to_numpy() != "mql"), ref, -1)


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
                         "reason": ["first contact reached " + s for s in df["stage"]], "details": "{}",
                         "episode": -1})
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


def _other_touches(rng: np.random.Generator, handoffs: pd.DataFrame, touch_rows: pd.DataFrame, con: pd.DataFrame,
                   people: list[Any], counters: dict[str, int]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Plant the touches by someone other than the owner (`handoff.other_touches`) after every other touch, so
    nothing drawn before changes; each episode row names its planted touch (other_touch_id, -1 for none)."""
    planted = handoff.other_touches(rng, handoffs, people).sort_values(["contact_local", "t"], ignore_index=True)
    frame = touch_frame(planted["contact_local"].to_numpy(), -1, "sales", planted["kind"].to_numpy(),
                        planted["t"].to_numpy())
    frame["actor"] = planted["actor"].to_numpy()
    rows = _final_touches(frame, con)  # already in its order (contact, time), so rows line up with `planted`
    rows["id"] = _take(counters, "touch", len(rows))
    out = handoffs.copy()
    at = planted["row"].to_numpy()
    for col, blank, values in (("other_touch_id", -1, rows["id"]), ("other_t", np.nan, rows["t"]),
                               ("other_kind", "", rows["kind"]), ("other_actor", -1, rows["actor"])):
        column = np.full(len(out), blank, dtype=object if col == "other_kind" else values.dtype)
        column[at] = values.to_numpy()
        out[col] = column
    out["other_username"] = [people[a].username if a >= 0 else "" for a in out["other_actor"]]
    return pd.concat([touch_rows, rows], ignore_index=True), out


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
    actor = touches["actor"].fillna(-1).to_numpy(dtype=np.int64) if "actor" in touches else np.full(len(touches), -1)
    return pd.DataFrame({"contact": con["id"].to_numpy()[local], "account": con["account"].to_numpy()[local],
                         "campaign": touches["campaign"].to_numpy(), "channel": touches["channel"].to_numpy(),
                         "kind": touches["kind"].to_numpy(), "t": touches["t"].to_numpy(), "actor": actor})


def _first_touch_after(touches: pd.DataFrame, contacts: np.ndarray, at: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each contact's first touch of a kind that meets a first-touch clock, at or after `at` (inf, "" if none)."""
    kinds = touches[touches["kind"].isin(list(FIRST_TOUCH_KINDS))]
    out_t, out_kind = np.full(contacts.size, np.inf), np.full(contacts.size, "", dtype=object)
    if kinds.empty or contacts.size == 0:
        return out_t, out_kind
    right = kinds[["contact_local", "t", "kind"]].rename(columns={"t": "t_touch"}).sort_values("t_touch")
    right["t"] = right["t_touch"]
    left = pd.DataFrame({"contact_local": contacts, "t": at, "row": np.arange(contacts.size)}).sort_values("t")
    found = pd.merge_asof(left, right, on="t", by="contact_local", direction="forward")
    hit = found["t_touch"].notna().to_numpy()
    rows = found["row"].to_numpy()[hit]
    out_t[rows] = found["t_touch"].to_numpy()[hit]
    out_kind[rows] = found["kind"].to_numpy()[hit]
    return out_t, out_kind


def _first_touch_ids(handoffs: pd.DataFrame, touches: pd.DataFrame) -> np.ndarray:
    """The id of the touch that met each episode's first-touch clock (-1 if none within the year)."""
    sales = touches.drop_duplicates(["contact", "t", "kind"])[["contact", "t", "kind", "id"]]
    wanted = pd.DataFrame({"contact": handoffs["contact"].to_numpy(), "t": handoffs["t_first_touch"].to_numpy(),
                           "kind": handoffs["first_kind"].to_numpy()})
    found = wanted.merge(sales, on=["contact", "t", "kind"], how="left")["id"]
    return found.fillna(-1).to_numpy(dtype=np.int64)
