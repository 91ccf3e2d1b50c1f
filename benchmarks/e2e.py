"""End to end: each CLI command of issue #12's table as a whole process (a fresh start) on a seeded demo, beside
(a) plain DuckDB SQL over the same rows in the store's Parquet doing the command's core work, in a fresh process
too (the engine's limit), and (b) the path before the history store (`SMARKETING_ANALYTICS_STORE=live`: tables
read through Django into Arrow on every command), all in the same run.

    python benchmarks/e2e.py                       # the medium demo, seeded into its own temporary data dir
    python benchmarks/e2e.py --size large --runs 1
    python benchmarks/e2e.py --data-dir DIR        # a data dir already seeded (seeded if it has no demo)

The `--paths` route has its own benchmark (benchmarks/paths.py: a 1.5M-row file beside ChannelAttribution).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The core work of each command in plain DuckDB SQL over the lake (month partitions for the history, one folder
# of parts for the snapshots).
PLAIN = {
    "startup": "import typer, django",
    "funnel": """
import duckdb, sys
lake = sys.argv[1]
duckdb.sql(f'''
  SELECT c.lead_source, count(DISTINCT s.contact_id) FILTER (WHERE s.to_stage = 'mql') AS mqls,
         count(DISTINCT s.contact_id) FILTER (WHERE s.to_stage = 'customer') AS customers
  FROM read_parquet('{lake}/stage_changes/*/*.parquet') s
  JOIN read_parquet('{lake}/contacts/*.parquet') c ON c.id = s.contact_id
  GROUP BY 1''').fetchall()
""",
    # Markov order 1: every contact's channel sequence in time order, its transitions counted.
    "markov": """
import duckdb, sys
lake = sys.argv[1]
duckdb.sql(f'''
  WITH t AS (SELECT channel, lag(channel, 1, '(start)') OVER (PARTITION BY contact_id ORDER BY occurred_at, id) AS prev
             FROM read_parquet('{lake}/touchpoints/*/*.parquet'))
  SELECT prev, channel, count(*) FROM t GROUP BY 1, 2''').fetchall()
""",
    # Linear at account level: each account's touches share its credit equally, summed per channel.
    "linear_account": """
import duckdb, sys
lake = sys.argv[1]
duckdb.sql(f'''
  WITH t AS (SELECT channel, 1.0 / count(*) OVER (PARTITION BY account_id) AS w
             FROM read_parquet('{lake}/touchpoints/*/*.parquet') WHERE account_id IS NOT NULL)
  SELECT channel, sum(w) FROM t GROUP BY 1''').fetchall()
""",
    "journeys": """
import duckdb, sys
lake = sys.argv[1]
duckdb.sql(f'''
  SELECT contact_id, list(channel ORDER BY occurred_at, id) AS path
  FROM read_parquet('{lake}/touchpoints/*/*.parquet') GROUP BY 1''').fetchall()
""",
    # ROI, linear: each contact's touches share its credit, summed per campaign beside the campaign's cost.
    "roi": """
import duckdb, sys
lake = sys.argv[1]
duckdb.sql(f'''
  WITH t AS (SELECT campaign_id, 1.0 / count(*) OVER (PARTITION BY contact_id) AS w
             FROM read_parquet('{lake}/touchpoints/*/*.parquet'))
  SELECT k.id, k.actual_cost, sum(t.w) FROM t JOIN read_parquet('{lake}/campaigns/*.parquet') k
    ON k.id = t.campaign_id GROUP BY 1, 2''').fetchall()
""",
}

COMMANDS = [
    ("smarketing --help", ["--help"], "startup", False),
    ("funnel --from mql --to customer --by source", ["funnel", "--from", "mql", "--to", "customer", "--by", "source",
                                                     "--json"], "funnel", True),
    ("attribution --model markov --order 1", ["attribution", "--model", "markov", "--order", "1", "--json"],
     "markov", True),
    ("attribution --model linear --level account", ["attribution", "--model", "linear", "--level", "account",
                                                    "--json"], "linear_account", True),
    ("journeys", ["journeys", "--json"], "journeys", True),
    ("roi --model linear", ["roi", "--model", "linear", "--json"], "roi", True),
]


def timed(argv: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed


def best_of(argv: list[str], env: dict[str, str], runs: int) -> float:
    return min(timed(argv, env) for _ in range(runs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="medium", choices=["medium", "large"])
    parser.add_argument("--data-dir", help="a data folder (default: a temporary one, seeded with --size)")
    parser.add_argument("--runs", type=int, default=3, help="processes per command; the best is reported")
    args = parser.parse_args()

    cli = str(Path(sys.executable).with_name("smarketing"))
    rows = []
    with tempfile.TemporaryDirectory(prefix="smarketing-bench-e2e-") as tmp:
        data_dir = args.data_dir or tmp
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE",
                                                                "SMARKETING_ANALYTICS_STORE",
                                                                "SMARKETING_ANALYTICS_ENGINE")}
        env.update(SMARKETING_DATA_DIR=data_dir, SMARKETING_LAKE_URL=str(Path(data_dir) / "lake"))
        lake = env["SMARKETING_LAKE_URL"]
        live_env = {**env, "SMARKETING_ANALYTICS_STORE": "live"}
        subprocess.run([cli, "migrate"], env=env, check=True, capture_output=True)
        status = json.loads(subprocess.run([cli, "store", "status", "--json"], env=env, check=True,
                                           capture_output=True, text=True).stdout)
        if not next(r for r in status if r["table"] == "contacts")["database_rows"]:
            print(f"seeding the {args.size} demo …", flush=True)
            subprocess.run([cli, "seed", "--size", args.size, "--seed", "7"], env=env, check=True,
                           capture_output=True)
        subprocess.run([cli, "store", "sync", "--json"], env=env, check=True, capture_output=True)  # a warm store
        status = json.loads(subprocess.run([cli, "store", "status", "--json"], env=env, check=True,
                                           capture_output=True, text=True).stdout)
        counts = {r["table"]: r["database_rows"] for r in status}
        print(f"{args.size} demo: {counts.get('contacts', 0):,} contacts, {counts.get('touchpoints', 0):,} "
              f"touchpoints, {counts.get('stage_changes', 0):,} stage changes; best of {args.runs} whole processes",
              flush=True)
        for label, argv, plain, switchable in COMMANDS:
            ours = best_of([cli, *argv], env, args.runs)
            peer = best_of([sys.executable, "-c", PLAIN[plain], lake], env, args.runs)
            before = best_of([cli, *argv], live_env, args.runs) if switchable else None
            rows.append((label, ours, peer, before))
            print(f"  {label}: {ours:.2f} s", flush=True)

    print(f"\n{'command':<46} {'now':>7} {'plain DuckDB':>13} {'now/plain':>10} {'before':>8} {'before/now':>11}")
    for label, ours, peer, before in rows:
        tail = f"{before:>7.2f}s {before / ours:>10.1f}x" if before is not None else f"{'-':>8} {'-':>11}"
        print(f"{label:<46} {ours:>6.2f}s {peer:>12.2f}s {ours / peer:>9.1f}x {tail}")


if __name__ == "__main__":
    main()
