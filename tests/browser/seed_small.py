"""A small company for the browser tests and the web benchmark when the demo seeder is not available.

Run against the configured database (DATABASE_URL / SMARKETING_DATA_DIR) after `smarketing migrate`:
    python tests/browser/seed_small.py [--contacts N] [--seed S]
Writes only through the domain services; creates the demo users (password `demo`) when missing.
"""

from __future__ import annotations

import argparse
import os
import random
from datetime import timedelta

USERS = [("maria.marketing", "marketing", "Maria", "Marketing"), ("sam.sales", "sales", "Sam", "Sales"),
         ("sara.sales", "sales", "Sara", "Seller"), ("rita.revops", "revops", "Rita", "Revops"),
         ("vic.viewer", "viewer", "Vic", "Viewer")]
CAMPAIGNS = [("Close faster webinar", "webinar", 18000), ("Finance ops guide", "content", 6000),
             ("Paid search: reconciliation", "paid_search", 24000), ("CFO dinner series", "event", 31000),
             ("Nurture: month-end tips", "email", 3000)]
KINDS = {"webinar": "webinar_attended", "content": "content_download", "paid_search": "ad_click", "event": "event_attended",
         "email": "email_click"}
INDUSTRIES = ["Software", "Financial services", "Healthcare", "Manufacturing", "Retail"]
FEEDBACK = ["Pricing is too high for a team our size", "They need SSO and SCIM before security signs off",
            "Integration with NetSuite was the reason they chose us", "Competitor offered a cheaper annual plan",
            "Loved the reconciliation demo, asked for a pilot", "Onboarding looked too long for their timeline"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=60)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "smarketing.settings.base")
    import django

    django.setup()
    seed(contacts=args.contacts, rng=random.Random(args.seed))


def seed(*, contacts: int, rng: random.Random) -> None:
    from smarketing.campaigns.services import campaign_create, touchpoint_record
    from smarketing.core import clock
    from smarketing.crm.services import account_create, contact_create, opportunity_create
    from smarketing.feedback.services import feedback_record
    from smarketing.lifecycle.enums import ActorKind
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.playbook.services import playbook_bootstrap
    from smarketing.team.models import User
    from smarketing.team.services import user_create

    playbook_bootstrap()
    users = {}
    for username, role, first, last in USERS:
        u = User.objects.filter(username=username).first() or user_create(
            username=username, password="demo", role=role, first_name=first, last_name=last,
            email=f"{username}@demo.example", capacity_per_week=40 if role == "sales" else 0,
            enforce_password_policy=False)  # the demo's shared password, as `smarketing demo` seeds it
        users[username] = u
    sellers = [users["sam.sales"], users["sara.sales"]]
    now = clock.now()
    camps = [campaign_create(name=name, channel=ch, type="demand_gen", start_date=(now - timedelta(days=200)).date(),
                             budget=cost * 1.2, actual_cost=cost, core_message="Close the books in three days.")
             for name, ch, cost in CAMPAIGNS]
    accounts = [account_create(name=f"{w} {s}", domain=f"{w.lower()}{i}.example", industry=rng.choice(INDUSTRIES),
                               employees=rng.choice([80, 400, 1200, 3000, 9000]), region=rng.choice(["EMEA", "AMER"]),
                               segment=rng.choice(["smb", "mid_market", "enterprise"]))
                for i, (w, s) in enumerate((w, s) for w in ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne",
                                                            "Hooli", "Soylent") for s in ("Ltd", "Group"))]
    ladder = ["lead", "mql", "sal", "sql", "opportunity", "customer"]
    for i in range(contacts):
        account = rng.choice(accounts)
        start = now - timedelta(days=rng.uniform(3, 170), hours=rng.uniform(0, 8))
        c = contact_create(account=account, email=f"person{i}@{account.domain}", first_name=rng.choice(
            ["Ada", "Grace", "Alan", "Linus", "Barbara", "Ken", "Margaret", "Dennis"]), last_name=f"Tester{i}",
            title=rng.choice(["CFO", "Controller", "VP Finance", "Analyst"]),
            buying_role=rng.choice(["decision_maker", "champion", "influencer", "user"]),
            lead_source=rng.choice(["webinar", "paid_search", "content", "event"]), first_seen_at=start,
            owner=rng.choice(sellers))
        t = start
        for camp in rng.sample(camps, k=rng.randint(1, 3)):
            t += timedelta(hours=rng.uniform(2, 60))
            touchpoint_record(contact=c, channel=camp.channel, kind=KINDS[camp.channel], occurred_at=min(t, now),
                              campaign=camp)
        touchpoint_record(contact=c, channel="webinar", kind="demo_request", occurred_at=min(t + timedelta(hours=3), now),
                          campaign=camps[0])
        depth = rng.choices([1, 2, 3, 4, 5, 6], weights=[30, 25, 15, 10, 10, 10])[0]
        if i < 8:
            depth = 2  # the first few wait in the handoff queue
        at = start
        for stage in ladder[:depth]:
            at = min(at + timedelta(days=rng.uniform(0.5, 12)), now - timedelta(hours=8 - i if i < 8 else 1))
            if stage != "lead":  # a new contact is a lead already, and a change to the stage it is in is refused
                stage_change_record(contact=c, to_stage=stage, occurred_at=at, actor_kind=ActorKind.SIMULATOR)
        if depth >= 5:
            won = depth == 6
            opportunity_create(account=account, primary_contact=c, name=f"{account.name} deal {i}",
                               amount=rng.choice([18000, 32000, 45000, 80000]), opened_at=at - timedelta(days=2),
                               closed_at=at if won else None, outcome="won" if won else "open",
                               stage="closed_won" if won else "proposal", owner=c.owner)
    for j, text in enumerate(FEEDBACK * 3):
        feedback_record(kind=rng.choice(["objection", "feature_request", "praise", "competitor"]), text=text,
                        occurred_at=now - timedelta(days=rng.uniform(1, 80)), account=rng.choice(accounts),
                        author=users["sam.sales"], source="web", source_id=f"seed-{j}")
    print(f"seeded {contacts} contacts, {len(accounts)} accounts, {len(camps)} campaigns; users: "
          + ", ".join(f"{u} / demo" for u, *_ in USERS))


if __name__ == "__main__":
    main()
