"""Feedback trend sparklines: dated weeks that end today while the period runs, never in the future."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

from smarketing.core import clock
from smarketing.feedback.services import feedback_record
from smarketing.feedback.theme_services import themes_rebuild


def test_theme_sparklines_are_dated_weeks_ending_today(world, login):
    # given feedback last week and a theme run, in the middle of Q4
    clock.freeze(datetime(2026, 11, 20, 12, tzinfo=UTC))
    for text in ("The per-seat price is too high for them.", "Per-seat price again, too high for a team of 40."):
        feedback_record(kind="objection", text=text, occurred_at=clock.now() - timedelta(days=2))
    themes_rebuild(backend="tfidf")
    # when marketing open the feedback page for the running quarter
    response = login("marketing").get("/feedback/", {"period": "2026-Q4"})
    # then each sparkline's weeks are dates, the last one the week up to today, and the items fall in it
    sparks = list(response.context["sparks"].values())
    assert sparks
    spec = json.loads(re.search(r'<script type="application/json">(.*?)</script>', sparks[0], re.S).group(1))
    weeks = spec["xAxis"]["data"]
    assert (weeks[0], weeks[-1], len(weeks)) == ("25 Sep", "13 Nov", 8)
    last_week = [json.loads(re.search(r'<script type="application/json">(.*?)</script>', s, re.S).group(1))
                 ["series"][0]["data"][-1]["value"] for s in sparks]
    assert sum(last_week) >= 2
    assert "trend: 8 weeks to today" in response.content.decode()
