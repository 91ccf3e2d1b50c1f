"""The layout every page shares, error pages included: the skip link, the navigation with its phone menu button, and
the user's menu stay on 403, 404 and 500 pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client, RequestFactory

from smarketing.web.views.errors import server_error


def _has_layout(html: str, username: str) -> None:
    assert '<html lang="en">' in html
    assert 'class="skip" href="#main"' in html
    assert 'id="main"' in html
    assert 'aria-label="Main"' in html and 'href="/funnel/' in html, "the navigation is there"
    assert f">{username}</a>" in html, "the user's menu is there"
    # the phone menu's button names the navigation it opens and says it is closed (app.js shows it)
    assert re.search(r'<button id="menu-toggle"[^>]* type="button" aria-expanded="false" aria-controls="mainnav"', html)
    assert '<nav id="mainnav"' in html


def test_a_refused_page_keeps_the_navigation_and_says_why(login, users):
    # given a viewer, who may not edit playbook drafts
    # when they open the draft editor
    response = login("viewer").get("/playbook/new/")
    # then the 403 page is in the layout, and names what they may not do and their role
    assert response.status_code == 403
    html = response.content.decode()
    _has_layout(html, users["viewer"].username)
    assert re.search(r"can edit playbook drafts; you are signed in as Viewer", html)


@pytest.mark.parametrize(("path", "said"), [
    ("/no-such-page/", "There is no page at this address"),
    ("/contacts/987654/", "987654"),  # the page's own reason names the record
])
def test_a_missing_page_is_a_404_in_the_layout(login, users, path, said):
    response = login("revops").get(path)
    assert response.status_code == 404
    html = response.content.decode()
    _has_layout(html, users["revops"].username)
    assert "<h1>Page not found</h1>" in html and said in html


def test_a_404_for_someone_not_logged_in_has_no_navigation(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'aria-label="Main"' not in html


def test_a_server_error_renders_in_the_layout(users):
    request = RequestFactory().get("/")
    request.user = users["marketing"]
    response = server_error(request)
    assert response.status_code == 500
    _has_layout(response.content.decode(), users["marketing"].username)


def test_a_server_error_that_breaks_the_layout_too_is_still_a_page():
    # given a request whose user cannot be read (as when the database is down)
    class Broken:
        @property
        def is_authenticated(self) -> bool:
            raise RuntimeError("database is down")

    request = RequestFactory().get("/")
    request.user = Broken()
    # then the 500 is a bare page, not a second traceback
    response = server_error(request)
    assert response.status_code == 500
    html = response.content.decode()
    assert '<html lang="en">' in html and "<h1>Server error</h1>" in html


def test_a_form_sent_without_its_csrf_token_is_refused_in_the_layout(users):
    # given a logged-in marketer whose page has expired (the form's token is missing)
    client = Client(enforce_csrf_checks=True)
    client.force_login(users["marketing"])
    # when the form is sent
    response = client.post("/me/", {"name": "laptop", "days": "30"})
    # then the refusal keeps the layout and says what to do
    assert response.status_code == 403
    html = response.content.decode()
    _has_layout(html, users["marketing"].username)
    assert "Reload the page and send it again" in html
