"""Running counts of the simulated company, for the ground truth's realised rates."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd


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
    h = chunk.handoffs
    add("n_handoffs", len(h))
    for decision in ("accept", "reject", "recycle"):
        add(f"n_handoff_{decision}", int((h["decision"] == decision).sum()))
    for clock in ("ft", "dec"):
        add(f"n_sla_{clock}_met", int((h[f"{clock}_state"] == "met").sum()))
        add(f"n_sla_{clock}_breached", int((h[f"{clock}_state"] == "breached").sum()))
    again = h[h["round"] == 2]
    add("n_requalified", len(again))
    onwards = st[(st["contact"] >= 0) & st["to_stage"].isin(["sql", "opportunity", "customer"])]
    later = onwards.merge(again[["contact", "t_mql"]], on="contact")
    add("n_requalified_sql", int(later.loc[later["t"] > later["t_mql"], "contact"].nunique()))
    add("n_reengaged", int(stats.pop("handoff_reengaged", 0)))
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
