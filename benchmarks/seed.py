"""Seeding the demo company vs a plain bulk insert of the same rows, on SQLite and PostgreSQL.

    python benchmarks/seed.py                      # large on both engines (100k+ contacts, 5M+ touchpoints)
    python benchmarks/seed.py --size medium        # quicker
    python benchmarks/seed.py --size large --accounts 4000 --engines sqlite

For each engine, in a fresh database: (1) `demo_seed` end to end - simulation, users, playbook sign-off, bulk
inserts, one transaction; (2) the peer: the very same row tuples, generated beforehand (untimed), written with the
same COPY / executemany and nothing else. The figure is rows/second of each and their ratio (seed ÷ plain): how
much the simulator costs on top of the database's own insert speed.

PostgreSQL: 127.0.0.1:5432 (override with --pg-url); the script creates and drops its own databases.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

PG_DB = "smk_bench_seed"


def _worker(args: argparse.Namespace) -> None:
    """Runs in a child process whose DATABASE_URL points at a fresh database."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
    django.setup()
    from django.core.management import call_command
    from django.db import transaction

    from smarketing.core import bulk
    from smarketing.demo import services, simulator, writer

    spec = simulator.SIZES[args.size]
    if args.accounts:
        simulator.SIZES[args.size] = replace(spec, accounts=args.accounts)
    call_command("migrate", interactive=False, verbosity=0)
    if args.phase == "seed":
        started = time.perf_counter()
        result = services.demo_seed(size=args.size, seed=args.seed)
        seconds = time.perf_counter() - started
        rows = sum(v for k, v in result.counts.items() if k != "users")
        print(json.dumps({"rows": rows, "seconds": seconds, "counts": result.counts}))
        return
    # The peer: prerequisites (users, playbook versions) untimed, then only the inserts of the same rows.
    with transaction.atomic():
        writer.begin_bulk()
        plan = simulator.simulate(size=args.size, seed=args.seed)
        v1 = services._active_playbook()
        users = services._users(plan.people)
        v2 = services._sign_off_v2(v1, users, plan)
        from smarketing.playbook.selectors import playbook_terms

        sim = simulator.simulate(size=args.size, seed=args.seed, playbooks=[playbook_terms(v1), playbook_terms(v2)])
        from smarketing.campaigns.models import Campaign
        from smarketing.crm.models import Account, Contact, Opportunity

        ids = services._Ids(account=writer.next_id(Account), contact=writer.next_id(Contact),
                            opportunity=writer.next_id(Opportunity), campaign=writer.next_id(Campaign),
                            users=[u.pk for u in users], versions=[v1.pk, v2.pk])
        seconds = 0.0
        started = time.perf_counter()
        rows = services._write_campaigns(sim, ids)
        seconds += time.perf_counter() - started
        for chunk in sim.chunks():
            tables = services.chunk_rows(chunk, ids)  # untimed: the rows exist before the clock starts
            started = time.perf_counter()
            for model, fields, tuples in tables.values():
                rows += bulk.rows_insert(model, fields, tuples)
            seconds += time.perf_counter() - started
        committing = time.perf_counter()
    seconds += time.perf_counter() - committing  # PostgreSQL checks the deferred foreign keys at commit
    print(json.dumps({"rows": rows, "seconds": seconds}))


def _fresh(engine: str, pg_url: str, tmp: Path, tag: str) -> str:
    if engine == "sqlite":
        path = tmp / f"{tag}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}"
    _psql(pg_url, f"DROP DATABASE IF EXISTS {PG_DB}")
    _psql(pg_url, f"CREATE DATABASE {PG_DB}")
    return f"{pg_url.rstrip('/')}/{PG_DB}"


def _psql(pg_url: str, sql: str) -> None:
    import psycopg

    with psycopg.connect(f"{pg_url.rstrip('/')}/postgres", autocommit=True) as conn:
        conn.execute(sql)  # type: ignore[call-overload]


def _run(engine: str, phase: str, args: argparse.Namespace, tmp: Path) -> dict:
    url = _fresh(engine, args.pg_url, tmp, phase)
    env = {**os.environ, "DATABASE_URL": url, "SMARKETING_DATA_DIR": str(tmp)}
    cmd = [sys.executable, __file__, "--worker", phase, "--size", args.size, "--seed", str(args.seed),
           "--accounts", str(args.accounts or 0)]
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    if engine == "postgres":
        _psql(args.pg_url, f"DROP DATABASE IF EXISTS {PG_DB}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="large", choices=["small", "medium", "large"])
    parser.add_argument("--accounts", type=int, default=0, help="Scale the size down/up to this many accounts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--engines", default="sqlite,postgres")
    parser.add_argument("--pg-url", default="postgres://postgres@127.0.0.1:5432")
    parser.add_argument("--worker", choices=["seed", "plain"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.phase = args.worker
        _worker(args)
        return
    print(f"demo seed benchmark: size={args.size}{f' accounts={args.accounts}' if args.accounts else ''} "
          f"seed={args.seed}")
    with tempfile.TemporaryDirectory(prefix="smk-bench-seed-") as tmp_name:
        tmp = Path(tmp_name)
        for engine in [e.strip() for e in args.engines.split(",") if e.strip()]:
            seed = _run(engine, "seed", args, tmp)
            plain = _run(engine, "plain", args, tmp)
            seed_rate = seed["rows"] / seed["seconds"]
            plain_rate = plain["rows"] / plain["seconds"]
            counts = seed["counts"]
            print(f"\n[{engine}] {counts.get('contacts', 0):,} contacts, {counts.get('touchpoints', 0):,} touchpoints, "
                  f"{seed['rows']:,} rows in all")
            print(f"  demo seed (simulate + write): {seed['seconds']:8.1f} s  {seed_rate:12,.0f} rows/s")
            print(f"  plain bulk insert (peer):     {plain['seconds']:8.1f} s  {plain_rate:12,.0f} rows/s")
            print(f"  ratio seed/plain:             {seed_rate / plain_rate:8.2f}")


if __name__ == "__main__":
    main()
