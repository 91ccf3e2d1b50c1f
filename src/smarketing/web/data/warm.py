"""Warm the scoreboard's figures on the task queue when someone opens the login page, so the first page after
logging in does not wait for analytics over a large CRM; and warm the web process itself (its URL routes, the API,
the analytics kernels and the page templates load on first use, seconds of imports the first visitor would wait
for)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from smarketing.web.lazy_views import IMPORT_LOCK, lazy_views_load

log = logging.getLogger(__name__)
WARM_KEY = "warm:scoreboard"
_preloaded = threading.Event()
_preload_started = threading.Event()
# The lock a view's first import takes too (web.lazy_views): the preload, the API's build and those imports never
# run at once.
_preload_lock = IMPORT_LOCK
_api_building = threading.Event()


def preload() -> None:
    """Load what the first requests would otherwise load: URL routes, the pages' views, the API (its schemas), the
    analytics kernels and the scoreboard's templates. Once per process; a second call returns at once."""
    with _preload_lock:
        if _preloaded.is_set():
            return
        from django.template.loader import get_template

        _load_routes()
        lazy_views_load()  # the pages' view modules, which the URL conf names without importing them

        import smarketing.analytics.kernels  # noqa: F401 - imported for its load time, not a name

        for name in ("web/scoreboard.html", "web/login.html"):
            get_template(name)
        _preloaded.set()


def _load_routes() -> None:
    from django.urls import get_resolver

    from smarketing.api_urls import api_patterns

    get_resolver().url_patterns  # noqa: B018 - loads the URL conf (the admin's modules; the pages' views are lazy)
    api_patterns()  # the API is built on first use, not with the other routes


def preload_api() -> None:
    """Load the URL routes and build the API under the preload's lock, for a request under /api/ that arrives before
    the API is built: it does no more (an API client need not wait for the kernels and templates), and requests
    arriving meanwhile wait for it (`preload_wait`) as for the background preload."""
    _api_building.set()
    try:
        with _preload_lock:
            _load_routes()
    finally:
        _api_building.clear()


def preload_in_background() -> None:
    """Start `preload` on a daemon thread unless it ran already (the login page calls it while the user types)."""
    if not _preloaded.is_set():
        _preload_started.set()
        threading.Thread(target=preload, name="smarketing-preload", daemon=True).start()


def preload_wait() -> None:
    """Return once a preload started on the background thread, or the API's build (`preload_api`), has finished
    (at once when none is running).

    Why: a request importing the analytics kernels while that thread imports them can fail with "partially
    initialized module" (the kernels package and its modules import each other, and two threads taking their
    import locks in opposite orders make Python hand one of them a half-loaded module)."""
    if _preload_started.is_set() and not _preloaded.is_set():
        preload()  # waits on the lock the running preload holds, then returns at once
    elif _api_building.is_set():
        with _preload_lock:  # held while a request builds the API
            pass


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
        metrics(period, names=scoreboard.SCOREBOARD_MEASURES)
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


def worker_warm() -> dict[str, Any] | None:
    """In a worker about to take tasks, on a CRM whose figures the worker computes: this quarter's scoreboard and
    journeys computed once more, inline, through the memo the worker carries from one figure to the next
    (`common.recomputing`), so the worker reads now what the figures keep of the whole history (each level's touches,
    funnel timelines, MQL decisions, SLA events, journey events) and the first figure of a new period a page asks it
    for is a slice of them. Each worker keeps its own: on the large demo a worker that had not read the journey events
    took 1.8 s for a journeys figure the other worker computed in 0.1 s. None when the pages compute their figures
    themselves (a small CRM) or there is nothing to compute yet (no active playbook)."""
    import time

    from smarketing.core.errors import DomainError
    from smarketing.web.data import common, pages
    from smarketing.web.periods import current_quarter_key, parse_period

    if common.contact_count() <= common.INLINE_MAX_CONTACTS:
        return None
    started = time.perf_counter()
    try:
        with common.recomputing():
            result = warm()
            pages.journeys(period=parse_period(current_quarter_key()))
    except DomainError as exc:
        log.info("the worker read nothing ahead: %s", exc.message)
        return None
    return {**result, "seconds": round(time.perf_counter() - started, 2)}


def warm_async(*, priority: int = 0) -> bool:
    """Queue a warm-up unless one is already queued for the current data; returns whether one was queued."""
    from smarketing.web.data.common import claim, data_version
    from smarketing.web.tasks import scoreboard_warm_task

    if not claim(key=WARM_KEY, name="warm", version=data_version()):
        return False
    scoreboard_warm_task.using(priority=priority).enqueue()
    return True
