"""A worker starting on a CRM whose figures it computes reads ahead, through the memo it carries from one figure to
the next, what this quarter's scoreboard and journeys keep of the whole history (`web.data.warm.worker_warm`), so
the first figure of a new period a page asks it for is a slice of it; on a CRM whose pages compute their own
figures it reads nothing."""

from __future__ import annotations

import pytest

from smarketing.analytics.tests.test_metrics_kept import spread  # noqa: F401 - the shared fixture
from smarketing.analytics.tests.test_touches_cache import lake  # noqa: F401 - the shared fixture
from smarketing.web.data import common
from smarketing.web.data.warm import worker_warm
from smarketing.web.models import ComputedFigure

# What the scoreboard's and journeys' figures keep of the whole history (`analytics.queries.kept`).
READ_AHEAD = ("mql_decisions", "sales_sla_events", "cohort_steps", "journey_events:contact")


def _kept() -> set[str]:
    if common._carried is None:
        return set()
    return {key[1] for key in common._carried[1] if isinstance(key, tuple) and key[0] == "metrics:kept"}


@pytest.mark.django_db(transaction=True)
def test_a_worker_starting_reads_ahead_what_the_figures_keep_and_notes_no_view(spread, lake, monkeypatch):  # noqa: F811
    # given a CRM whose figures the worker computes, this quarter's scoreboard already computed and stored
    monkeypatch.setattr(common, "INLINE_MAX_CONTACTS", 0)
    common.clear()
    with common.recomputing():
        from smarketing.web.data.warm import warm

        warm()
    common.clear()  # a worker process just started: it keeps nothing
    assert _kept() == set()
    ComputedFigure.objects.update(viewed_at=None)
    # when the worker starts
    done = worker_warm()
    # then it computed the figures again (though stored) and keeps what they read of the whole history
    assert done is not None and done["seconds"] >= 0
    assert set(READ_AHEAD) <= _kept()
    # and no figure counts as viewed by a page
    assert not ComputedFigure.objects.exclude(viewed_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_on_a_crm_whose_pages_compute_their_figures_a_worker_reads_nothing_ahead(spread, lake):  # noqa: F811
    common.clear()
    assert common.contact_count() <= common.INLINE_MAX_CONTACTS
    assert worker_warm() is None
    assert _kept() == set()
