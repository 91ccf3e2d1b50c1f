"""Record pages: every logged-in role reads a contact, an account and an opportunity, with one paged timeline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from django.urls import reverse

from smarketing.campaigns.services import touchpoint_record
from smarketing.crm.timeline import account_timeline


@pytest.fixture
def called(world: dict[str, Any], users) -> Any:
    """Given the first MQL got a sales call from the seller."""
    contact = world["contacts"][0]
    touchpoint_record(contact=contact, channel="sales", kind="sales_call", actor=users["sales"],
                      occurred_at=datetime(2026, 11, 18, 16, tzinfo=UTC))
    return contact


def _urls(world: dict[str, Any]) -> list[str]:
    contact = world["contacts"][4]
    return [reverse("contact", args=[contact.pk]), reverse("account", args=[world["account"].pk]),
            reverse("opportunity", args=[contact.opportunities.get().pk])]


@pytest.mark.parametrize("role", ["marketing", "sales", "revops", "viewer"])
def test_every_role_reads_the_record_pages(world: dict[str, Any], login, role: str) -> None:
    client = login(role)
    for url in _urls(world):
        assert client.get(url).status_code == 200, url


def test_record_pages_take_no_writes(world: dict[str, Any], login) -> None:
    client = login("revops")
    for url in _urls(world):
        assert client.post(url, {}).status_code == 405, url
        assert "<form" not in client.get(url).content.decode().split('<main id="main"')[1], url


def test_record_pages_answer_404_for_a_missing_record(world: dict[str, Any], login) -> None:
    client = login("viewer")
    for name in ("contact", "account", "opportunity"):
        assert client.get(reverse(name, args=[999999])).status_code == 404


def test_record_pages_need_a_login(world: dict[str, Any], client) -> None:
    response = client.get(reverse("contact", args=[world["contacts"][0].pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_contact_page_shows_stage_owner_related_records_and_the_timeline(world, called, login, active_playbook):
    html = login("viewer").get(reverse("contact", args=[called.pk])).content.decode()
    assert called.name in html and "Marketing qualified lead" in html and "sales1" in html
    assert reverse("account", args=[world["account"].pk]) in html
    # the stage change names the playbook version that judged it, the call names the rep
    assert f'data-kind="stage_change" data-actor="system" data-playbook-version="{active_playbook.number}"' in html
    assert 'data-kind="touchpoint" data-actor="sales1"' in html
    assert reverse("playbook_version", args=[active_playbook.number]) in html
    # the score, computed from its history as it has not been scored yet, with the rule lines behind it
    assert 'data-field="score"' in html and "Asked for a demo: 35 pts" in html


def test_a_customer_contact_page_links_its_opportunity_and_the_opportunity_links_back(world, login):
    client = login("viewer")
    customer = world["contacts"][4]
    deal = customer.opportunities.get()
    contact_html = client.get(reverse("contact", args=[customer.pk])).content.decode()
    deal_html = client.get(reverse("opportunity", args=[deal.pk])).content.decode()
    assert reverse("opportunity", args=[deal.pk]) in contact_html
    assert reverse("contact", args=[customer.pk]) in deal_html
    assert reverse("account", args=[world["account"].pk]) in deal_html
    assert 'data-field="amount">$120.0k' in deal_html and 'data-field="outcome">Won' in deal_html


def test_an_account_page_lists_its_contacts_and_opportunities_and_their_history(world, login):
    html = login("viewer").get(reverse("account", args=[world["account"].pk])).content.decode()
    for contact in world["contacts"]:
        assert reverse("contact", args=[contact.pk]) in html
    for deal in world["account"].opportunities.all():
        assert reverse("opportunity", args=[deal.pk]) in html
    assert 'id="timeline"' in html and 'data-kind="feedback"' in html


def test_the_timeline_pages_newest_first_with_links_and_an_htmx_partial(world, login):
    client = login("viewer")
    url = reverse("account", args=[world["account"].pk])
    whole = account_timeline(account_id=world["account"].pk, limit=200)
    assert whole.total > 20  # more than one page
    first = client.get(url).content.decode()
    assert f"1–20 of {whole.total}" in first and f'href="{url}?offset=20"' in first and 'rel="prev"' not in first
    partial = client.get(url, {"offset": 20}, headers={"HX-Request": "true", "HX-Target": "timeline"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<section class="card span-12" id="timeline"')
    assert f"21–{min(40, whole.total)} of {whole.total}" in body and f'href="{url}?offset=0"' in body
    assert whole.items[20].summary in body


def test_a_record_page_costs_the_same_queries_however_many_contacts_and_entries(world, login,
                                                                                django_assert_max_num_queries):
    from smarketing.testing.factories import ContactFactory, TouchpointFactory

    for _ in range(25):  # given many more contacts with history at the account
        TouchpointFactory(contact=ContactFactory(account=world["account"]), occurred_at=datetime(2026, 11, 3, tzinfo=UTC))
    client = login("viewer")
    # session and user, record, score, contacts and their count, opportunities, timeline count, page and kinds
    with django_assert_max_num_queries(18):
        assert client.get(reverse("account", args=[world["account"].pk])).status_code == 200


def test_the_feedback_page_links_items_and_themes_to_their_records(world, login) -> None:
    from smarketing.feedback.models import Theme, ThemeAssignment
    from smarketing.testing.factories import AccountFactory, FeedbackItemFactory

    # given a theme said by two accounts (Acme twice), and an item a contact said
    other: Any = AccountFactory(name="Globex")
    contact = world["contacts"][2]
    theme = Theme.objects.create(name="Pricing for small teams", key_phrases=["pricing", "team size"])
    items: list[Any] = [FeedbackItemFactory(account=world["account"], contact=contact, occurred_at=datetime(2026, 11, 5, tzinfo=UTC)),
             FeedbackItemFactory(account=world["account"], occurred_at=datetime(2026, 11, 6, tzinfo=UTC)),
             FeedbackItemFactory(account=other, occurred_at=datetime(2026, 11, 7, tzinfo=UTC))]
    for item in items:
        ThemeAssignment.objects.create(item=item, theme=theme, method="manual")
    html = login("viewer").get("/feedback/", {"period": "2026-Q4"}).content.decode()
    theme_cell = html.split("Pricing for small teams</strong>")[1].split("</td>")[0]
    acme, globex = reverse("account", args=[world["account"].pk]), reverse("account", args=[other.pk])
    assert theme_cell.index(acme) < theme_cell.index(globex)  # the account saying it most comes first
    latest = html.split("Latest items")[1].split("</ul>")[0]
    assert reverse("contact", args=[contact.pk]) in latest and f'href="{globex}"' in latest
