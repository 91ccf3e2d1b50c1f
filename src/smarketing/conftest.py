"""Fixtures shared by every app's tests: users per role, an active playbook, an API client with tokens."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from smarketing.core import clock


@pytest.fixture(autouse=True)
def _release_clock():
    yield
    clock.freeze(None)


@pytest.fixture
def users(db) -> dict[str, Any]:
    from smarketing.team.services import user_create

    return {role: user_create(username=f"{role}1", password="pw", role=role, email=f"{role}1@example.com")
            for role in ("marketing", "sales", "revops", "viewer")}


@pytest.fixture
def v1_january_v2_march(users):
    """Two playbook versions in force one after the other: v1 adopted on 1 January 2026 09:00 UTC, v2 signed off by
    both sides on 1 March 09:00; the clock is left at 5 June 09:00 (today)."""
    from datetime import UTC, datetime

    from smarketing.playbook.selectors import default_playbook_data
    from smarketing.playbook.services import playbook_bootstrap, playbook_draft_create, playbook_sign_off

    clock.freeze(datetime(2026, 1, 1, 9, tzinfo=UTC))
    v1 = playbook_bootstrap()
    clock.freeze(datetime(2026, 3, 1, 9, tzinfo=UTC))
    v2 = playbook_draft_create(content=default_playbook_data())
    playbook_sign_off(version=v2, user=users["marketing"])
    playbook_sign_off(version=v2, user=users["sales"])
    clock.freeze(datetime(2026, 6, 5, 9, tzinfo=UTC))
    return v1, v2


@pytest.fixture
def active_playbook(db):
    """The shipped default adopted as v1, as `smarketing migrate` does on a new database."""
    from smarketing.playbook.services import playbook_bootstrap

    return playbook_bootstrap()


class ApiClient:
    """A test client that sends a bearer token for a role."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.client = Client()
        self.tokens = tokens

    def _headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}

    def get(self, path: str, role: str | None = "revops", **params: Any) -> Any:
        return self.client.get(path, params, headers=self._headers(role))

    def post(self, path: str, body: Any, role: str | None = "revops") -> Any:
        return self.client.post(path, body, content_type="application/json", headers=self._headers(role))

    def patch(self, path: str, body: Any, role: str | None = "revops") -> Any:
        return self.client.patch(path, body, content_type="application/json", headers=self._headers(role))

    def delete(self, path: str, role: str | None = "revops") -> Any:
        return self.client.delete(path, headers=self._headers(role))


@pytest.fixture
def api(users) -> ApiClient:
    from smarketing.team.services import api_token_create

    return ApiClient({role: api_token_create(user=u, name="test")[1] for role, u in users.items()})
