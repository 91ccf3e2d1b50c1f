"""Batch commands on the medium demo, each timed as a whole process from a fresh start, beside a peer in the same run.

    python benchmarks/batch.py                       # seeds the medium demo into a temporary folder first
    python benchmarks/batch.py --data-dir DIR        # seeds DIR once (if it has no database yet), then reuses it
    python benchmarks/batch.py --runs 3 --skip-old   # best of 3; leave out the contact-by-contact qualification

1. `smarketing handoff qualify --all` on a fresh copy of the seeded database, against the path it replaced in the
   same run: `mql_qualify` for each lead and recycled contact, one transaction per contact, as a whole Python
   process on another fresh copy. Both must qualify the same contacts; the rows each wrote are counted side by side.
2. `smarketing score threshold --json` (read only), against a plain SQL peer doing its core work with nothing
   around it: Python's sqlite3 (no Django) running one query that ranks every contact's touches as of its first
   decision (else its latest touch) and sums the decayed points of the playbook's engagement rules.

SQLite only (the demo's embedded default): each copy lives in its own data folder. Nothing is asserted; the figures
are printed with their ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = str(Path(sys.executable).with_name("smarketing"))

OLD_QUALIFY = """
import json, os
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
import django
django.setup()
from smarketing.crm.models import Contact
from smarketing.lifecycle.services_handoff import QUALIFIABLE, mql_qualify
ids = list(Contact.objects.filter(lifecycle_stage__in=QUALIFIABLE).order_by("id").values_list("id", flat=True))
qualified = sum(mql_qualify(contact=Contact(pk=i)).qualified for i in ids)
print(json.dumps({"checked": len(ids), "qualified": qualified}))
"""

PEER_THRESHOLD = """
import json, math, sqlite3, sys, time
db, rules, half_life = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3])
con = sqlite3.connect(db)
con.create_function("pow", 2, math.pow, deterministic=True)
values = ", ".join(f"('{r['kind']}', {float(r['points'])}, {int(r['max_count'])})" for r in rules)
sql = f'''
WITH decided AS (SELECT contact_id, MIN(occurred_at) AS at FROM lifecycle_stagechange
                 WHERE contact_id IS NOT NULL
                   AND to_stage IN ('sal', 'sql', 'opportunity', 'customer', 'disqualified', 'recycled')
                 GROUP BY contact_id),
latest AS (SELECT contact_id, MAX(occurred_at) AS at FROM campaigns_touchpoint GROUP BY contact_id),
asof AS (SELECT c.id AS contact_id, COALESCE(d.at, l.at, datetime('now')) AS at FROM crm_contact c
         LEFT JOIN decided d ON d.contact_id = c.id LEFT JOIN latest l ON l.contact_id = c.id),
ranked AS (SELECT t.contact_id, t.kind, julianday(a.at) - julianday(t.occurred_at) AS age,
                  ROW_NUMBER() OVER (PARTITION BY t.contact_id, t.kind ORDER BY t.occurred_at DESC) AS n
           FROM campaigns_touchpoint t JOIN asof a ON a.contact_id = t.contact_id WHERE t.occurred_at <= a.at),
rules(kind, points, max_count) AS (VALUES {values})
SELECT r.contact_id, SUM(rules.points * pow(0.5, r.age / {half_life})) FROM ranked r
JOIN rules ON rules.kind = r.kind AND r.n <= rules.max_count GROUP BY r.contact_id
'''
rows = con.execute(sql).fetchall()
print(json.dumps({"contacts_engaged": len(rows)}))
"""


def env_for(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["SMARKETING_DATA_DIR"] = str(data_dir)
    return env


def seeded(data_dir: Path, size: str, seed: int) -> Path:
    """The demo company seeded once into `data_dir` (migrate + seed, untimed); returns its database file."""
    db = data_dir / "smarketing.db"
    if db.is_file():
        print(f"reusing the seeded database in {data_dir} (migrated to the current schema)")
        subprocess.run([CLI, "migrate"], env=env_for(data_dir), check=True, capture_output=True)
        return db
    data_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    subprocess.run([CLI, "migrate"], env=env_for(data_dir), check=True, capture_output=True)
    subprocess.run([CLI, "seed", "--size", size, "--seed", str(seed)], env=env_for(data_dir), check=True,
                   capture_output=True)
    print(f"seeded the {size} demo (seed {seed}) in {time.perf_counter() - t0:.1f} s (untimed below)")
    return db


def fresh_copy(db: Path, where: Path) -> Path:
    """A copy of the seeded database in a data folder of its own (with the same secret files)."""
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(db.parent, where, ignore=shutil.ignore_patterns("*-journal", "*-wal", "*-shm"))
    return where


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return elapsed, done.stdout


def best(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, str]:
    results = [timed(argv, env) for _ in range(runs)]
    return min(r[0] for r in results), results[-1][1]


def written(db: Path, since: dict[str, int]) -> dict[str, int]:
    """Rows a run added to each history table (beyond the seeded ones)."""
    con = sqlite3.connect(db)
    out = {table: con.execute(f"SELECT COUNT(*) FROM lifecycle_{table} WHERE id > ?", (since[table],)).fetchone()[0]
           for table in since}
    con.close()
    return out


def last_ids(db: Path) -> dict[str, int]:
    con = sqlite3.connect(db)
    out = {t: con.execute(f"SELECT COALESCE(MAX(id), 0) FROM lifecycle_{t}").fetchone()[0]
           for t in ("stagechange", "assignment", "slaclock", "slaevent", "notification")}
    con.close()
    return out


def engagement_rules(db: Path) -> tuple[list[dict[str, object]], float]:
    """The active playbook's engagement rules and half-life, read from its stored content."""
    con = sqlite3.connect(db)
    (content,) = con.execute("SELECT content FROM playbook_playbookversion WHERE status = 'active' "
                             "ORDER BY id DESC LIMIT 1").fetchone()
    con.close()
    scoring = json.loads(content)["scoring"]
    return scoring["engagement_rules"], float(scoring["engagement_half_life_days"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=None, help="where the seeded demo lives (default: a "
                        "temporary folder, removed afterwards)")
    parser.add_argument("--size", default="medium")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=1, help="processes per read-only command; the best is reported "
                        "(qualification always runs once per copy)")
    parser.add_argument("--skip-old", action="store_true", help="leave out the contact-by-contact qualification")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="smarketing-bench-batch-") as tmp:
        base = args.data_dir or Path(tmp) / "seeded"
        db = seeded(base, args.size, args.seed)
        work = Path(tmp)
        print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores shared: ratios move with it)")

        # 1. qualification
        since = last_ids(db)
        new_dir = fresh_copy(db, work / "qualify-batched")
        t_new, out_new = timed([CLI, "handoff", "qualify", "--all", "--json"], env_for(new_dir))
        rows_new = written(new_dir / "smarketing.db", since)
        print(f"\nsmarketing handoff qualify --all: {t_new:.2f} s  {json.loads(out_new)}  wrote {rows_new}")
        if not args.skip_old:
            old_dir = fresh_copy(db, work / "qualify-each")
            t_old, out_old = timed([sys.executable, "-c", OLD_QUALIFY], env_for(old_dir))
            rows_old = written(old_dir / "smarketing.db", since)
            print(f"contact by contact (mql_qualify, one transaction each): {t_old:.2f} s  {json.loads(out_old)}  "
                  f"wrote {rows_old}")
            same = json.loads(out_old) == json.loads(out_new) and rows_old == rows_new
            print(f"ratio: {t_old / t_new:.1f}x faster; same counts and rows written: {same}")

        # 2. threshold
        env = env_for(db.parent)
        t_thr, out_thr = best([CLI, "score", "threshold", "--json"], env, args.runs)
        proposal = json.loads(out_thr)
        rules, half_life = engagement_rules(db)
        t_peer, out_peer = best([sys.executable, "-c", PEER_THRESHOLD, str(db), json.dumps(rules), str(half_life)],
                                env, args.runs)
        print(f"\nsmarketing score threshold --json: {t_thr:.2f} s  ({proposal['n']} contacts, "
              f"{len(proposal['table'])} rows, proposed {proposal['proposed_threshold']})")
        print(f"plain SQL peer (sqlite3, one ranked decay query, no Django): {t_peer:.2f} s  {json.loads(out_peer)}")
        print(f"ratio: ours / peer {t_thr / t_peer:.2f}")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
