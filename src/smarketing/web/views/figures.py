"""The endpoint a page waiting for the analytics worker polls: have its figures been computed yet?"""

from __future__ import annotations

import time

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from smarketing.web.data.common import FIGURE_KEY, SETTLED_MAX_KEYS, figures_settled

# htmx's answers: 204 swaps nothing and the poll goes on; 286 stops the poll; the event tells the page to refresh.
STILL_COMPUTING = 204
STOP_POLLING = 286
READY_EVENT = "smk-figures-ready"
# A poll that finds figures still being computed looks again every LOOK_EVERY seconds for up to WAIT_FOR seconds
# before answering 204: the page learns within a twentieth of a second that its figures are ready, instead of at
# its next poll (a quarter of a second later on average, half a second at worst). A poll holds one server thread
# meanwhile; each look is one indexed query.
WAIT_FOR = 0.8
LOOK_EVERY = 0.05


@login_required
@require_GET
def figures_ready(request: HttpRequest) -> HttpResponse:
    """204 while any of the figures `?k=<key>` (up to 64) is being computed (after waiting up to `WAIT_FOR` for
    them); once all are, 286 with the `smk-figures-ready` event, on which the page fetches itself once
    (web/_computing.html)."""
    keys = request.GET.getlist("k")
    if not keys or len(keys) > SETTLED_MAX_KEYS or not all(FIGURE_KEY.fullmatch(k) for k in keys):
        return HttpResponseBadRequest(f"k: give 1 to {SETTLED_MAX_KEYS} figure keys (64 hex digits each)")
    deadline = time.monotonic() + WAIT_FOR
    while not figures_settled(keys):
        if time.monotonic() >= deadline:
            return HttpResponse(status=STILL_COMPUTING)
        time.sleep(LOOK_EVERY)
    return HttpResponse(status=STOP_POLLING, headers={"HX-Trigger": READY_EVENT})
