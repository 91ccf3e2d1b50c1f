"""Background work of the web pages, on the "default" queue (run `smarketing worker`)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django_tasks import task

log = logging.getLogger(__name__)


@task(queue_name="default")
def figure_compute_task(kind: str, spec_json: str, version: str) -> dict[str, Any]:
    """Compute an analytics query kind for a page and store it in the shared figure cache."""
    from smarketing.core.errors import DomainError
    from smarketing.web.data.common import compute_query

    started = time.perf_counter()
    try:
        compute_query(kind=kind, spec_json=spec_json, version=version)
        outcome = {"version": version}
    except DomainError as exc:  # stored for the page, which shows the message; not a task failure
        outcome = {"error": exc.message}
    # The seconds are kept with the task's result: which figures make a page wait.
    return {"kind": kind, **outcome, "seconds": round(time.perf_counter() - started, 3)}


@task(queue_name="default")
def scoreboard_warm_task() -> dict[str, Any]:
    """Compute the scoreboard's figures for this quarter, so the first page after logging in does not wait."""
    from smarketing.web.data.warm import warm

    return warm()


@task(queue_name="default")
def figures_refresh_task() -> dict[str, Any]:
    """Queue again, for the current data, the figures pages showed recently (after the history store caught up)."""
    from smarketing.web.data.refresh import figures_refresh

    return figures_refresh()


def store_caught_up_hook(copied: int) -> None:
    """Registered in the store's CAUGHT_UP_HOOKS (`WebConfig.ready`): the figures viewed recently are refreshed soon.
    Here, not in `web.data.refresh`, so registering it when Django sets up loads none of the pages' modules."""
    from smarketing.web.data.refresh import figures_refresh_soon

    figures_refresh_soon(copied)
