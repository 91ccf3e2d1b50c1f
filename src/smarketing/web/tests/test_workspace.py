"""The workspace both teams share: the notifications inbox (page, header badge, API) and the header search."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client

AT = datetime(2026, 11, 20, 9, tzinfo=UTC)


def _client(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def _notify(user: Any, n: int, *, kind: str = "assigned", contact: Any = None, start: int = 0) -> list[int]:
    from smarketing.lifecycle.services_notifications import notification_create

    rows = [notification_create(user_id=user.pk, kind=kind, title=f"{kind} #{start + i}", contact=contact,
                                at=AT + timedelta(minutes=start + i)) for i in range(n)]
    return [r.pk for r in rows if r is not None]


def _badge(html: str) -> str:
    """The header bell's label (it carries the unread count for everyone, screen readers included)."""
    start = html.index('id="bell"')
    label = html.index('aria-label="', start) + len('aria-label="')
    return html[label:html.index('"', label)]


# ------------------------------------------------------------------------------------------ notifications


def test_inbox_lists_own_notifications_newest_first_and_links_each_to_its_contact(users):
    from smarketing.testing.factories import ContactFactory

    # given two notifications for sales1 about a contact, and one for marketing1
    contact: Any = ContactFactory(first_name="Grace", last_name="Hopper")
    older, newer = _notify(users["sales"], 2, contact=contact)
    _notify(users["marketing"], 1, kind="sla_breach", start=10)
    # when sales1 opens the inbox
    html = _client(users["sales"]).get("/notifications/").content.decode()
    # then theirs are listed newest first, unread, each linking to the contact page; marketing1's is not there
    assert html.index(f'data-notification="{newer}"') < html.index(f'data-notification="{older}"')
    assert html.count(f'href="/contacts/{contact.pk}/"') == 2
    assert "sla_breach #10" not in html
    assert html.count('class="note unread"') == 2
    assert _badge(html) == "Notifications: 2 unread"


def test_mark_one_read_then_all_read_moves_the_badge(users):
    # given three unread notifications
    ids = _notify(users["sales"], 3)
    client = _client(users["sales"])
    # when one is marked read (a plain form post: redirect back to the inbox with its filters)
    r = client.post(f"/notifications/{ids[0]}/read/", {"next": "/notifications/?show=all"})
    assert (r.status_code, r["Location"]) == (302, "/notifications/?show=all")
    # then the badge says two, the unread view lists two and "all" still lists three
    assert _badge(client.get("/me/").content.decode()) == "Notifications: 2 unread"
    assert client.get("/notifications/").content.decode().count('class="note unread"') == 2
    everything = client.get("/notifications/?show=all").content.decode()
    assert everything.count("data-notification=") == 3 and everything.count('class="note unread"') == 2
    # when all are marked read
    client.post("/notifications/read-all/", {"next": "https://evil.example/"})
    # then none is unread, and the badge shows no count
    page = client.get("/notifications/").content.decode()
    assert "You are all caught up" in page and _badge(page) == "Notifications: 0 unread"
    assert 'class="badge"' not in page


def test_inbox_filters_by_kind_and_pages(users):
    _notify(users["sales"], 30, kind="assigned")
    _notify(users["sales"], 2, kind="sla_breach", start=100)
    client = _client(users["sales"])
    breaches = client.get("/notifications/?kind=sla_breach").content.decode()
    assert breaches.count("data-notification=") == 2 and "assigned #" not in breaches
    first = client.get("/notifications/").content.decode()
    assert first.count("data-notification=") == 25 and "Showing 1–25 of 32" in first
    second = client.get("/notifications/?offset=25").content.decode()
    assert second.count("data-notification=") == 7 and "Showing 26–32 of 32" in second
    assert client.get("/notifications/?offset=x").status_code == 400


def test_another_users_notification_is_not_found_and_stays_unread(users):
    from smarketing.lifecycle.models import Notification

    [theirs] = _notify(users["marketing"], 1)
    assert _client(users["sales"]).post(f"/notifications/{theirs}/read/").status_code == 404
    assert Notification.objects.get(pk=theirs).read_at is None


def test_selectors_count_and_filter_in_one_query_each(users, django_assert_num_queries):
    from smarketing.lifecycle.selectors_notifications import (
        notification_list_for_user,
        notification_unread_count,
    )
    from smarketing.lifecycle.services_notifications import notification_mark_read

    ids = _notify(users["sales"], 4)
    _notify(users["sales"], 1, kind="reassigned", start=50)
    notification_mark_read(user=users["sales"], notification_id=ids[0])
    with django_assert_num_queries(1):
        assert notification_unread_count(user_id=users["sales"].pk) == 4
    with django_assert_num_queries(1):
        rows = list(notification_list_for_user(user_id=users["sales"].pk, unread_only=True, kind="assigned"))
        assert [r.contact for r in rows] == [None, None, None]
    assert [r.pk for r in rows] == sorted(ids[1:], reverse=True)


def test_api_inbox_is_paged_own_only_and_marks_read(api, users):
    ids = _notify(users["sales"], 3)
    [theirs] = _notify(users["marketing"], 1)
    page = api.get("/api/notifications", role="sales", unread="true", limit=2).json()
    assert (page["total"], page["unread"], len(page["items"])) == (3, 3, 2)
    assert page["items"][0]["id"] == ids[-1] and page["items"][0]["kind_label"] == "Lead assigned"
    read = api.post(f"/api/notifications/{ids[0]}/read", None, role="sales")
    assert read.status_code == 200 and read.json()["read_at"] is not None
    assert api.post(f"/api/notifications/{theirs}/read", None, role="sales").json()["code"] == "not_found"
    assert api.get("/api/notifications", role="sales", kind="nonsense").status_code == 422
    done = api.post("/api/notifications/read-all", None, role="viewer")
    assert done.status_code == 200 and done.json() == {"marked": 0, "unread": 0}
    assert api.post("/api/notifications/read-all", None, role="sales").json() == {"marked": 2, "unread": 0}


# ------------------------------------------------------------------------------------------------- search


@pytest.fixture
def records(db) -> dict[str, Any]:
    from smarketing.feedback.models import Theme
    from smarketing.testing.factories import (
        AccountFactory,
        CampaignFactory,
        ContactFactory,
        OpportunityFactory,
    )

    acme: Any = AccountFactory(name="Acme Robotics", domain="acme-robotics.example")
    return {
        "acme": acme,
        "grace": ContactFactory(first_name="Grace", last_name="Hopper", email="grace@navy.example", account=acme,
                                source="hubspot", source_id="HS-77123"),
        "other": ContactFactory(first_name="Alan", last_name="Turing", email="alan@bletchley.example"),
        "deal": OpportunityFactory(name="Acme renewal 2027", account=acme),
        "campaign": CampaignFactory(name="Acme webinar: close in 3 days"),
        "theme": Theme.objects.create(name="Pricing for small teams", key_phrases=["too expensive"]),
        "retired": Theme.objects.create(name="Pricing (old)", status="retired"),
    }


@pytest.mark.parametrize(("q", "kind", "key"), [
    ("grace hopper", "contacts", "grace"), ("navy.example", "contacts", "grace"), ("HS-77123", "contacts", "grace"),
    ("robotics", "accounts", "acme"), ("acme-robotics.example", "accounts", "acme"),
    ("renewal", "opportunities", "deal"), ("webinar", "campaigns", "campaign"), ("small teams", "themes", "theme"),
])
def test_search_finds_each_kind_by_its_fields_and_links_its_page(users, records, q, kind, key):
    from smarketing.web.views.search import search_groups

    groups = {g.key: g for g in search_groups(q)}
    record = records[key]
    url = {"contacts": f"/contacts/{record.pk}/", "accounts": f"/accounts/{record.pk}/",
           "opportunities": f"/opportunities/{record.pk}/", "campaigns": f"/campaigns/{record.pk}/",
           "themes": f"/feedback/#theme-{record.pk}"}[kind]
    assert [h.url for h in groups[kind].hits] == [url]
    html = _client(users["viewer"]).get("/search/", {"q": q}).content.decode()
    assert f'href="{url}"' in html


def test_search_groups_are_bounded_with_counts_and_make_no_query_per_row(users, records,
                                                                          django_assert_max_num_queries):
    from smarketing.testing.factories import ContactFactory
    from smarketing.web.views.search import search_groups

    ContactFactory.create_batch(12, first_name="Acme", last_name="Buyer")
    with django_assert_max_num_queries(10):  # a count and a page per group, whatever the matches
        groups = {g.key: g for g in search_groups("acme", per_group=5)}
    assert (groups["contacts"].total, len(groups["contacts"].hits)) == (12, 5)
    assert groups["accounts"].total == 1 and groups["themes"].total == 0
    assert "Pricing (old)" not in [h.label for h in search_groups("pricing")[4].hits]
    html = _client(users["sales"]).get("/search/", {"q": "acme"}).content.decode()
    assert "8 of 12" in html


def test_live_results_are_a_partial_and_short_queries_say_why(users, records):
    client = _client(users["sales"])
    live = client.get("/search/", {"q": "hopper"}, headers={"HX-Request": "true", "HX-Target": "search-live"})
    body = live.content.decode()
    assert "<html" not in body and f'href="/contacts/{records["grace"].pk}/"' in body and "All results for" in body
    assert "at least 2 characters" in client.get("/search/", {"q": "a"}).content.decode()
    assert "Nothing matches" in client.get("/search/", {"q": "zzzqqq"}).content.decode()


def test_api_search_returns_the_same_groups(api, records):
    body = api.get("/api/search", role="viewer", q="acme").json()
    groups = {g["key"]: g for g in body["groups"]}
    assert list(groups) == ["contacts", "accounts", "opportunities", "campaigns", "themes"]
    assert groups["accounts"]["hits"][0]["url"] == f"/accounts/{records['acme'].pk}/"
    assert groups["contacts"]["total"] == 0 and groups["opportunities"]["total"] == groups["campaigns"]["total"] == 1
    bad = api.get("/api/search", role="viewer", q="a")
    assert bad.status_code == 422 and bad.json()["field"] == "q"
