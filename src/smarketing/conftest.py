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
