"""Full-rescore throughput: contacts/second of the vectorised scorer against a naive per-contact loop, measured
in the same run on the same seeded data. Prints figures and ratios; asserts nothing about time.

    .venv/bin/python benchmarks/scoring.py                      # 20k contacts (pure) + 5k contacts (database)
    .venv/bin/python benchmarks/scoring.py --contacts 200000 --db-contacts 20000 --naive-sample 500

Two levels:
1. **Rules only** (no database): `rules.score_many` over all contacts at once against `rules.score_contact`
   called contact by contact. Both must give the same totals (checked).
2. **End to end** on a fresh SQLite database (or DATABASE_URL): `scores_rebuild_all` (batched reads, vectorised
   scoring, bulk upserts) against the naive peer, `contact_rescore` per contact (what a loop over the
   incremental path would do). The naive peer runs on a sample of contacts and its rate is per contact.

Contacts: 1–12 touches each (kinds and ages drawn from the default playbook's rules), a third without an
account, buying roles and firmographics drawn at random. Seeded.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
os.environ.setdefault("SMARKETING_DATA_DIR", tempfile.mkdtemp(prefix="smarketing-bench-scoring-"))

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
KINDS = ["page_view", "page_view", "page_view", "email_open", "email_click", "content_download", "webinar_attended",
         "pricing_view", "form_fill", "demo_request", "ad_click", "event_attended"]
ROLES = ["decision_maker", "champion", "influencer", "user", "unknown"]
INDUSTRIES = ["Software", "Financial services", "Retail", "Healthcare", "Education", "Manufacturing"]


def synthetic(n: int, seed: int) -> tuple[list[dict[str, Any]], list[list[Any]]]:
    from smarketing.scoring.rules import Touch, facts_from

    rng = random.Random(seed)
    facts, touches = [], []
    for i in range(n):
        account = None if i % 3 == 0 else {"industry": rng.choice(INDUSTRIES), "employees": rng.randint(5, 20000)}
        email = f"p{i}@{'gmail.com' if rng.random() < 0.1 else 'corp.example'}"
        facts.append(facts_from({"email": email, "buying_role": rng.choice(ROLES)}, account))
        touches.append([Touch(rng.choice(KINDS), AS_OF - timedelta(hours=rng.randint(0, 24 * 365)))
                        for _ in range(rng.randint(1, 12))])
    return facts, touches


def bench_rules(n: int, seed: int) -> dict[str, float]:
    from smarketing.playbook import schema
    from smarketing.playbook.selectors import default_playbook_data
    from smarketing.scoring.rules import TouchArrays, score_contact, score_many

    scoring = schema.parse(default_playbook_data()).scoring
    facts, touches = synthetic(n, seed)
    t0 = time.perf_counter()
    naive = [score_contact(scoring, f, ts, AS_OF).total for f, ts in zip(facts, touches, strict=True)]
    t_naive = time.perf_counter() - t0
    t0 = time.perf_counter()
    arrays = TouchArrays.from_lists(touches)
    t_arrays = time.perf_counter() - t0
    t0 = time.perf_counter()
    batch = score_many(scoring, facts, arrays, AS_OF)
    t_vec = time.perf_counter() - t0
    worst = max(abs(a - b) for a, b in zip(naive, batch.total.tolist(), strict=True))
    assert worst < 1e-9, f"vectorised totals differ from the scalar ones by {worst}"
    return {"contacts": n, "naive_per_s": n / t_naive, "vectorised_per_s": n / t_vec,
            "with_arrays_per_s": n / (t_vec + t_arrays), "max_abs_diff": worst}


def seed_db(n: int, seed: int) -> None:

    from smarketing.campaigns.services import touchpoints_record_many
    from smarketing.crm.services import account_create, contacts_upsert_by_source
    from smarketing.playbook.services import playbook_bootstrap
    from smarketing.scoring.services import rescore_deferred

    playbook_bootstrap()
    rng = random.Random(seed)
    accounts = [account_create(name=f"Bench {a}", industry=rng.choice(INDUSTRIES), employees=rng.randint(5, 20000))
                for a in range(max(n // 8, 1))]
    rows = [{"source_id": f"c{i}", "email": f"bench{i}@corp.example", "buying_role": rng.choice(ROLES),
             "account": None if i % 3 == 0 else rng.choice(accounts)} for i in range(n)]
    ids, _, _ = contacts_upsert_by_source(source="bench", rows=rows)
    account_of = {r["source_id"]: (r["account"].pk if r["account"] else None) for r in rows}
    touches = []
    for sid, cid in ids.items():
        for k in range(rng.randint(1, 12)):
            touches.append({"contact_id": cid, "account_id": account_of[sid], "channel": "other",
                            "kind": rng.choice(KINDS), "source": "bench", "source_id": f"{sid}:{k}",
                            "occurred_at": AS_OF - timedelta(hours=rng.randint(0, 24 * 365))})
    with rescore_deferred():  # one queued rebuild instead of a task per touchpoint
        touchpoints_record_many(touchpoints=touches)


def bench_db(n: int, sample: int, seed: int) -> dict[str, float]:
    from django.core.management import call_command

    from smarketing.crm.models import Contact
    from smarketing.scoring.models import ContactScore
    from smarketing.scoring.services import contact_rescore, scores_rebuild_all

    call_command("migrate", interactive=False, verbosity=0)
    if not Contact.objects.filter(source="bench").exists():
        t0 = time.perf_counter()
        seed_db(n, seed)
        print(f"  seeded {n} contacts in {time.perf_counter() - t0:.1f}s", flush=True)
    total = Contact.objects.count()
    t0 = time.perf_counter()
    scores_rebuild_all(as_of=AS_OF)
    t_full = time.perf_counter() - t0
    full = dict(ContactScore.objects.values_list("contact_id", "total"))
    ids = sorted(full)[:: max(len(full) // sample, 1)][:sample]
    t0 = time.perf_counter()
    for cid in ids:
        contact_rescore(contact_id=cid, as_of=AS_OF)
    t_naive = time.perf_counter() - t0
    worst = max(abs(full[c] - t) for c, t in ContactScore.objects.filter(contact_id__in=ids)
                .values_list("contact_id", "total"))
    assert worst < 1e-9, f"incremental and full rescoring disagree by {worst}"
    return {"contacts": total, "naive_sample": len(ids), "naive_per_s": len(ids) / t_naive,
            "vectorised_per_s": total / t_full, "max_abs_diff": worst}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20_000, help="contacts for the rules-only comparison")
    parser.add_argument("--db-contacts", type=int, default=5_000, help="contacts in the database comparison")
    parser.add_argument("--naive-sample", type=int, default=300, help="contacts the naive database peer rescored")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    import django

    django.setup()
    print(f"rules only, {args.contacts} contacts:", flush=True)
    r = bench_rules(args.contacts, args.seed)
    print(f"  naive per-contact loop  {r['naive_per_s']:>12,.0f} contacts/s")
    print(f"  vectorised score_many   {r['vectorised_per_s']:>12,.0f} contacts/s  (touch columns ready, as the "
          "database read gives them)")
    print(f"  … incl. building columns{r['with_arrays_per_s']:>12,.0f} contacts/s  (from per-contact Touch lists)")
    print(f"  ratio                   {r['vectorised_per_s'] / r['naive_per_s']:>12.1f}×   "
          f"({r['with_arrays_per_s'] / r['naive_per_s']:.1f}× incl. columns; max |Δ total| {r['max_abs_diff']:.1e})")
    print(f"end to end on {django.db.connection.vendor}, {args.db_contacts} contacts:", flush=True)
    d = bench_db(args.db_contacts, args.naive_sample, args.seed)
    print(f"  naive contact_rescore   {d['naive_per_s']:>12,.0f} contacts/s  (sample of {d['naive_sample']})")
    print(f"  scores_rebuild_all      {d['vectorised_per_s']:>12,.0f} contacts/s  ({d['contacts']} contacts)")
    print(f"  ratio                   {d['vectorised_per_s'] / d['naive_per_s']:>12.1f}×   (max |Δ total| "
          f"{d['max_abs_diff']:.1e})")


if __name__ == "__main__":
    main()
