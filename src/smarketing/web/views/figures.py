"""The endpoint a page waiting for the analytics worker polls: have its figures been computed yet?"""

from __future__ import annotations

import threading
import time

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from smarketing.web.data.common import FIGURE_KEY, SETTLED_MAX_KEYS, figures_settled

# htmx's answers: 204 swaps nothing and the poll goes on; 286 stops the poll; the event tells the page to refresh.
STILL_COMPUTING = 204
STOP_POLLING = 286
READY_EVENT = "smk-figures-ready"
# The page polls as soon as it loads, then twice a second (web/_computing_poll.html). A poll that finds figures
# still being computed looks again every LOOK_EVERY seconds for up to WAIT_FOR seconds before answering 204: the page
# learns within a twentieth of a second that its figures are ready, instead of at its next poll (a quarter of a
# second later on average, half a second at worst; the first poll of a page polling only every half second came
# half a second after it loaded, whatever its figures took). A waiting poll holds one server thread and each look
# is one indexed query, so at most WAITING_MAX polls wait at once; the others answer at once.
WAIT_FOR = 4.0
LOOK_EVERY = 0.05
WAITING_MAX = 3
_waiting = threading.BoundedSemaphore(WAITING_MAX)


@login_required
@require_GET
def figures_ready(request: HttpRequest) -> HttpResponse:
    """204 while any of the figures `?k=<key>` (up to 64) is being computed (after waiting up to `WAIT_FOR` for
    them: `_settled_while_waiting`); once all are, 286 with the `smk-figures-ready` event, on which the page
    fetches itself once (web/_computing.html)."""
    keys = request.GET.getlist("k")
    if not keys or len(keys) > SETTLED_MAX_KEYS or not all(FIGURE_KEY.fullmatch(k) for k in keys):
        return HttpResponseBadRequest(f"k: give 1 to {SETTLED_MAX_KEYS} figure keys (64 hex digits each)")
    if not figures_settled(keys) and not _settled_while_waiting(keys):
        return HttpResponse(status=STILL_COMPUTING)
    return HttpResponse(status=STOP_POLLING, headers={"HX-Trigger": READY_EVENT})


def _settled_while_waiting(keys: list[str]) -> bool:
    """Whether the figures settle within `WAIT_FOR` (False at once when `WAITING_MAX` polls are waiting already)."""
    if not _waiting.acquire(blocking=False):
        return False
    try:
        deadline = time.monotonic() + WAIT_FOR
        while time.monotonic() < deadline:
            time.sleep(LOOK_EVERY)
            if figures_settled(keys):
                return True
        return False
    finally:
        _waiting.release()
