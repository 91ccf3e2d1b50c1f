"""Funnel and reverse waterfall over seeded synthetic history on DuckDB, against a plain DuckDB scan of the same
table (how close the query gets to the engine's own limit). Prints rows/second and ratios.

    .venv/bin/python benchmarks/funnel.py --rows 50000000

Rows are stage changes (lead → mql → sal → sql → opportunity → customer, with drop-off) plus touchpoints; the
funnel runs MQL → customer grouped by cohort month and by lead source (a join with contacts), the reverse
waterfall plans a quarter from the measured history.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import pyarrow as pa

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
os.environ.setdefault("SMARKETING_DATA_DIR", os.path.join("/tmp", "smarketing-bench"))

STAGES = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
KEEP = [1.0, 0.45, 0.8, 0.6, 0.7, 0.3]  # chance to reach each stage from the previous one
SOURCES = ["webinar", "paid_search", "organic_search", "referral", "event", "content", "partner", ""]
KINDS = ["ad_click", "page_view", "email_open", "content_download", "webinar_attended", "demo_request"]
T0 = 1_735_689_600  # 2025-01-01


def generate(rows: int, seed: int = 11) -> dict[str, pa.Table]:
    """Arrow tables in the datasets' schemas: ~half the rows stage changes, half touchpoints."""
    from smarketing.analytics.datasets import arrow_schema

    rng = np.random.default_rng(seed)
    target_changes = rows // 2
    mean_len = sum(np.cumprod(KEEP))
    n_contacts = int(target_changes / mean_len)
    reached = np.ones(n_contacts, dtype=np.int64)
    alive = np.ones(n_contacts, dtype=bool)
    for p in KEEP[1:]:
        alive &= rng.random(n_contacts) < p
        reached += alive
    contact = np.repeat(np.arange(1, n_contacts + 1, dtype=np.int64), reached)
    starts = np.r_[0, np.cumsum(reached)[:-1]]
    stage_idx = np.arange(len(contact)) - np.repeat(starts, reached)
    first = rng.integers(T0, T0 + 540 * 86400, size=n_contacts)
    gaps = rng.exponential(12 * 86400, size=len(contact)).astype(np.int64)
    gaps[starts] = 0
    csum = np.cumsum(gaps)
    ts = np.repeat(first, reached) + csum - np.repeat(csum[starts], reached)
    stages = pa.array(STAGES).take(pa.array(stage_idx))
    from_stages = pa.array([""] + STAGES).take(pa.array(stage_idx))
    n = len(contact)
    sc = pa.table({"id": np.arange(1, n + 1), "contact_id": contact, "account_id": pa.nulls(n, pa.int64()),
                   "from_stage": from_stages, "to_stage": stages,
                   "occurred_at": pa.array(ts * 1_000_000, pa.timestamp("us", tz="UTC")),
                   "playbook_version_id": np.ones(n, dtype=np.int64)}, schema=arrow_schema("stage_changes"))
    m = rows - n
    t_contact = rng.integers(1, n_contacts + 1, size=m)
    tp = pa.table({"id": np.arange(1, m + 1), "contact_id": t_contact, "account_id": (t_contact - 1) // 4 + 1,
                   "campaign_id": rng.integers(1, 50, size=m), "channel": pa.array(["content"] * 1).take(
                       pa.array(np.zeros(m, dtype=np.int64))),
                   "kind": pa.array(KINDS).take(pa.array(rng.integers(0, len(KINDS), size=m))),
                   "occurred_at": pa.array((first[t_contact - 1] - rng.integers(0, 30 * 86400, size=m)) * 1_000_000,
                                           pa.timestamp("us", tz="UTC")),
                   "value": pa.nulls(m, pa.float64())}, schema=arrow_schema("touchpoints"))
    contacts = pa.table({"id": np.arange(1, n_contacts + 1), "account_id": (np.arange(n_contacts) // 4 + 1),
                         "lead_source": pa.array(SOURCES).take(pa.array(rng.integers(0, len(SOURCES), n_contacts)))},
                        ).select(["id", "account_id", "lead_source"])
    contacts = _fill(contacts, "contacts")
    won_contacts = np.unique(contact[stage_idx == 5])
    k = len(won_contacts)
    closed = ts[stage_idx == 5]
    opps = _fill(pa.table({"id": np.arange(1, k + 1), "account_id": (won_contacts - 1) // 4 + 1,
                           "primary_contact_id": won_contacts, "type": pa.array(["new_business"] * k),
                           "amount": rng.lognormal(10, 0.6, k), "stage": pa.array(["closed_won"] * k),
                           "outcome": pa.array(["won"] * k),
                           "opened_at": pa.array((closed - 30 * 86400) * 1_000_000, pa.timestamp("us", tz="UTC")),
                           "closed_at": pa.array(closed * 1_000_000, pa.timestamp("us", tz="UTC"))}), "opportunities")
    return {"stage_changes": sc, "touchpoints": tp, "contacts": contacts, "opportunities": opps}


def _fill(table: pa.Table, name: str) -> pa.Table:
    from smarketing.analytics.datasets import arrow_schema

    schema = arrow_schema(name)
    cols = [table.column(f.name).cast(f.type) if f.name in table.column_names else pa.nulls(len(table), f.type)
            for f in schema]
    return pa.Table.from_arrays(cols, schema=schema)


def timed(label: str, rows: int, fn, baseline: float | None = None) -> float:  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - t
    extra = f"  {elapsed / baseline:5.1f}x the plain scan" if baseline else ""
    print(f"  {label:44s} {elapsed:7.2f} s  {rows / elapsed / 1e6:8.1f} M rows/s{extra}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000_000, help="stage changes + touchpoints")
    parser.add_argument("--memory-limit", default="4GB", help="DuckDB memory limit (the machine is shared)")
    args = parser.parse_args()
    import django

    django.setup()
    import duckdb

    from smarketing.analytics.datasets import DATASET_NAMES, EventFrames, arrow_schema
    from smarketing.analytics.engine import open_engine
    from smarketing.analytics.queries.funnel import FunnelQuery, run_funnel
    from smarketing.analytics.queries.goals import GoalsQuery, run_goals

    t = time.perf_counter()
    tables = generate(args.rows)
    for name in DATASET_NAMES:
        tables.setdefault(name, arrow_schema(name).empty_table())
    n_sc, n_tp = len(tables["stage_changes"]), len(tables["touchpoints"])
    print(f"funnel benchmark: {n_sc:,} stage changes + {n_tp:,} touchpoints, {len(tables['contacts']):,} contacts "
          f"(generated in {time.perf_counter() - t:.1f} s), DuckDB {duckdb.__version__}, {os.cpu_count()} cores")
    engine = open_engine("duckdb", frames=EventFrames(tables))
    engine.backend.con.execute(f"SET memory_limit = '{args.memory_limit}'")
    t = time.perf_counter()
    for name in DATASET_NAMES:
        engine.table(name)
    print(f"  loaded into DuckDB in {time.perf_counter() - t:.1f} s")
    con = engine.backend.con
    scan = timed("plain scan: GROUP BY to_stage over stage_changes", n_sc, lambda: con.execute(
        "SELECT to_stage, count(*), min(occurred_at), max(occurred_at), count(DISTINCT contact_id) "
        "FROM stage_changes GROUP BY to_stage").fetchall())
    simple = timed("plain scan: count, min, max (no grouping)", n_sc, lambda: con.execute(
        "SELECT count(*), min(occurred_at), max(occurred_at), max(contact_id) FROM stage_changes").fetchall())
    r1 = None

    def funnel_month() -> None:
        nonlocal r1
        r1 = run_funnel(engine, FunnelQuery(from_stage="mql", to_stage="customer", by="cohort_month"))

    timed("funnel mql→customer by cohort month", n_sc, funnel_month, scan)
    timed("funnel lead→customer by source (join contacts)", n_sc,
          lambda: run_funnel(engine, FunnelQuery(from_stage="lead", to_stage="customer", by="source")), scan)
    timed("funnel lead→sql, 30-day window, no grouping", n_sc,
          lambda: run_funnel(engine, FunnelQuery(from_stage="lead", to_stage="sql", window_days=30)), scan)
    timed("reverse waterfall 2026-Q3 (+ pacing)", n_sc + n_tp,
          lambda: run_goals(engine, GoalsQuery(period="2026-Q3", revenue=5_000_000, as_of="2026-08-15",
                                               lookback_days=540)), scan)
    assert r1 is not None
    print(f"  check: {r1.total.entered:,} MQLs, {r1.total.converted:,} customers, conversion "
          f"{r1.total.conversion_rate:.4f}, median {r1.total.median_days_to_convert:.1f} days; "
          f"simple scan {simple:.2f} s")
    engine.close()


if __name__ == "__main__":
    main()
