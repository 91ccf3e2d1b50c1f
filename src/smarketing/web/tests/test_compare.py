"""Comparison with the previous period on the pages: each figure shows the same measure for the previous period
(a link to its records) and its change, equal to `smarketing metrics --compare prev --json`."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest

from smarketing.web.tests.test_measures_agree import _cli_json, figures, same


class _Deltas(HTMLParser):
    """Every change a page shows: (measure, data-delta)."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if "data-delta" in a:
            self.found.append((a.get("data-delta-of") or "", a["data-delta"] or ""))


def deltas(html: str) -> list[tuple[str, str]]:
    parser = _Deltas()
    parser.feed(html)
    return parser.found


@pytest.fixture
def two_quarters(world):
    """Given the world's Q4 2026 and, in Q3 2026, one more contact who became an MQL."""
    from smarketing.lifecycle.enums import ActorKind
    from smarketing.lifecycle.services import stage_change_record
    from smarketing.testing.factories import ContactFactory

    earlier: Any = ContactFactory(account=world["account"], lead_source="webinar",
                                  first_seen_at=datetime(2026, 8, 3, 14, tzinfo=UTC))
    for day, stage in ((3, "lead"), (6, "mql")):
        stage_change_record(contact=earlier, to_stage=stage, occurred_at=datetime(2026, 8, day, 14, tzinfo=UTC),
                            actor_kind=ActorKind.SYSTEM)
    return world


def test_the_scoreboard_compares_q4_with_q3_as_the_cli_does(two_quarters, login):
    # when the scoreboard is opened for Q4 2026 compared with the previous period
    html = login("viewer").get("/", {"period": "2026-Q4", "compare": "prev"}).content.decode()
    # then it says what it compares with and shows changes of measures
    assert "compared with Q3 2026" in html
    shown = {name: value for name, value in deltas(html) if name}
    assert {"revenue_won", "mqls_entered", "cohort_entered", "cohort_reached_mql"} <= set(shown)
    # and each change is the CLI's for the same comparison
    cli = {m["name"]: m["change"] for m in _cli_json("metrics", "--period", "2026-Q4", "--compare", "prev")["measures"]}
    assert all(same(value, cli[name]["delta"]) for name, value in shown.items()), (shown, cli)
    assert cli["mqls_entered"]["previous"] == 1 and cli["mqls_entered"]["direction"] == "up"
    # and the previous values are figures of Q3 2026 that open their records
    previous = [f for f in figures(html) if "period=2026-Q3" in f[2]]
    assert ("mqls_entered", "1.0") in {(name, value) for name, value, _href in previous}
    # and the direction is in words and an arrow, not only a colour
    assert re.search(r"▲</span> up \+\d", html)


def test_the_funnel_and_campaigns_compare_when_asked_and_not_otherwise(two_quarters, login):
    client = login("viewer")
    # when the funnel is compared: each stage's volume, conversion and velocity carry a change against Q3
    funnel = client.get("/funnel/", {"period": "2026-Q4", "compare": "prev"}).content.decode()
    assert "Compared with the cohort entering in Q3 2026" in funnel
    names = [name for name, _ in deltas(funnel)]
    assert "cohort_entered" in names and "" in names  # measures, and the funnel query's conversion/velocity
    # and the campaigns list shows the campaign measures' changes
    campaigns = client.get("/campaigns/", {"period": "2026-Q4", "compare": "prev"}).content.decode()
    assert "compared with Q3 2026" in campaigns
    assert {"campaign_attributed_pipeline", "campaign_roi"} <= {name for name, _ in deltas(campaigns)}
    # and switching the comparison off (the address says compare=off) shows no change anywhere
    plain = client.get("/campaigns/", {"period": "2026-Q4", "compare": "off"}).content.decode()
    assert deltas(plain) == [] and "compared with" not in plain


def test_the_api_compares_too(two_quarters, api):
    got = api.get("/api/metrics", role="viewer", period="2026-Q4", compare="prev", name="mqls_entered")
    assert got.status_code == 200, got.content
    body = got.json()
    assert body["previous"]["key"] == "2026-Q3" and body["measures"][0]["change"]["previous"] == 1
    bad = api.get("/api/metrics", role="viewer", period="2026-Q4", compare="next")
    assert bad.status_code == 422 and "compare" in bad.content.decode()
