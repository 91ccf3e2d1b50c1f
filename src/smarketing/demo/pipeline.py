"""From touches to revenue: playbook-driven MQLs, the sales handoff, opportunities, customers and feedback.

Stage progression follows the playbook in force at each moment (`demo.qualify`); everything after the MQL follows
sales behaviour with realistic lags (business hours for people, weeks for deals). Pure: frames in, frames out.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo import catalog, journeys
from smarketing.demo.qualify import first_mql
from smarketing.demo.themes import (
    CUSTOMER_THEMES,
    DEAL_THEMES,
    LOSS_DRIVERS,
    THEME_INDEX,
    THEMES,
    feedback_text,
    theme_kind,
)

END_DAY = journeys.END_DAY
START_WEEKDAY = catalog.window_start().weekday()
POST_MQL = next(i for i, c in enumerate(catalog.CAMPAIGNS) if c.key == "email-post-mql")
CUSTOMER_WEBINAR = next(i for i, c in enumerate(catalog.CAMPAIGNS) if c.customers_only)
SELLER_KINDS = ("objection", "feature_request", "competitor")
CUSTOMER_KINDS = ("praise", "story", "feature_request")
REJECT_PASSIVE = ("no_need", "bad_timing", "no_authority", "no_budget")
REJECT_FREE = ("student_or_job_seeker", "bad_data")
ROLE_WIN = {"decision_maker": 1.2, "champion": 1.15, "influencer": 0.9, "user": 0.75}
RENEWAL_LOSS = {"pricing": 0.35, "competitor": 0.35, "budget_timing": 0.3}


def business_time(t: np.ndarray) -> np.ndarray:
    """Move moments onto working hours (09:00–17:00, Monday–Friday), keeping their order within a day."""
    t = np.asarray(t, dtype=float)
    day = np.floor(t)
    weekday = (START_WEEKDAY + day) % 7
    shift = np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))
    return day + shift + (9 + 8 * (t - day)) / 24


def _facts(con: pd.DataFrame) -> list[dict[str, Any]]:
    cols = [con[c].tolist() for c in ("buying_role", "email", "title", "country", "industry", "employees", "region",
                                      "segment")]
    return [{"contact.buying_role": r, "contact.email": e, "contact.title": ti, "contact.country": co,
             "account.industry": ind, "account.employees": int(emp), "account.region": reg, "account.segment": seg}
            for r, e, ti, co, ind, emp, reg, seg in zip(*cols, strict=True)]


class _Events:
    """Stage changes being collected as columns."""

    def __init__(self) -> None:
        self.cols: dict[str, list[np.ndarray]] = {k: [] for k in ("contact", "account", "to_stage", "t", "actor",
                                                                   "actor_kind", "reason", "details")}

    def add(self, *, contact: np.ndarray | None = None, account: np.ndarray | None = None, to_stage: str,
            t: np.ndarray, actor: np.ndarray | int = -1, actor_kind: str, reason: np.ndarray | str = "",
            details: np.ndarray | list[str] | None = None) -> None:
        n = np.asarray(t).size
        self.cols["contact"].append(np.full(n, -1) if contact is None else np.asarray(contact))
        self.cols["account"].append(np.full(n, -1) if account is None else np.asarray(account))
        self.cols["to_stage"].append(np.full(n, to_stage, dtype=object))
        self.cols["t"].append(np.asarray(t, dtype=float))
        self.cols["actor"].append(np.broadcast_to(np.asarray(actor), (n,)).astype(np.int64))
        self.cols["actor_kind"].append(np.full(n, actor_kind, dtype=object))
        self.cols["reason"].append(np.broadcast_to(np.asarray(reason, dtype=object), (n,)))
        self.cols["details"].append(np.full(n, "{}", dtype=object) if details is None
                                    else np.asarray(details, dtype=object))

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame({k: np.concatenate(v) if v else np.zeros(0) for k, v in self.cols.items()})


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
    ev = _Events()
    extra: list[pd.DataFrame] = []

    # Leads and customers from before the year.
    cust = ~prospect
    first_seen = con["first_seen"].to_numpy()
    src_kind = np.where(con["lead_source"].to_numpy() == "list_import", "import", "system")
    ev.add(contact=np.arange(n), to_stage="lead", t=first_seen, actor_kind="system",
           reason=np.asarray(["first touch: " + s.replace("_", " ") for s in con["lead_source"]], dtype=object))
    ev.cols["actor_kind"][-1] = np.where(cust, "import", src_kind).astype(object)
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
    extra.append(_sales(m_idx, "sales_email", first_touch))
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
    extra.append(_sales(m_idx[calls], "sales_call", business_time(t_sal[calls] + rng.uniform(0.05, 3, calls.size))))
    p_sql = np.where(intent[a], 0.72, 0.12)
    qualifies = rng.random(a.size) < p_sql
    s = a[qualifies]
    t_sql = np.maximum(business_time(t_sal[s] + rng.lognormal(np.log(6), 0.6, s.size)), t_sal[s] + 0.05)
    extra.append(_sales(m_idx[s], "meeting", t_sql - rng.uniform(0.01, 0.5, s.size)))
    ev.add(contact=m_idx[s], to_stage="sql", t=t_sql, actor=who[s], actor_kind="user",
           reason="discovery call confirmed budget, authority, need and timing")
    stall = a[~qualifies]
    ev.add(contact=m_idx[stall], to_stage="recycled", t=business_time(t_sal[stall] + rng.uniform(14, 45, stall.size)),
           actor=who[stall], actor_kind="user",
           reason=_choice(rng, ("no response after three attempts", "not a priority this quarter"), stall.size))

    opps, opp_events, opp_touches = _opportunities(rng, acc, con, m_idx[s], t_sql, owner, counters, ev)
    extra.append(opp_touches)
    feedback = _feedback(rng, acc, con, opps, owner, counters)
    opps, feedback = _expansions(rng, acc, con, opps, feedback, owner, counters, touches)

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


def _touch_frame(contact: np.ndarray, campaign: int, channel: str, kind: str | np.ndarray,
                 t: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"contact_local": np.asarray(contact, dtype=np.int64),
                         "campaign": np.full(np.asarray(t).size, campaign, dtype=np.int64),
                         "channel": channel, "kind": kind, "t": np.asarray(t, dtype=float)})


def _sales(contact: np.ndarray, kind: str, t: np.ndarray) -> pd.DataFrame:
    return _touch_frame(contact, -1, "sales", kind, t)


def _sequence(rng: np.random.Generator, contact: np.ndarray, m: np.ndarray) -> pd.DataFrame:
    """The post-MQL email sequence: opens and clicks in the days after the MQL (a planted zero-effect campaign)."""
    opens = 1 + rng.poisson(2.0, contact.size)
    clicks = (rng.random(contact.size) < 0.5) * (1 + rng.poisson(1.0, contact.size))
    rep_o = np.repeat(np.arange(contact.size), opens)
    rep_c = np.repeat(np.arange(contact.size), clicks)
    t_o = m[rep_o] + rng.uniform(0.02, 10, rep_o.size)
    t_c = m[rep_c] + rng.uniform(0.05, 10, rep_c.size)
    return pd.concat([_touch_frame(contact[rep_o], POST_MQL, "email", "email_open", t_o),
                      _touch_frame(contact[rep_c], POST_MQL, "email", "email_click", t_c)], ignore_index=True)


def _amount(rng: np.random.Generator, segment: str, employees: int, factor: float = 1.0) -> float:
    median, sigma = catalog.ACV[segment]
    size_adj = (employees / catalog.EMPLOYEES[segment][0]) ** 0.25
    return float(max(1000.0, round(median * size_adj * factor * rng.lognormal(0, sigma), -2)))


def _open_stage(elapsed: float) -> str:
    return "discovery" if elapsed < 0.25 else "qualification" if elapsed < 0.5 else "proposal" \
        if elapsed < 0.8 else "negotiation"


def _opp_row(counters: dict[str, int], acc_row: Any, contact: int, otype: str, amount: float, opened: float,
             close: float, won: bool, owner: int, loss_theme: str, product: str) -> dict[str, Any]:
    oid = counters["opportunity"]
    counters["opportunity"] += 1
    closed = close < END_DAY
    outcome = ("won" if won else "lost") if closed else "open"
    stage = {"won": "closed_won", "lost": "closed_lost"}.get(outcome) or _open_stage(
        (END_DAY - opened) / max(close - opened, 1e-6))
    label = {"new_business": "new business", "expansion": "expansion", "renewal": "renewal"}[otype]
    return {"id": oid, "account": int(acc_row.id), "local_account": int(acc_row.Index), "contact": contact,
            "name": f"{acc_row.name} – {label}", "type": otype, "amount": amount, "stage": stage, "opened": opened,
            "closed": close if closed else np.nan, "outcome": outcome, "owner": owner,
            "loss_theme": loss_theme if outcome == "lost" else "",
            "loss_reason": catalog.LOSS_LABELS.get(loss_theme, "") if outcome == "lost" else "", "product": product}


def _pick(rng: np.random.Generator, weights: dict[str, float]) -> str:
    keys = list(weights)
    p = np.array([weights[k] for k in keys])
    return keys[int(rng.choice(len(keys), p=p / p.sum()))]


def _opportunities(rng: np.random.Generator, acc: pd.DataFrame, con: pd.DataFrame, sql_contacts: np.ndarray,
                   t_sql: np.ndarray, owner: np.ndarray, counters: dict[str, int],
                   ev: _Events) -> tuple[pd.DataFrame, None, pd.DataFrame]:
    """The first SQL of an account without an open deal opens a new-business opportunity; deals close or stay open."""
    local_acc = con["local_account"].to_numpy()
    roles = con["buying_role"].to_numpy()
    intent_count = pd.Series(np.isfinite(con["in_market_day"].to_numpy())).groupby(local_acc).sum().to_numpy()
    rows = []
    calls_c, calls_t = [], []
    order = np.lexsort((t_sql, local_acc[sql_contacts]))
    open_until: dict[int, float] = {}
    accounts = list(acc.itertuples())
    for i in order:
        c, ts = int(sql_contacts[i]), float(t_sql[i])
        a = int(local_acc[c])
        if ts < open_until.get(a, -np.inf):
            continue
        opened = float(business_time(np.array([ts + rng.uniform(0.5, 6)]))[0])
        if opened >= END_DAY:
            continue
        row = accounts[a]
        cycle = catalog.CYCLE_DAYS[row.segment] * rng.lognormal(0, 0.5)
        close = opened + cycle
        p_win = catalog.WIN_RATE[row.segment] * ROLE_WIN[roles[c]] * (1.25 if intent_count[a] >= 2 else 1.0)
        won = bool(rng.random() < min(p_win, 0.8))
        theme = _pick(rng, LOSS_DRIVERS[row.segment])
        amount = _amount(rng, row.segment, int(row.employees))
        seller = int(owner[a])
        rows.append(_opp_row(counters, row, c, "new_business", amount, opened, close, won, seller, theme,
                             f"{catalog.PRODUCT} Core"))
        open_until[a] = close
        ev.add(contact=np.array([c]), to_stage="opportunity", t=np.array([opened]), actor=seller, actor_kind="user",
               reason=f"opportunity opened: {rows[-1]['name']}")
        n_calls = 1 + rng.poisson(cycle / 20)
        calls_c.extend([c] * n_calls)
        calls_t.extend(business_time(opened + rng.uniform(0, cycle, n_calls)).tolist())
        if close < END_DAY:
            if won:
                ev.add(contact=np.array([c]), to_stage="customer", t=np.array([close]), actor=seller,
                       actor_kind="system", reason=f"won {rows[-1]['name']}")
            else:
                ev.add(contact=np.array([c]), to_stage="recycled", t=np.array([close + 1]), actor=seller,
                       actor_kind="user", reason=f"opportunity lost: {rows[-1]['loss_reason']}",
                       details=[json.dumps({"loss_theme": theme})])
    touches = _sales(np.asarray(calls_c, dtype=np.int64), "sales_call", np.asarray(calls_t, dtype=float))
    return _opp_frame(rows), None, touches


def _opp_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    cols = ["id", "account", "local_account", "contact", "name", "type", "amount", "stage", "opened", "closed",
            "outcome", "owner", "loss_theme", "loss_reason", "product"]
    return pd.DataFrame(rows, columns=cols)


def _feedback_row(counters: dict[str, int], rng: np.random.Generator, theme_key: str, allowed: tuple[str, ...],
                  t: float, account: int, contact: int, opportunity: int, author: int,
                  kind: str = "") -> dict[str, Any]:
    fid = counters["feedback"]
    counters["feedback"] += 1
    theme = THEMES[THEME_INDEX[theme_key]]
    return {"id": fid, "source_id": f"demo-fb-{fid}", "account": account, "contact": contact,
            "opportunity": opportunity, "author": author, "kind": kind or theme_kind(theme, rng, allowed),
            "text": feedback_text(theme, rng), "t": t, "theme": theme_key}


def _feedback(rng: np.random.Generator, acc: pd.DataFrame, con: pd.DataFrame, opps: pd.DataFrame, owner: np.ndarray,
              counters: dict[str, int]) -> list[dict[str, Any]]:
    """What sellers wrote: objections and requests during deals, the reason for each loss, customers' praise."""
    rows = []
    contact_ids = con["id"].to_numpy()
    for o in opps.itertuples():
        end = o.closed if np.isfinite(o.closed) else END_DAY
        for _ in range(int(rng.poisson(1.4))):
            theme = o.loss_theme if o.loss_theme and rng.random() < 0.5 else _pick(rng, DEAL_THEMES)
            t = float(business_time(np.array([rng.uniform(o.opened, end)]))[0])
            rows.append(_feedback_row(counters, rng, theme, SELLER_KINDS, min(t, END_DAY - 0.01), o.account,
                                      int(contact_ids[o.contact]), o.id, o.owner))
        if o.outcome == "lost":
            rows.append(_feedback_row(counters, rng, o.loss_theme, ("loss_reason",), float(o.closed), o.account,
                                      int(contact_ids[o.contact]), o.id, o.owner, kind="loss_reason"))
    starts = con.groupby("local_account").head(1)
    first_contact = dict(zip(starts["local_account"], starts["id"], strict=True))
    for a in np.flatnonzero(acc["customer"].to_numpy()):
        for _ in range(int(rng.poisson(1.6))):
            t = float(business_time(np.array([rng.uniform(0, END_DAY - 1)]))[0])
            rows.append(_feedback_row(counters, rng, _pick(rng, CUSTOMER_THEMES), CUSTOMER_KINDS, t,
                                      int(acc["id"].iat[a]), int(first_contact[a]), -1, int(owner[a])))
    for o in opps[(opps["outcome"] == "won") & (opps["type"] == "new_business")].itertuples():
        for _ in range(int(rng.poisson(1.0))):
            t = float(business_time(np.array([rng.uniform(o.closed, END_DAY)]))[0])
            if t < END_DAY:
                rows.append(_feedback_row(counters, rng, _pick(rng, CUSTOMER_THEMES), CUSTOMER_KINDS, t, o.account,
                                          int(contact_ids[o.contact]), o.id, o.owner))
    return rows


def _expansions(rng: np.random.Generator, acc: pd.DataFrame, con: pd.DataFrame, opps: pd.DataFrame,
                feedback: list[dict[str, Any]], owner: np.ndarray, counters: dict[str, int],
                touches: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Renewals on each pre-year customer's anniversary; expansions, more likely after the customer webinar."""
    rows = []
    local_acc = con["local_account"].to_numpy()
    dm = con.groupby("local_account").head(1).set_index("local_account")["id"]
    local_of = dict(zip(con["id"], np.arange(len(con)), strict=True))
    webinar = touches[(touches["campaign"] == CUSTOMER_WEBINAR)]
    attended = webinar.groupby(local_acc[webinar["contact_local"].to_numpy()])["t"].min()
    won_new = opps[(opps["outcome"] == "won") & (opps["type"] == "new_business")]
    became = dict(zip(won_new["local_account"], won_new["closed"], strict=True))
    for row in acc.itertuples():
        a = int(row.Index)
        contact = local_of[int(dm[a])]
        seller = int(owner[a]) if owner[a] >= 0 else int(row.seller)
        since = row.customer_since if row.customer else became.get(a, np.nan)
        if not np.isfinite(since):
            continue
        if row.customer:
            years = np.ceil(-since / 365.0)
            anniversary = since + 365 * years
            if anniversary < END_DAY:
                lost = rng.random() > 0.88
                theme = _pick(rng, RENEWAL_LOSS)
                rows.append(_opp_row(counters, row, contact, "renewal",
                                     _amount(rng, row.segment, int(row.employees), 1.05), anniversary - 60,
                                     anniversary, not lost, seller, theme, f"{catalog.PRODUCT} renewal"))
                if lost:
                    feedback.append(_feedback_row(counters, rng, theme, ("loss_reason",), float(anniversary),
                                                  int(row.id), int(con["id"].iat[contact]), rows[-1]["id"], seller,
                                                  kind="loss_reason"))
        lift = journeys.EXPANSION_LIFT if a in attended.index else 1.0
        earliest = max(float(since), 0.0) + 30
        if earliest < END_DAY - 20 and rng.random() < 0.18 * lift:
            lo = max(earliest, float(attended.get(a, earliest)))
            opened = float(business_time(np.array([rng.uniform(lo, END_DAY - 10)]))[0])
            close = opened + 40 * rng.lognormal(0, 0.4)
            rows.append(_opp_row(counters, row, contact, "expansion",
                                 _amount(rng, row.segment, int(row.employees), rng.uniform(0.15, 0.5)), opened, close,
                                 bool(rng.random() < 0.6), seller, "", "Consolidation add-on"))
    all_opps = pd.concat([opps, _opp_frame(rows)], ignore_index=True) if rows else opps
    cols = ["id", "source_id", "account", "contact", "opportunity", "author", "kind", "text", "t", "theme"]
    fb = pd.DataFrame(feedback, columns=cols)
    return all_opps, fb


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


def accumulate(stats: dict[str, Any], chunk: Any, exposures: dict[str, np.ndarray], camps: pd.DataFrame) -> None:
    """Add a chunk's counts to the running stats the ground truth reports."""
    con, st = chunk.contacts, chunk.stage_changes
    prospect = ~con["customer"].to_numpy()
    reached = {s: set(st.loc[(st["contact"] >= 0) & (st["to_stage"] == s), "contact"].tolist())
               for s in ("mql", "sal", "sql", "opportunity", "customer")}
    ids = con["id"].to_numpy()
    p_ids = ids[prospect]

    def add(key: str, value: float) -> None:
        stats[key] = stats.get(key, 0) + value

    add("n_contacts", len(con))
    add("n_accounts", len(chunk.accounts))
    add("n_prospects", int(prospect.sum()))
    add("n_in_market", int(con["in_market"].to_numpy()[prospect].sum()))
    for s, members in reached.items():
        add(f"n_{s}", int(np.isin(p_ids, list(members)).sum()))
    add("n_touchpoints", len(chunk.touches))
    add("n_stage_changes", len(st))
    add("n_opportunities", len(chunk.opportunities))
    add("n_won", int((chunk.opportunities["outcome"] == "won").sum()))
    add("n_lost", int((chunk.opportunities["outcome"] == "lost").sum()))
    add("n_feedback", len(chunk.feedback))
    # Per campaign: exposed vs unexposed prospects, how many became in-market / reached an opportunity.
    C = len(camps)
    im = con["in_market"].to_numpy()
    opp = np.isin(ids, list(reached["opportunity"]))
    e_c, e_j = exposures["contact"], exposures["campaign"]
    keep = prospect[e_c]
    exp_n = np.bincount(e_j[keep], minlength=C)
    exp_im = np.bincount(e_j[keep], weights=im[e_c[keep]], minlength=C)
    exp_opp = np.bincount(e_j[keep], weights=opp[e_c[keep]], minlength=C)
    for key, arr in (("exp_n", exp_n), ("exp_im", exp_im), ("exp_opp", exp_opp)):
        stats[key] = stats.get(key, np.zeros(C)) + arr
    add("tot_im", float(im[prospect].sum()))
    add("tot_opp", float(opp[prospect].sum()))
    stats["campaign_names"] = list(camps["name"])


def rates(stats: dict[str, Any]) -> dict[str, float]:
    """Realised stage-to-stage conversion rates among prospects."""
    def r(a: str, b: str) -> float:
        return round(stats.get(b, 0) / stats[a], 4) if stats.get(a) else 0.0

    return {"lead_to_in_market": r("n_prospects", "n_in_market"), "lead_to_mql": r("n_prospects", "n_mql"),
            "mql_to_sal": r("n_mql", "n_sal"), "sal_to_sql": r("n_sal", "n_sql"),
            "sql_to_opportunity": r("n_sql", "n_opportunity"), "opportunity_to_customer": r("n_opportunity",
                                                                                             "n_customer"),
            "win_rate": round(stats.get("n_won", 0) / max(stats.get("n_won", 0) + stats.get("n_lost", 0), 1), 4)}


def exposure_rates(stats: dict[str, Any]) -> dict[str, dict[str, float]]:
    """Per campaign: prospects exposed, and in-market / opportunity rates of exposed vs unexposed prospects."""
    out = {}
    total = stats.get("n_prospects", 0)
    for j, name in enumerate(stats.get("campaign_names", [])):
        n = float(stats["exp_n"][j])
        rest = total - n
        out[name] = {"exposed": n,
                     "in_market_exposed": round(stats["exp_im"][j] / n, 4) if n else 0.0,
                     "in_market_unexposed": round((stats["tot_im"] - stats["exp_im"][j]) / rest, 4) if rest else 0.0,
                     "opportunity_exposed": round(stats["exp_opp"][j] / n, 4) if n else 0.0,
                     "opportunity_unexposed": round((stats["tot_opp"] - stats["exp_opp"][j]) / rest, 4)
                     if rest else 0.0}
    return out
