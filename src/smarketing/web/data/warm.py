"""Warm the scoreboard's figures on the task queue when someone opens the login page, so the first page after
logging in does not wait for analytics over a large CRM."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)
WARM_KEY = "warm:scoreboard"


def warm() -> dict[str, Any]:
    """Compute (inline, in the worker) what the scoreboard shows for this quarter."""
    from smarketing.web.data import common, funnel, goals, pages, scoreboard
    from smarketing.web.data.measures import metrics
    from smarketing.web.periods import current_quarter_key, parse_period
    from smarketing.web.views.campaigns import campaign_performance
    from smarketing.web.views.common import active_terms

    period = parse_period(current_quarter_key())
    _version, terms = active_terms()
    version = common.data_version()
    token = common.inline()
    try:
        metrics(period)
        fun = funnel.funnel(period=period)
        goals.goals_data(terms=terms, period=period)
        scoreboard.week_changes()
        pages.feedback_by_kind(period=period)
        campaign_performance(period=period, model="linear")
        common.store(key=WARM_KEY, name="warm", version=version)
    finally:
        common.inline_reset(token)
    log.info("warmed the scoreboard for %s (%d contacts in the cohort)", period.label, fun.cohort_size)
    return {"period": period.key, "cohort": fun.cohort_size}


def warm_async() -> bool:
    """Queue a warm-up unless one is already queued for the current data; returns whether one was queued."""
    from smarketing.web.data.common import claim, data_version
    from smarketing.web.tasks import scoreboard_warm_task

    if not claim(key=WARM_KEY, name="warm", version=data_version()):
        return False
    scoreboard_warm_task.enqueue()
    return True
