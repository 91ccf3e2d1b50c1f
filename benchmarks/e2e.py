"""End to end: each CLI command of issue #12's table as a whole process (a fresh start) on a seeded demo, beside
(a) plain DuckDB SQL over the same rows in the store's Parquet doing the command's core work, in a fresh process
too (the engine's limit), and (b) the path before the history store (`SMARKETING_ANALYTICS_STORE=live`: tables
read through Django into Arrow on every command), all in the same run.

Each command is timed with `smarketing service` running on the data folder (as `make demo` runs it, and as
production runs it beside the server: the command's process hands the work to a forked child of the warm service),
once as it comes (the touches in journey order kept on disk by an earlier command on the same store, as in daily
use), once after 1,000 touchpoints were recorded (before each run, untimed: the command catches the store up and
merges the new touches into the kept ones — a CRM written to all day), and once with nothing kept (`<data
dir>/cache` removed before each run: the first command after the store was copied afresh); and in its own process only (`SMARKETING_COMMAND_SERVICE=off`: it imports and sets everything up itself;
nothing kept). All print the same JSON (checked here, "as of" times aside).

    python benchmarks/e2e.py                       # the medium demo, seeded into its own temporary data dir
    python benchmarks/e2e.py --size large --runs 1
    python benchmarks/e2e.py --data-dir DIR        # a data dir already seeded (seeded if it has no demo)

The `--paths` route has its own benchmark (benchmarks/paths.py: a 1.5M-row file beside ChannelAttribution).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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


def best_of(argv: list[str], env: dict[str, str], runs: int, *, forget: Path | None = None,
            before: Callable[[], None] | None = None) -> float:
    """The fastest of `runs` whole processes; with `forget`, that folder is removed before each (the derived data a
    process keeps for the next: each run is then the first after the store was copied afresh); `before` runs
    before each, untimed."""
    best = float("inf")
    for _ in range(runs):
        if forget is not None:
            shutil.rmtree(forget, ignore_errors=True)
        if before is not None:
            before()
        best = min(best, timed(argv, env))
    return best


def touches_recorder(env: dict[str, str]) -> Callable[[], None]:
    """Records 1,000 touchpoints through the product's service (a process of its own, not timed)."""
    from store import ADD_TOUCHES  # benchmarks/store.py: the same 1,000 touches its catch-up figure times

    django_env = {**env, "DJANGO_SETTINGS_MODULE": "smarketing.settings.base"}
    return lambda: subprocess.run([sys.executable, "-c", ADD_TOUCHES, "1000", f"e2e-{time.time_ns()}"],
                                  env=django_env, check=True, capture_output=True)


def _without_times(value: object) -> object:
    if isinstance(value, dict):
        return {k: _without_times(v) for k, v in value.items() if "as_of" not in k}
    if isinstance(value, list):
        return [_without_times(v) for v in value]
    return value


def same_output(argv: list[str], env: dict[str, str], alone_env: dict[str, str]) -> None:
    outputs = [subprocess.run(argv, env=e, capture_output=True, text=True, check=True).stdout for e in (env, alone_env)]
    if "--json" in argv and _without_times(json.loads(outputs[0])) != _without_times(json.loads(outputs[1])):
        raise SystemExit(f"{' '.join(argv)}: the service and a process of its own printed different results")


@contextmanager
def command_service(cli: str, env: dict[str, str], data_dir: str) -> Iterator[None]:
    """`smarketing service` on the data folder for the duration (as `make demo` runs it)."""
    log = Path(data_dir) / "service.log"
    with log.open("ab") as out:
        process = subprocess.Popen([cli, "service"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while "command service ready" not in log.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the command service did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="medium", choices=["medium", "large"])
    parser.add_argument("--data-dir", help="a data folder (default: a temporary one, seeded with --size)")
    parser.add_argument("--runs", type=int, default=3, help="processes per command; the best is reported")
    parser.add_argument("--no-before", action="store_true", help="skip the path before the history store")
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
        alone_env = {**env, "SMARKETING_COMMAND_SERVICE": "off"}
        record = touches_recorder(env)
        with command_service(cli, env, data_dir):
            for label, argv, plain, switchable in COMMANDS:
                same_output([cli, *argv], env, alone_env)
                served = best_of([cli, *argv], env, args.runs)
                appended = best_of([cli, *argv], env, args.runs, before=record) if switchable else None
                # The same with nothing kept from an earlier command (`<data dir>/cache`): the first after a change.
                fresh = best_of([cli, *argv], env, args.runs, forget=Path(data_dir) / "cache") if switchable else None
                alone = best_of([cli, *argv], alone_env, args.runs, forget=Path(data_dir) / "cache")
                peer = best_of([sys.executable, "-c", PLAIN[plain], lake], env, args.runs)
                before = (best_of([cli, *argv], {**live_env, "SMARKETING_COMMAND_SERVICE": "off"}, args.runs)
                          if switchable and not args.no_before else None)
                rows.append((label, served, appended, fresh, alone, peer, before))
                print(f"  {label}: {served:.2f} s with the service"
                      + (f" ({appended:.2f} s after 1,000 touches were recorded)" if appended is not None else "")
                      + (f" ({fresh:.2f} s with nothing kept)" if fresh is not None else "")
                      + f", {alone:.2f} s alone, plain {peer:.2f} s", flush=True)

    print("\nservice: in `smarketing service` (touches kept by an earlier command on the same store); +1,000: the same"
          "\nright after 1,000 touchpoints were recorded (caught up, merged in); fresh: the same, nothing kept (the first"
          "\ncommand after the store was copied afresh); alone: its own process, nothing kept")
    print(f"\n{'command':<46} {'service':>8} {'+1,000':>7} {'fresh':>7} {'alone':>7} {'plain DuckDB':>13} "
          f"{'service/plain':>14} {'+1,000/plain':>13} {'fresh/plain':>13} {'alone/plain':>12} {'before':>8} "
          f"{'before/alone':>13}")

    def cols(value: float | None, peer: float) -> tuple[str, str]:
        return ((f"{value:>6.2f}s", f"{value / peer:>12.1f}x") if value is not None else (f"{'-':>7}", f"{'-':>13}"))

    for label, served, appended, fresh, alone, peer, before in rows:
        tail = f"{before:>7.2f}s {before / alone:>12.1f}x" if before is not None else f"{'-':>8} {'-':>13}"
        (a_col, a_ratio), (f_col, f_ratio) = cols(appended, peer), cols(fresh, peer)
        print(f"{label:<46} {served:>7.2f}s {a_col} {f_col} {alone:>6.2f}s {peer:>12.2f}s {served / peer:>13.1f}x "
              f"{a_ratio} {f_ratio} {alone / peer:>11.1f}x {tail}")


if __name__ == "__main__":
    main()
