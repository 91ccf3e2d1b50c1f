"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

from datetime import UTC, date, datetime

import factory

from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.feedback.models import FeedbackItem
from smarketing.team.models import User


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    role = "viewer"
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):  # type: ignore[no-untyped-def]  # noqa: N805
        if create:
            obj.save()


class AccountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Account

    name = factory.Sequence(lambda n: f"Account {n}")
    domain = factory.Sequence(lambda n: f"account{n}.example")
    industry = "Software"
    employees = 800
    region = "EMEA"
    segment = "mid_market"


class ContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    account = factory.SubFactory(AccountFactory)
    email = factory.Sequence(lambda n: f"person{n}@corp.example")
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Lovelace{n}")
    title = "VP Operations"
    buying_role = "decision_maker"
    first_seen_at = datetime(2026, 1, 5, 10, tzinfo=UTC)


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    channel = "webinar"
    type = "demand_gen"
    start_date = date(2026, 1, 1)
    budget = 10000
    actual_cost = 8000
    core_message = "Cut month-end close from ten days to three with automated reconciliation."


class TouchpointFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Touchpoint

    contact = factory.SubFactory(ContactFactory)
    account = factory.LazyAttribute(lambda o: o.contact.account)
    campaign = factory.SubFactory(CampaignFactory)
    channel = "webinar"
    kind = "webinar_attended"
    occurred_at = datetime(2026, 2, 1, 15, tzinfo=UTC)


class OpportunityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Opportunity

    account = factory.SubFactory(AccountFactory)
    name = factory.Sequence(lambda n: f"Deal {n}")
    amount = 25000
    opened_at = datetime(2026, 3, 1, tzinfo=UTC)


class FeedbackItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FeedbackItem

    account = factory.SubFactory(AccountFactory)
    kind = "objection"
    text = "Pricing is too high for our team size."
    occurred_at = datetime(2026, 4, 1, tzinfo=UTC)
