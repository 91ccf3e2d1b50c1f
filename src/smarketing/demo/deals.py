"""Deals and what sellers say about them: new-business opportunities from SQLs, renewals, expansions, feedback."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo import catalog, journeys
from smarketing.demo.events import END_DAY, StageEvents, business_time, sales_touches
from smarketing.demo.themes import (
    CUSTOMER_THEMES,
    DEAL_THEMES,
    LOSS_DRIVERS,
    THEME_INDEX,
    THEMES,
    feedback_text,
    theme_kind,
)

CUSTOMER_WEBINAR = next(i for i, c in enumerate(catalog.CAMPAIGNS) if c.customers_only)
SELLER_KINDS = ("objection", "feature_request", "competitor")
CUSTOMER_KINDS = ("praise", "story", "feature_request")
ROLE_WIN = {"decision_maker": 1.2, "champion": 1.15, "influencer": 0.9, "user": 0.75}
RENEWAL_LOSS = {"pricing": 0.35, "competitor": 0.35, "budget_timing": 0.3}


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


def opportunities(rng: np.random.Generator, acc: pd.DataFrame, con: pd.DataFrame, sql_contacts: np.ndarray,
                   t_sql: np.ndarray, owner: np.ndarray, counters: dict[str, int],
                   ev: StageEvents) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The first SQL of an account without an open deal opens a new-business opportunity; deals close or stay open."""
    local_acc = con["local_account"].to_numpy()
    roles = con["buying_role"].to_numpy()
    intent_count = pd.Series(np.isfinite(con["in_market_day"].to_numpy())).groupby(local_acc).sum().to_numpy()
    rows = []
    calls_c, calls_t, calls_a = [], [], []
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
        calls_a.extend([seller] * n_calls)
        if close < END_DAY:
            if won:
                ev.add(contact=np.array([c]), to_stage="customer", t=np.array([close]), actor=seller,
                       actor_kind="system", reason=f"won {rows[-1]['name']}")
            else:
                ev.add(contact=np.array([c]), to_stage="recycled", t=np.array([close + 1]), actor=seller,
                       actor_kind="user", reason=f"opportunity lost: {rows[-1]['loss_reason']}",
                       details=[json.dumps({"loss_theme": theme})])
    touches = sales_touches(np.asarray(calls_c, dtype=np.int64), "sales_call", np.asarray(calls_t, dtype=float),
                            np.asarray(calls_a, dtype=np.int64))
    return _opp_frame(rows), touches


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


def feedback(rng: np.random.Generator, acc: pd.DataFrame, con: pd.DataFrame, opps: pd.DataFrame, owner: np.ndarray,
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


def expansions(rng: np.random.Generator, acc: pd.DataFrame, con: pd.DataFrame, opps: pd.DataFrame,
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
