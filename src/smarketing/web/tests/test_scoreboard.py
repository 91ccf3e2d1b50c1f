"""The scoreboard's SLA card and week-over-week changes read the measures and judge pacing, never a whole target
before the period ends."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from smarketing.core import clock


def _sla_card(html: str) -> str:
    return html[html.index('id="h-sla"'):html.index('id="h-funnel"')]


def _statuses(card: str) -> list[str]:
    return re.findall(r'<span class="pill (?:ok|bad)">([^<]+)</span>', card)


def test_a_running_period_is_on_pace_or_behind_pace_never_missed(world, login):
    # given Q4 2026 about half way through (five MQLs against a commitment of 120 a month)
    # when the scoreboard shows it
    card = _sla_card(login("marketing").get("/", {"period": "2026-Q4"}).content.decode())
    # then every verdict is about pace, and marketing's volume is behind the commitment prorated to date
    assert set(_statuses(card)) <= {"on pace", "behind pace"}
    assert "missed" not in card
    volume = card[card.index("MQL volume"):]
    assert re.search(r'data-measure="mqls_entered" data-value="5.0"', volume)
    assert 'data-measure="mql_volume_target_to_date"' in volume
    assert _statuses(volume)[0] == "behind pace"


def test_an_ended_period_is_met_or_missed(world, login):
    # given October 2026, over by the frozen "now" (20 November)
    # when the scoreboard shows it
    card = _sla_card(login("marketing").get("/", {"period": "2026-10"}).content.decode())
    # then the verdicts are final: five MQLs missed a commitment of 120 for the month
    volume = card[card.index("MQL volume"):]
    assert _statuses(volume)[0] == "missed"
    assert "for the whole period" in volume


@pytest.mark.parametrize("period", ["2026-Q4", "2026-10"])
def test_sla_card_figures_are_the_measures_with_their_links(world, login, period):
    # when
    card = _sla_card(login("sales").get("/", {"period": period}).content.decode())
    # then each actual is a measure linking to its records for the period
    for name in ("first_touch_within_sla", "decision_within_sla", "mqls_entered", "mql_acceptance_rate"):
        assert re.search(rf'href="/metrics/{name}/\?period={period}" data-measure="{name}"', card), name


def test_what_changed_reads_the_last_7_days_against_the_7_days_before(world, login):
    # given a contact that became an MQL yesterday (the world's "now" is Friday 20 November 2026)
    from smarketing.lifecycle.enums import ActorKind
    from smarketing.lifecycle.services import stage_change_record

    clock.freeze(datetime(2026, 11, 20, 15, tzinfo=UTC))
    stage_change_record(contact=world["contacts"][5], to_stage="mql", occurred_at=datetime(2026, 11, 19, tzinfo=UTC),
                        actor_kind=ActorKind.SYSTEM)
    # when
    html = login("marketing").get("/").content.decode()
    changes = html[html.index('id="h-changes"'):html.index('id="h-camp"')]
    # then the MQL shows in the last 7 days, against the seven days from 6 to 12 November, each linked to records
    assert "6 Nov 2026 – 12 Nov 2026" in changes
    assert 'href="/metrics/mqls_entered/?period=last-7d" data-measure="mqls_entered" data-value="1.0"' in changes
    assert ('href="/metrics/mqls_entered/?period=2026-11-06..2026-11-12" data-measure="mqls_entered" '
            'data-value="0.0"') in changes
