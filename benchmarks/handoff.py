"""Lifecycle engine throughput, each figure against a peer measured in the same run:

1. business-hour deadlines/second (calendar.add_business_hours) against a minute-stepping reference
   implementation, which also cross-checks that both give the same deadlines;
2. routing decisions/second over a sales floor of many sellers;
3. SLA breaches recorded/second by the check (one transaction per clock, row lock, unique constraint,
   notification, escalation, webhook delivery row) against a bare bulk insert of the same number of
   SlaEvent rows (the floor cost of writing the facts at all).

    .venv/bin/python benchmarks/handoff.py --leads 400

Uses its own SQLite database under SMARKETING_DATA_DIR (default /tmp/smarketing-bench-handoff), or DATABASE_URL.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
os.environ.setdefault("SMARKETING_DATA_DIR", os.path.join("/tmp", "smarketing-bench-handoff"))


def reference_add(cal, start: datetime, hours: float) -> datetime:  # type: ignore[no-untyped-def]
    """Step one minute at a time, counting the minutes that are inside working time."""
    from zoneinfo import ZoneInfo

    from smarketing.lifecycle.calendar import is_working_day

    zone = ZoneInfo(cal.timezone)
    t = start.astimezone(UTC).replace(second=0, microsecond=0)
    left = round(hours * 60)
    while left > 0:
        local = t.astimezone(zone)
        if is_working_day(cal, local.date()) and cal.day_start <= local.time() < cal.day_end:
            left -= 1
        t += timedelta(minutes=1)
    return t


def bench_calendar(n: int) -> None:
    from smarketing.lifecycle import calendar
    from smarketing.playbook.schema import parse
    from smarketing.playbook.selectors import default_playbook_data

    cal = parse(default_playbook_data()).sla.calendar
    rng = random.Random(7)
    starts = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=rng.randrange(0, 365 * 24 * 60)) for _ in range(n)]
    t0 = time.perf_counter()
    fast = [calendar.add_business_hours(cal, s, 4) for s in starts]
    t_fast = time.perf_counter() - t0
    sample = starts[: max(n // 20, 50)]
    t0 = time.perf_counter()
    slow = [reference_add(cal, s, 4) for s in sample]
    t_slow = time.perf_counter() - t0
    agree = sum(a == b for a, b in zip(fast, slow, strict=False))
    fast_rate, slow_rate = n / t_fast, len(sample) / t_slow
    print(f"deadlines: {fast_rate:,.0f}/s; minute-stepping reference {slow_rate:,.0f}/s "
          f"(×{fast_rate / slow_rate:,.0f}); agree on {agree}/{len(sample)} sampled starts")


def bench_routing(n: int, sellers: int) -> None:
    from dataclasses import replace
    from datetime import date

    from smarketing.lifecycle import routing
    from smarketing.playbook.schema import parse
    from smarketing.playbook.selectors import default_playbook_data

    terms = parse(default_playbook_data()).routing
    rng = random.Random(3)
    teams = ["EMEA", "AMER", "Enterprise", "Inbound"]
    floor = {i: routing.Seller(id=i, name=f"s{i}", team=teams[i % 4], capacity_per_week=rng.choice([10, 20, 40]),
                               out_of_office_until=date(2026, 12, 1) if i % 9 == 0 else None)
             for i in range(1, sellers + 1)}
    leads = [{"account.region": rng.choice(["EMEA", "AMER", "APAC"]),
              "account.employees": rng.choice([50, 800, 9000])} for _ in range(n)]
    t0 = time.perf_counter()
    for facts in leads:
        d = routing.route(terms, facts=facts, sellers=list(floor.values()), on=date(2026, 11, 24))
        if d.owner_id is not None:
            floor[d.owner_id] = replace(floor[d.owner_id], load=floor[d.owner_id].load + 1)
    rate = n / (time.perf_counter() - t0)
    print(f"routing: {rate:,.0f} decisions/s over {sellers} sellers")


def bench_sla_check(leads: int) -> None:
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    from django.db import transaction

    from smarketing.campaigns.models import Touchpoint
    from smarketing.core import clock
    from smarketing.crm.models import Account, Contact
    from smarketing.lifecycle.models import SlaClock, SlaEvent
    from smarketing.lifecycle.services_handoff import mql_qualify
    from smarketing.lifecycle.services_sla_check import sla_check_run
    from smarketing.playbook.services import playbook_bootstrap
    from smarketing.team.models import User
    from smarketing.team.services import user_create

    playbook_bootstrap()
    tag = f"b{int(time.time())}"
    for i in range(8):
        user_create(username=f"{tag}-s{i}", password="pw", role="sales", team_name=["EMEA", "AMER"][i % 2],
                    capacity_per_week=100)
    if not User.objects.filter(role="revops").exists():
        user_create(username=f"{tag}-ops", password="pw", role="revops")
    start = datetime(2026, 1, 6, 15, tzinfo=UTC)
    clock.freeze(start)
    t0 = time.perf_counter()
    for i in range(leads):
        account = Account.objects.create(name=f"{tag} {i}", industry="Software", employees=800,
                                         region=["EMEA", "AMER"][i % 2])
        person = Contact.objects.create(account=account, email=f"{tag}-{i}@corp.example", buying_role="decision_maker")
        Touchpoint.objects.create(contact=person, account=account, channel="webinar", kind="demo_request",
                                  occurred_at=start)
        mql_qualify(contact=person)
    t_qualify = time.perf_counter() - t0
    clock.freeze(None)
    due = SlaClock.objects.filter(state="open", deadline__lte=datetime.now(UTC)).count()
    t0 = time.perf_counter()
    breached = 0
    while True:
        result = sla_check_run(limit=500)
        breached += result.breached
        if result.remaining_due == 0:
            break
    t_check = time.perf_counter() - t0
    # The peer writes one row per breached clock (a kind those clocks do not have yet), then rolls back.
    clock_ids = list(SlaClock.objects.filter(state="breached").values_list("id", flat=True)[:breached])
    rows = [SlaEvent(clock_id=cid, kind="reassigned", side="sales", clock_kind="first_touch", occurred_at=start,
                     details={"bench": True}) for cid in clock_ids]
    t0 = time.perf_counter()
    with transaction.atomic():
        SlaEvent.objects.bulk_create(rows, batch_size=1000)
        transaction.set_rollback(True)
    t_bulk = time.perf_counter() - t0
    check_rate, bulk_rate = breached / t_check, breached / t_bulk
    print(f"qualify+route+clocks: {leads / t_qualify:,.0f} MQLs/s ({leads} MQLs)")
    print(f"sla check: {check_rate:,.0f} breaches/s ({breached} of {due} due clocks); bare bulk insert of the "
          f"same events {bulk_rate:,.0f}/s; exactly-once + side effects cost ×{bulk_rate / check_rate:,.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--deadlines", type=int, default=20_000)
    parser.add_argument("--routes", type=int, default=20_000)
    parser.add_argument("--sellers", type=int, default=60)
    parser.add_argument("--leads", type=int, default=300)
    args = parser.parse_args()
    import django

    django.setup()
    bench_calendar(args.deadlines)
    bench_routing(args.routes, args.sellers)
    bench_sla_check(args.leads)


if __name__ == "__main__":
    main()
