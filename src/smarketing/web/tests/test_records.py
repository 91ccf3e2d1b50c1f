"""Record pages: every logged-in role reads a contact, an account and an opportunity."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import reverse


@pytest.mark.parametrize("role", ["marketing", "sales", "revops", "viewer"])
def test_every_role_reads_the_record_pages(world: dict[str, Any], login, role: str) -> None:
    client = login(role)
    contact = world["contacts"][4]
    opportunity = contact.opportunities.get()
    for url in (reverse("contact", args=[contact.pk]), reverse("account", args=[world["account"].pk]),
                reverse("opportunity", args=[opportunity.pk])):
        assert client.get(url).status_code == 200, url


def test_record_pages_answer_404_for_a_missing_record(world: dict[str, Any], login) -> None:
    client = login("viewer")
    for name in ("contact", "account", "opportunity"):
        assert client.get(reverse(name, args=[999999])).status_code == 404


def test_record_pages_need_a_login(world: dict[str, Any], client) -> None:
    response = client.get(reverse("contact", args=[world["contacts"][0].pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]
