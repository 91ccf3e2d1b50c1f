"""The HubSpot import as the user runs it, on SQLite and PostgreSQL, beside a plain bulk insert of the same rows.

    python benchmarks/import.py                                  # 100,000 contacts, 20,000 deals, both databases
    python benchmarks/import.py --contacts 10000 --deals 2000    # a smaller run while developing
    python benchmarks/import.py --database sqlite                # one database only
    python benchmarks/import.py --database-url postgres://postgres@127.0.0.1:5432/smk_impbench

1. Writes a HubSpot contacts export and a deals export in the exact layout (`ingest.tests.layouts.write_hubspot`:
   the real 311- and 146-column headers, every cell quoted, a BOM, dates without seconds): lifecycle stage dates
   climbing a ladder, owners by full name (some empty), original sources and drill-downs, companies by id, deals
   associated with their contacts, won and lost deals with close dates.
2. For each database, on a freshly migrated database (untimed): `smarketing import hubspot contacts.csv deals.csv
   --json` as a whole process, the first time and again with nothing changed. Each is timed from the process start
   to its exit, with its peak memory (the child's own maxrss from wait4).
3. The peer, in the same run, as a whole process too: Python reads the same two files with the csv module, types
   the rows the import writes (contacts, opportunities, one stage change per stage date) and inserts them into
   plain tables (sqlite3 executemany in one transaction; psycopg COPY), with no checks, matching or history rules.

Nothing is asserted; the figures are printed with their ratios. Targets (issue #11): first import under 60 s on
SQLite on 2 cores, the re-import under 20 s, peak memory under 1 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
CLI = str(Path(sys.executable).with_name("smarketing"))

from smarketing.ingest.tests.layouts import write_hubspot  # noqa: E402

LADDER = ["Subscriber", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"]
# How far contacts climb: most stop early, as in a real funnel.
TOPS = [0] * 5 + [1] * 45 + [2] * 25 + [3] * 12 + [4] * 8 + [5] * 5
SOURCES = {"Organic Search": ["Google", "Bing"], "Paid Search": ["Google Ads"], "Paid Social": ["LinkedIn"],
           "Email Marketing": ["newsletter", "nurture"], "Referrals": ["partner.example"],
           "Direct Traffic": [""], "Offline Sources": ["IMPORT", "CRM_UI"], "Social Media": ["LinkedIn", "X"]}
FIRST = ["Ann", "Ben", "Chloé", "Dev", "Eva", "Farid", "Gro", "Hana", "Ivo", "Jun", "Kai", "Lena", "Mo", "Noor"]
LAST = ["Lee", "Martin", "Nakamura", "O'Brien", "Petrov", "Quinn", "Rossi", "Silva", "Tanaka", "Dubois"]
DEAL_STAGES = ["Appointment Scheduled", "Qualified To Buy", "Presentation Scheduled", "Decision Maker Bought-In",
               "Contract Sent"]


def entered(stage: str) -> str:
    return f'Date entered "{stage} (Lifecycle Stage Pipeline)"'


def exited(stage: str) -> str:
    return f'Date exited "{stage} (Lifecycle Stage Pipeline)"'


def generate(folder: Path, n_contacts: int, n_deals: int, seed: int) -> tuple[Path, Path]:
    """The two exports, deterministic for a seed; deals go to contacts that reached Opportunity or Customer."""
    rnd = random.Random(seed)
    owners = [f"{rnd.choice(FIRST)} Seller{k}" for k in range(40)]
    start = datetime(2025, 1, 1, 8, 0, tzinfo=UTC)
    contacts = []
    deal_candidates: list[tuple[int, datetime, str, bool]] = []
    for i in range(n_contacts):
        rid = 100_000 + i
        top = rnd.choice(TOPS)
        created = start + timedelta(minutes=rnd.randrange(0, 60 * 24 * 500))
        source = rnd.choice(list(SOURCES))
        company = rnd.randrange(n_contacts // 10 + 1)
        owner = "" if top < 2 and rnd.random() < 0.5 else rnd.choice(owners)
        row: dict[str, object] = {
            "Record ID": str(rid), "First Name": rnd.choice(FIRST), "Last Name": rnd.choice(LAST),
            "Email": f"person{i}@company{company}.example", "Contact owner": owner, "Create Date": created,
            "Lifecycle Stage": LADDER[top], "Lead Status": ["New", "Open", "In Progress", "Open Deal"][min(top, 3)],
            "Original Traffic Source": source, "Original Traffic Source Drill-Down 1": rnd.choice(SOURCES[source]),
            "Original Traffic Source Drill-Down 2": f"campaign-{rnd.randrange(30)}", "Job Title": "Head of Ops",
            "Buying Role": "Decision Maker;Champion", "Country/Region": rnd.choice(["France", "Germany", "Japan"]),
            "Industry": "Software", "Associated Company (Primary)": f"Company {company}",
            "Associated Company IDs (Primary)": str(5_000_000 + company),
        }
        at = created
        for step in range(top + 1):
            row[entered(LADDER[step])] = at
            nxt = at + timedelta(hours=rnd.randrange(2, 24 * 20))
            if step < top:
                row[exited(LADDER[step])] = nxt
                at = nxt
        if top >= 4:
            deal_candidates.append((rid, row[entered("Opportunity")], owner, top == 5))  # type: ignore[arg-type]
        contacts.append(row)
    deals = []
    deal_ids: dict[int, list[str]] = {}
    for d in range(n_deals):
        rid, opened, owner, won_contact = deal_candidates[d % len(deal_candidates)] if deal_candidates else (
            100_000, start, "", False)
        did = str(9_000_000 + d)
        deal_ids.setdefault(rid, []).append(did)
        created = opened + timedelta(hours=rnd.randrange(0, 48))
        closed = created + timedelta(days=rnd.randrange(5, 90))
        outcome = "won" if won_contact and d < len(deal_candidates) else rnd.choice(["lost", "open", "open"])
        stage = {"won": "Closed Won", "lost": "Closed Lost"}.get(outcome) or rnd.choice(DEAL_STAGES)
        deals.append({
            "Record ID": did, "Deal Name": f"Deal {d}", "Amount": f"{rnd.randrange(1, 200) * 500}.0",
            "Amount in company currency": "", "Create Date": created,
            "Close Date": closed if outcome != "open" else None, "Deal Stage": stage, "Pipeline": "Sales Pipeline",
            "Deal owner": owner or rnd.choice(owners), "Deal Type": rnd.choice(["New Business", "Existing Business"]),
            "Is Closed Won": outcome == "won", "Is closed lost": outcome == "lost",
            "Closed Lost Reason": "Went with a competitor" if outcome == "lost" else "",
            "Associated Contact IDs": str(rid),
        })
    for row in contacts:
        ids = deal_ids.get(int(str(row["Record ID"])))
        if ids:
            row["Associated Deal IDs"] = ";".join(ids)
    return (write_hubspot(folder / "contacts.csv", "contacts", contacts),
            write_hubspot(folder / "deals.csv", "deals", deals))


PEER = r'''
import csv, sys, time
from datetime import datetime, timezone
contacts_csv, deals_csv, target = sys.argv[1:4]
LADDER = ["Subscriber", "Lead", "Marketing Qualified Lead", "Sales Qualified Lead", "Opportunity", "Customer"]
def when(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=timezone.utc) if text else None
contacts, changes, opps = [], [], []
with open(contacts_csv, encoding="utf-8-sig", newline="") as fh:
    reader = csv.reader(fh)
    header = next(reader)
    at = {name: header.index(name) for name in header}
    cols = [at["Record ID"], at["First Name"], at["Last Name"], at["Email"], at["Contact owner"], at["Create Date"],
            at["Original Traffic Source"], at["Lifecycle Stage"]]
    stage_cols = [(s, at[f'Date entered "{s} (Lifecycle Stage Pipeline)"']) for s in LADDER]
    for row in reader:
        rid, first, last, email, owner, created, source, stage = (row[c] for c in cols)
        contacts.append((rid, first, last, email.lower(), owner, when(created), source, stage))
        previous = ""
        for s, c in stage_cols:
            if row[c]:
                changes.append((rid, previous, s, when(row[c])))
                previous = s
with open(deals_csv, encoding="utf-8-sig", newline="") as fh:
    reader = csv.reader(fh)
    header = next(reader)
    at = {name: header.index(name) for name in header}
    for row in reader:
        amount = row[at["Amount"]]
        opps.append((row[at["Record ID"]], row[at["Deal Name"]], float(amount) if amount else None,
                     when(row[at["Create Date"]]), when(row[at["Close Date"]]), row[at["Deal Stage"]],
                     row[at["Deal owner"]], row[at["Is Closed Won"]] == "true", row[at["Associated Contact IDs"]]))
TABLES = {
    "contact": "source_id text, first_name text, last_name text, email text, owner text, created_at timestamptz, "
               "source text, stage text",
    "stagechange": "contact_source_id text, from_stage text, to_stage text, occurred_at timestamptz",
    "opportunity": "source_id text, name text, amount numeric, created_at timestamptz, closed_at timestamptz, "
                   "stage text, owner text, won boolean, contact_source_ids text",
}
DATA = {"contact": contacts, "stagechange": changes, "opportunity": opps}
if target.startswith("postgres"):
    import psycopg
    with psycopg.connect(target) as con, con.cursor() as cur:
        for t, cols in TABLES.items():
            cur.execute(f"DROP TABLE IF EXISTS peer_{t}")
            cur.execute(f"CREATE TABLE peer_{t} ({cols})")
            with cur.copy(f"COPY peer_{t} FROM STDIN") as copy:
                for r in DATA[t]:
                    copy.write_row(r)
else:
    import sqlite3
    con = sqlite3.connect(target)
    with con:
        for t, cols in TABLES.items():
            con.execute(f"CREATE TABLE peer_{t} ({cols})")
            marks = ", ".join("?" * len(DATA[t][0])) if DATA[t] else "?"
            con.executemany(f"INSERT INTO peer_{t} VALUES ({marks})",
                            [tuple(v.isoformat() if isinstance(v, datetime) else v for v in r) for r in DATA[t]])
    con.close()
print(len(contacts), len(changes), len(opps))
'''


def run(argv: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Seconds from start to exit, the process's own peak RSS in MB, and its stdout."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:3])} failed ({proc.returncode}):\n{stderr[-3000:]}\n{stdout[-2000:]}")
    return elapsed, usage.ru_maxrss // 1024, stdout


def env_for(data_dir: Path, database_url: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE")}
    env["SMARKETING_DATA_DIR"] = str(data_dir)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def fresh_postgres(url: str) -> None:
    """Drop and recreate the benchmark's own database (its name is the URL's last part)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as con:
        con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.execute(f'CREATE DATABASE "{name}"')


def summary_counts(stdout: str) -> str:
    """What the run wrote, from its --json summary: records per entity, stage changes, owners created."""
    data = json.loads(stdout[stdout.index("{"):])
    s = data.get("summary") or data
    parts = [f"{e} " + "/".join(str(s.get(e, {}).get(k, 0)) for k in ("created", "updated", "unchanged"))
             for e in ("accounts", "contacts", "opportunities")]
    stages = total(s.get("stages", {}))
    return (f"{', '.join(parts)} (created/updated/unchanged); stage changes {stages}; "
            f"owners created {len(s.get('owners_created', []))}; references to records not in the files "
            f"{s.get('unresolved_refs', 0)}; status {data.get('status', '?')}")


def total(value: object) -> int:
    """The sum of the numbers in a nested summary dict (stage changes by entity and stage)."""
    if isinstance(value, dict):
        return sum(total(v) for v in value.values())
    return value if isinstance(value, int) else 0


def bench(label: str, files: tuple[Path, Path], work: Path, database_url: str | None, rows: int) -> dict[str, float]:
    data_dir = work / f"data-{label}"
    shutil.rmtree(data_dir, ignore_errors=True)
    data_dir.mkdir(parents=True)
    if database_url:
        fresh_postgres(database_url)
    env = env_for(data_dir, database_url)
    subprocess.run([CLI, "migrate"], env=env, check=True, capture_output=True)
    argv = [CLI, "import", "hubspot", *map(str, files), "--json"]
    first, first_mb, out1 = run(argv, env)
    again, again_mb, out2 = run(argv, env)
    if database_url:
        fresh_postgres(database_url)
        target = database_url
    else:
        target = str(work / "peer.db")
        Path(target).unlink(missing_ok=True)
    peer, peer_mb, peer_out = run([sys.executable, "-c", PEER, *map(str, files), target], env)
    print(f"\n{label}: first import {first:.1f} s ({rows / first:,.0f} rows/s), peak {first_mb} MB")
    print(f"{label}:   summary {summary_counts(out1)}")
    print(f"{label}: re-import, nothing changed {again:.1f} s ({rows / again:,.0f} rows/s), peak {again_mb} MB")
    print(f"{label}:   summary {summary_counts(out2)}")
    print(f"{label}: peer (csv module + {'COPY' if database_url else 'executemany'} of the typed rows: "
          f"contacts, stage changes, opportunities {peer_out.strip()}) {peer:.1f} s ({rows / peer:,.0f} rows/s), "
          f"peak {peer_mb} MB")
    print(f"{label}: ratio first import / peer {first / peer:.1f}x, re-import / peer {again / peer:.1f}x")
    return {"first": first, "again": again, "peer": peer, "first_mb": first_mb, "again_mb": again_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--deals", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--database-url", default=os.environ.get(
        "IMPORT_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/smk_impbench"))
    parser.add_argument("--work-dir", type=Path, help="keep the generated files and databases here")
    args = parser.parse_args()
    work = args.work_dir or Path(tempfile.mkdtemp(prefix="import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    files = generate(work, args.contacts, args.deals, args.seed)
    sizes = ", ".join(f"{f.name} {f.stat().st_size / 1e6:.0f} MB" for f in files)
    rows = args.contacts + args.deals
    print(f"generated {args.contacts:,} contacts and {args.deals:,} deals ({sizes}) in "
          f"{time.perf_counter() - t0:.1f} s (untimed); load average {os.getloadavg()[0]:.1f}")
    try:
        if args.database in ("sqlite", "both"):
            bench("sqlite", files, work, None, rows)
        if args.database in ("postgresql", "both"):
            bench("postgresql", files, work, args.database_url, rows)
    finally:
        print(f"\nload average at the end {os.getloadavg()[0]:.1f}")
        if args.work_dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
