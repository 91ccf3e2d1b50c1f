"""Who the demo company's buyers are and what marketing does to them: accounts, buying committees, campaign
exposures and their touchpoints, and the planted causal process that makes a contact *in-market*.

All functions take a seeded generator and return pandas frames; ids are global simulator ids (0-based).
"""

from __future__ import annotations

import unicodedata
from typing import Any

import numpy as np
import pandas as pd

from smarketing.demo import catalog
from smarketing.playbook import schema
from smarketing.playbook.criteria import all_hold

END_DAY = float(catalog.WINDOW_DAYS)
LAST_FIRST_SEEN = 330.0

# Planted hazard of becoming in-market, per day, and its multipliers (see demo.truth).
BASE_HAZARD = 9e-4
ROLE_MULT = {"decision_maker": 1.3, "champion": 1.6, "influencer": 0.9, "user": 0.55}
SEGMENT_MULT = {"smb": 1.15, "mid_market": 1.0, "enterprise": 0.75}
TARGET_MULT = 1.3
OTHER_INDUSTRY_MULT = 0.6
FREE_MAIL_MULT = 0.3
EXPANSION_LIFT = 2.2
CUSTOMER_SHARE = {"smb": 0.07, "mid_market": 0.11, "enterprise": 0.17}

DOMAIN_WORDS = ("", "hq", "group", "global", "co", "inc", "io", "app", "labs", "one", "corp", "online", "world",
                "team", "pro", "now", "systems", "direct", "digital", "tech", "net", "360", "plus", "first")
NAME_WORDS = {"group": "Group", "global": "Global", "one": "One", "labs": "Labs", "digital": "Digital",
              "direct": "Direct"}
NO_FORM_KINDS = frozenset({"webinar_registered", "event_attended", "form_fill"})


def hazard_multipliers() -> dict[str, dict[str, float]]:
    return {"role": dict(ROLE_MULT), "segment": dict(SEGMENT_MULT),
            "industry": {"target": TARGET_MULT, "other": OTHER_INDUSTRY_MULT},
            "free_email": {"yes": FREE_MAIL_MULT, "no": 1.0}, "account_frailty": {"gamma_shape": 2.0, "scale": 0.5}}


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in plain if ch.isalnum() or ch in ".-")


def route_team(terms: schema.Playbook, facts: dict[str, Any]) -> str:
    """The team the playbook's routing rules send an account to."""
    for rule in terms.routing.rules:
        if all_hold(rule.when, facts):
            return rule.team
    return terms.routing.default_team


def _choice(rng: np.random.Generator, values: tuple[Any, ...], n: int, p: tuple[float, ...] | None = None) -> np.ndarray:
    weights = None if p is None else np.asarray(p, dtype=float) / np.sum(p)
    return np.asarray(values, dtype=object)[rng.choice(len(values), size=n, p=weights)]


def accounts(rng: np.random.Generator, ids: np.ndarray, people: list[Any], sellers: list[int],
             terms: schema.Playbook) -> pd.DataFrame:
    """Companies with firmographics, a routed team and seller, and whether they were customers before the year."""
    n = ids.size
    segment = _choice(rng, catalog.SEGMENTS, n, catalog.SEGMENT_WEIGHTS)
    region = _choice(rng, catalog.REGIONS, n, catalog.REGION_WEIGHTS)
    industry = _choice(rng, catalog.INDUSTRIES, n, catalog.INDUSTRY_WEIGHTS)
    employees = np.zeros(n, dtype=np.int64)
    for seg, (median, sigma, lo, hi) in catalog.EMPLOYEES.items():
        m = segment == seg
        employees[m] = np.clip(np.round(median * rng.lognormal(0, sigma, m.sum())), lo, hi)
    revenue = employees * 180_000 * rng.lognormal(0, 0.5, n)
    band = np.select([revenue < 1e6, revenue < 1e7, revenue < 5e7, revenue < 2.5e8], ["<1M", "1-10M", "10-50M",
                     "50-250M"], "250M+")
    total = len(catalog.NAME_A) * len(catalog.NAME_B) * len(DOMAIN_WORDS)
    k = (ids * 7919 + 13) % total  # a bijection on ids < total, so names and domains never repeat
    a = k // (len(catalog.NAME_B) * len(DOMAIN_WORDS))
    b = (k // len(DOMAIN_WORDS)) % len(catalog.NAME_B)
    q = k % len(DOMAIN_WORDS)
    suffix_pick = rng.integers(0, 4, n)
    names, domains = [], []
    for i in range(n):
        stem = catalog.NAME_A[a[i]] + catalog.NAME_B[b[i]]
        word = DOMAIN_WORDS[q[i]]
        extra = f" {NAME_WORDS[word]}" if word in NAME_WORDS else ""
        names.append(f"{stem}{extra} {catalog.NAME_SUFFIX[industry[i]][suffix_pick[i]]}")
        domains.append(f"{stem.lower()}{word}.example")
    customer = rng.random(n) < np.vectorize(CUSTOMER_SHARE.get)(segment)
    customer_since = np.where(customer, rng.uniform(-900, -20, n), np.nan)
    by_team: dict[str, list[int]] = {}
    for s in sellers:
        by_team.setdefault(people[s].team, []).append(s)
    seller = np.zeros(n, dtype=np.int64)
    team = np.empty(n, dtype=object)
    u = rng.random(n)
    for i in range(n):
        facts = {"account.employees": int(employees[i]), "account.region": region[i],
                 "account.industry": industry[i], "account.segment": segment[i]}
        t = route_team(terms, facts)
        pool = by_team.get(t) or sellers
        cap = np.array([max(people[s].capacity, 1) for s in pool], dtype=float)
        seller[i] = pool[int(np.searchsorted(np.cumsum(cap) / cap.sum(), u[i]))]
        team[i] = t
    owned = customer | (segment == "enterprise")
    return pd.DataFrame({
        "id": ids, "name": names, "domain": domains, "industry": industry, "employees": employees,
        "revenue_band": band, "region": region, "segment": segment, "team": team, "seller": seller,
        "owner": np.where(owned, seller, -1), "customer": customer, "customer_since": customer_since,
        "frailty": rng.gamma(2.0, 0.5, n)})


def contacts(rng: np.random.Generator, acc: pd.DataFrame, id0: int) -> pd.DataFrame:
    """Buying committees: a decision maker, a champion, then influencers and users, with titles and emails."""
    seg = acc["segment"].to_numpy()
    lo = np.vectorize(lambda s: catalog.COMMITTEE[s][0])(seg)
    hi = np.vectorize(lambda s: catalog.COMMITTEE[s][1])(seg)
    size = rng.integers(lo, hi + 1)
    n = int(size.sum())
    local = np.repeat(np.arange(len(acc)), size)
    starts = np.cumsum(size) - size
    pos = np.arange(n) - np.repeat(starts, size)
    role = _choice(rng, ("champion", "influencer", "user"), n, (0.12, 0.45, 0.43))
    role[pos == 0] = "decision_maker"
    role[pos == 1] = "champion"
    role[(pos == 2) & (seg[local] == "enterprise")] = "decision_maker"
    title = np.empty(n, dtype=object)
    for r, titles in catalog.TITLES.items():
        m = role == r
        title[m] = _choice(rng, titles, int(m.sum()))
    first = _choice(rng, catalog.FIRST_NAMES, n)
    last = _choice(rng, catalog.LAST_NAMES, n)
    ids = id0 + np.arange(n)
    stem = pd.Series([ascii_slug(f"{f}.{la}") for f, la in zip(first, last, strict=True)])
    dup = stem.groupby([local, stem.to_numpy()]).cumcount().to_numpy()
    domains = acc["domain"].to_numpy()[local]
    customer = acc["customer"].to_numpy()[local]
    free = ~customer & (rng.random(n) < 0.05)
    email = [f"{s}{ids[i]}@gmail.com" if free[i] else f"{s}{dup[i] + 1 if dup[i] else ''}@{domains[i]}"
             for i, s in enumerate(stem)]
    region = acc["region"].to_numpy()[local]
    country = np.empty(n, dtype=object)
    for reg, options in catalog.COUNTRIES.items():
        m = region == reg
        country[m] = _choice(rng, tuple(o[0] for o in options), int(m.sum()), tuple(o[1] for o in options))
    return pd.DataFrame({
        "id": ids, "local_account": local, "account": acc["id"].to_numpy()[local], "email": email,
        "first_name": first, "last_name": last, "title": title, "buying_role": role, "country": country,
        "customer": customer, "free_email": free, "segment": seg[local], "region": region,
        "industry": acc["industry"].to_numpy()[local], "employees": acc["employees"].to_numpy()[local]})


def _eligibility(con: pd.DataFrame) -> np.ndarray:
    n = len(con)
    out = np.zeros((n, len(catalog.CAMPAIGNS)), dtype=bool)
    seg, reg, cust = con["segment"].to_numpy(), con["region"].to_numpy(), con["customer"].to_numpy()
    for j, c in enumerate(catalog.CAMPAIGNS):
        ok = np.ones(n, dtype=bool)
        if c.segments:
            ok &= np.isin(seg, c.segments)
        if c.regions:
            ok &= np.isin(reg, c.regions)
        if c.customers_only:
            ok &= cust
        out[:, j] = ok
    return out


def journeys(rng: np.random.Generator, acc: pd.DataFrame, con: pd.DataFrame, camps: pd.DataFrame,
             scale: float) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """Lead sources, campaign exposures and their touches, the in-market moment and hand-raising touches.

    Adds `first_seen`, `source`, `lead_source` and `in_market_day` (NaN if never) to `con` in place.
    """
    specs = catalog.CAMPAIGNS
    C, n = len(specs), len(con)
    elig = _eligibility(con)
    cust = con["customer"].to_numpy()
    # Lead source: an acquisition campaign, organic search (index C) or a list import (C + 1).
    acq = np.array([c.acquisition if c.start_day < LAST_FIRST_SEEN - 10 else 0.0 for c in specs])
    weights = np.hstack([elig * acq, np.full((n, 1), 2.5), np.full((n, 1), 1.0)])
    cum = np.cumsum(weights, axis=1)
    src = (cum < (rng.random(n) * cum[:, -1])[:, None]).sum(axis=1)
    starts = np.array([c.start_day for c in specs] + [0, 0], dtype=float)
    ends = np.array([min(c.start_day + c.days, END_DAY) for c in specs] + [END_DAY, END_DAY], dtype=float)
    lo, hi = starts[src], np.minimum(ends[src], LAST_FIRST_SEEN)
    first_seen = lo + rng.random(n) * np.maximum(hi - lo, 0.5)
    since = acc["customer_since"].to_numpy()[con["local_account"].to_numpy()]
    first_seen = np.where(cust, since - rng.uniform(0, 120, n), first_seen)
    src = np.where(cust, C + 1, src)
    con["first_seen"] = first_seen
    con["source"] = src
    channels = np.array([c.channel for c in specs] + ["organic_search", "list_import"], dtype=object)
    con["lead_source"] = np.where(cust, "customer_import", channels[src])

    ex_c, ex_j, ex_t, ex_acq = [np.flatnonzero(src < C)], [src[src < C]], [first_seen[src < C]], [np.ones(
        int((src < C).sum()), dtype=bool)]
    for j, c in enumerate(specs):
        if c.reach <= 0:
            continue
        lo_j = np.maximum(float(c.start_day), first_seen)
        dur = np.minimum(float(c.start_day + c.days), END_DAY) - lo_j
        ok = elig[:, j] & (src != j) & (dur > 0)
        # Why: reach does not depend on how long a contact has been known, so exposure is not a proxy for time.
        hit = ok & (rng.random(n) < c.reach)
        ex_c.append(np.flatnonzero(hit))
        ex_j.append(np.full(int(hit.sum()), j))
        ex_t.append((lo_j + rng.random(n) * np.clip(dur, 0, None))[hit])
        ex_acq.append(np.zeros(int(hit.sum()), dtype=bool))
    e_c, e_j, e_t, e_acq = (np.concatenate(x) for x in (ex_c, ex_j, ex_t, ex_acq))

    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for j, c in enumerate(specs):
        sel = np.flatnonzero(e_j == j)
        if sel.size == 0:
            continue
        limit = min(float(c.start_day + c.days), END_DAY)
        for r, item in enumerate(c.recipe):
            m = sel.size
            present = np.ones(m, dtype=bool) if r == 0 else rng.random(m) < item.p
            count = present * (1 + rng.poisson(item.extra * scale, m))
            rep = np.repeat(sel, count)
            offset = rng.random(rep.size) * c.spread_days
            if r == 0:
                offset[np.cumsum(count) - count] = 0.0
            t = e_t[rep] + offset
            keep = t < limit
            parts.append(_touch(e_c[rep][keep], j, c.channel, item.kind, t[keep]))
        form = sel[e_acq[sel]] if c.recipe[0].kind not in NO_FORM_KINDS else sel[:0]
        parts.append(_touch(e_c[form], j, c.channel, "form_fill", e_t[form] + 0.001))
    organic = np.flatnonzero(src == C)
    parts.append(_touch(organic, -1, "organic_search", "form_fill", first_seen[organic]))

    in_market = _in_market(rng, con, acc, e_c, e_j, e_t, camps)
    con["in_market_day"] = in_market
    parts.extend(_hand_raising(rng, in_market))
    touches = pd.DataFrame({
        "contact_local": np.concatenate([p[0] for p in parts]), "campaign": np.concatenate([p[1] for p in parts]),
        "channel": np.concatenate([p[2] for p in parts]), "kind": np.concatenate([p[3] for p in parts]),
        "t": np.concatenate([p[4] for p in parts])})
    exposures = {"contact": e_c, "campaign": e_j, "t": e_t}
    return touches, exposures


def _touch(contact: np.ndarray, campaign: int | np.ndarray, channel: str | np.ndarray, kind: str,
           t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    k = contact.size
    camp = np.full(k, campaign, dtype=np.int64) if np.isscalar(campaign) else np.asarray(campaign, dtype=np.int64)
    chan = np.full(k, channel, dtype=object) if isinstance(channel, str) else np.asarray(channel, dtype=object)
    return contact.astype(np.int64), camp, chan, np.full(k, kind, dtype=object), t.astype(np.float64)


def _in_market(rng: np.random.Generator, con: pd.DataFrame, acc: pd.DataFrame, e_c: np.ndarray, e_j: np.ndarray,
               e_t: np.ndarray, camps: pd.DataFrame) -> np.ndarray:
    """The planted causal process: a piecewise-constant hazard, lifted by every campaign exposure from then on."""
    n = len(con)
    role = np.vectorize(ROLE_MULT.get)(con["buying_role"].to_numpy())
    seg = np.vectorize(SEGMENT_MULT.get)(con["segment"].to_numpy())
    ind = np.where(np.isin(con["industry"].to_numpy(), list(catalog.TARGET_INDUSTRIES)), TARGET_MULT,
                   OTHER_INDUSTRY_MULT)
    free = np.where(con["free_email"].to_numpy(), FREE_MAIL_MULT, 1.0)
    frailty = acc["frailty"].to_numpy()[con["local_account"].to_numpy()]
    base = BASE_HAZARD * role * seg * ind * free * frailty
    prospect = ~con["customer"].to_numpy()
    first_seen = con["first_seen"].to_numpy()
    loglift = np.log(camps["lift"].to_numpy(dtype=float))
    keep = prospect[e_c]
    idx = np.flatnonzero(prospect)
    c = np.concatenate([idx, e_c[keep]])
    t = np.concatenate([first_seen[idx], e_t[keep]])
    ll = np.concatenate([np.zeros(idx.size), loglift[e_j[keep]]])
    order = np.lexsort((t, c))
    c, t, ll = c[order], t[order], ll[order]
    new = np.r_[True, c[1:] != c[:-1]]
    group = np.cumsum(new) - 1
    starts = np.flatnonzero(new)
    cum_ll = np.cumsum(ll)
    cum_ll = cum_ll - np.r_[0.0, cum_ll][starts][group]
    # Each segment runs to the contact's next event; the last one to the end of the year.
    t_next = np.where(np.r_[c[1:] == c[:-1], False], np.r_[t[1:], END_DAY], END_DAY)
    rate = base[c] * np.exp(cum_ll)
    seg_h = rate * np.clip(t_next - t, 0, None)
    h_end = np.cumsum(seg_h)
    h_end = h_end - np.r_[0.0, h_end][starts][group]
    h_start = h_end - seg_h
    draw = rng.exponential(1.0, n)
    target = draw[c]
    cross = (h_start < target) & (h_end >= target) & (seg_h > 0)
    out = np.full(n, np.nan)
    out[c[cross]] = t[cross] + (target[cross] - h_start[cross]) / rate[cross]
    return out


_Touches = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _hand_raising(rng: np.random.Generator, in_market: np.ndarray) -> list[_Touches]:
    """In-market contacts look at pricing and ask for a demo (or fill the contact-sales form)."""
    who = np.flatnonzero(np.isfinite(in_market) & (in_market < END_DAY))
    tau = in_market[who]
    m = who.size
    routes = [r for r, _ in catalog.INTENT_ROUTES]
    route = rng.choice(len(routes), size=m, p=[p for _, p in catalog.INTENT_ROUTES])
    brand = next(i for i, c in enumerate(catalog.CAMPAIGNS) if c.key == "search-brand")
    camp = np.where(route == 0, brand, -1)
    chan = np.asarray(["paid_search", "direct", "organic_search"], dtype=object)[route]
    first_kind = np.where(route == 0, "ad_click", "page_view")
    out = []
    for kind in ("ad_click", "page_view"):
        sel = first_kind == kind
        out.append(_touch(who[sel], camp[sel], chan[sel], kind, tau[sel]))
    n_pricing = 1 + rng.poisson(1.2, m)
    rep = np.repeat(np.arange(m), n_pricing)
    out.append(_touch(who[rep], camp[rep], chan[rep], "pricing_view", tau[rep] + rng.uniform(0.01, 4, rep.size)))
    demo = rng.random(m) < 0.7
    t_raise = tau + rng.uniform(0.2, 6, m)
    out.append(_touch(who[demo], camp[demo], chan[demo], "demo_request", t_raise[demo]))
    out.append(_touch(who[~demo], camp[~demo], chan[~demo], "form_fill", t_raise[~demo]))
    return [(a[t < END_DAY], b[t < END_DAY], c[t < END_DAY], d[t < END_DAY], t[t < END_DAY]) for a, b, c, d, t in out]
