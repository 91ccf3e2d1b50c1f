"""Linear attribution and the linear ROI, read straight off the sorted touches, give the very figures of the gathered
journeys: a one-weight custom model splits every journey 1/n through the gathered path, so the two must agree to
the last digit, at both levels, for every conversion, credit and window, with channels outside the channel list,
touches without a campaign and touches whose account comes from their contact."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from smarketing.analytics.engine import open_engine
from smarketing.analytics.queries.attribution import AttributionQuery
from smarketing.analytics.queries.roi import RoiQuery
from smarketing.analytics.queries.touches import subject_touches
from smarketing.analytics.registry import run_query
from smarketing.lifecycle.services import stage_change_record
from smarketing.testing.factories import (
    AccountFactory,
    CampaignFactory,
    ContactFactory,
    OpportunityFactory,
    TouchpointFactory,
)

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SAME_AS_LINEAR = {"model": "custom", "weights": (1.0,)}


@pytest.fixture
def committees(active_playbook):
    """Three accounts and a contact without one; touches of six channels (one, "podcast", outside the channel list),
    some without a campaign, some recorded without their contact's account; several deals per account, won, lost
    and open, opened and closed between the touches; MQLs and SQLs reached along the way."""
    accounts = [AccountFactory(name=n) for n in ("Acme", "Globex", "Initech")]
    campaigns = [CampaignFactory(name=n, channel=c) for n, c in (("Search", "paid_search"), ("Summit", "event"),
                                                                 ("Guide", "content"))]
    channels = ["paid_search", "event", "content", "email", "podcast", "webinar"]
    contacts = [ContactFactory(account=accounts[i % 3] if i < 9 else None) for i in range(10)]
    for i, contact in enumerate(contacts):
        for k in range(3 + i % 4):
            TouchpointFactory(contact=contact, campaign=None if (i + k) % 4 == 0 else campaigns[(i + k) % 3],
                              channel=channels[(i * 2 + k) % len(channels)], kind="ad_click",
                              account=None if (i + k) % 5 == 0 else contact.account,
                              occurred_at=T0 + timedelta(days=3 * k + i, hours=i))
        if i % 3 != 2:
            stage_change_record(contact=contact, to_stage="mql", occurred_at=T0 + timedelta(days=4 + i))
        if i % 3 == 0:
            stage_change_record(contact=contact, to_stage="sql", occurred_at=T0 + timedelta(days=8 + i))
    for n, acc in enumerate(accounts):
        for d in range(1 + n):
            outcome = ("won", "lost", "open")[(n + d) % 3]
            OpportunityFactory(account=acc, primary_contact=contacts[n + 3 * d], amount=1000 * (d + 1) + 7 * n,
                               opened_at=T0 + timedelta(days=5 + 4 * d + n),
                               closed_at=None if outcome == "open" else T0 + timedelta(days=12 + 3 * d + n),
                               outcome=outcome, stage={"won": "closed_won", "lost": "closed_lost",
                                                       "open": "proposal"}[outcome])
    return accounts


def _figures(result) -> dict:
    body = result.model_dump(mode="json")
    for k in ("query", "weights", "definition", "data_as_of"):
        body.pop(k, None)
    return body


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
@pytest.mark.parametrize(("conversion", "credit"), [("opportunity_created", "conversions"),
                                                    ("opportunity_created", "pipeline"),
                                                    ("opportunity_won", "revenue"), ("mql", "conversions"),
                                                    ("sql", "pipeline")])
@pytest.mark.parametrize("window_days", [None, 6.5])
def test_linear_credits_the_same_figures_as_the_gathered_journeys(committees, level, conversion, credit,
                                                                   window_days):
    # Given the committees' journeys
    spec = {"level": level, "conversion": conversion, "credit": credit, "window_days": window_days}
    # When linear is computed off the sorted touches, and the same 1/n split through gathered journeys
    linear = run_query(AttributionQuery.model_validate({"model": "linear", **spec}))
    gathered = run_query(AttributionQuery.model_validate({**SAME_AS_LINEAR, **spec}))
    # Then every figure is the same, and linear still shows its own weights
    assert _figures(linear) == _figures(gathered)
    assert linear.weights == {"model": "linear", "each_touch": "1/n"}
    assert linear.touches > 0 and linear.channels


@pytest.mark.django_db
@pytest.mark.parametrize("level", ["contact", "account"])
def test_linear_roi_is_the_roi_of_the_gathered_journeys(committees, level):
    # When the linear ROI is computed off the sorted touches, and the same 1/n split through gathered journeys
    linear = run_query(RoiQuery.model_validate({"model": "linear", "level": level}))
    gathered = run_query(RoiQuery.model_validate({**SAME_AS_LINEAR, "level": level}))
    # Then every campaign's figures and the totals are the same, influence included
    assert linear.model_dump(mode="json")["campaigns"] == gathered.model_dump(mode="json")["campaigns"]
    assert linear.total == gathered.total
    assert linear.total.revenue > 0 and linear.total.pipeline_influenced > 0
    assert any(r.name == "(no campaign)" for r in linear.campaigns)


@pytest.mark.django_db
def test_a_channel_outside_the_list_keeps_its_own_name(committees):
    # Given touches recorded with "podcast", which is not one of the channels the engine codes
    with open_engine() as engine:
        touches = subject_touches(engine, "contact")
    # Then it is coded like the others and named by its text
    names = [touches.channel_names[c] for c in touches.channel]
    assert "podcast" in names and "email" in names
    result = run_query(AttributionQuery(model="linear", level="contact", conversion="mql"))
    assert "podcast" in {r.key for r in result.channels}


@pytest.mark.parametrize("ids", [[7, None, 3, 7, 12, None, 3], [None, None], [], [5, None, 10**15, 5]])
def test_campaign_ids_are_coded_in_sorted_order_with_no_campaign_last(ids):
    import numpy as np
    import pyarrow as pa

    from smarketing.analytics.queries.touches import NO_CAMPAIGN, _campaign_index

    # Given campaign ids, some missing (dense ids take the compiled table, sparse ones the sorted search), taken
    # in reverse order
    order = np.arange(len(ids), dtype=np.int64)[::-1].copy()
    codes, names = _campaign_index(pa.array(ids, pa.int64()), order)
    # Then each touch, in that order, names its campaign, and a touch without one names NO_CAMPAIGN, the last name
    assert [names[c] for c in codes] == [NO_CAMPAIGN if i is None else str(i) for i in ids[::-1]]
    assert names[-1] == NO_CAMPAIGN and list(names[:-1]) == [str(i) for i in sorted({i for i in ids if i is not None})]
    assert codes.dtype == np.int32


def test_subject_runs_start_where_the_subject_changes_and_key_by_run_and_time():
    import numpy as np

    from smarketing.analytics.kernels.ranges import run_keys

    # Given touches sorted by subject, then time
    subject = np.array([4, 4, 4, 9, 11, 11], dtype=np.int64)
    time = np.array([100, 100, 130, 90, 95, 140], dtype=np.int64)
    # When the runs are found with a band of 60 per run
    firsts, key = run_keys(subject, time, 90, 60)
    # Then each subject's run starts at its first touch and the keys rise through the runs
    assert firsts.tolist() == [0, 3, 4]
    assert key.tolist() == [10, 10, 40, 60, 125, 170]
