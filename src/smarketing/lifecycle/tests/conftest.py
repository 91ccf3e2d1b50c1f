"""Fixtures for the lifecycle engine's tests: sellers in teams, qualifying contacts, playbook variants."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from smarketing.campaigns.models import Touchpoint
from smarketing.core import clock
from smarketing.crm.models import Contact
from smarketing.playbook.selectors import default_playbook_data
from smarketing.playbook.services import playbook_draft_create, playbook_sign_off
from smarketing.testing.factories import AccountFactory, CampaignFactory, ContactFactory, UserFactory

# Tuesday 24 Nov 2026, 10:00 in New York (the default playbook's calendar).
T0 = datetime(2026, 11, 24, 15, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    clock.freeze(T0)
    return T0


@pytest.fixture
def sellers(db, users) -> dict[str, Any]:
    """Two EMEA sellers (capacity 10 and 20 a week) and one Inbound seller, who report to the sales user (sales1,
    their manager, not routed: so sales1 decides on their MQLs)."""
    boss = users["sales"]
    return {
        "emea_a": UserFactory(username="emea_a", role="sales", team_name="EMEA", capacity_per_week=10, manager=boss),
        "emea_b": UserFactory(username="emea_b", role="sales", team_name="EMEA", capacity_per_week=20, manager=boss),
        "inbound": UserFactory(username="inbound", role="sales", team_name="Inbound", capacity_per_week=10,
                               manager=boss),
    }


@pytest.fixture
def make_lead(db) -> Callable[..., Contact]:
    """A contact that qualifies as MQL under the default playbook (fit 50 + a demo request 35), unless told not to."""

    def make(*, qualifies: bool = True, region: str = "EMEA", campaign: Any = None, owner: Any = None,
             at: datetime = T0, **contact: Any) -> Any:
        account: Any = AccountFactory(region=region, owner=owner)
        person: Any = ContactFactory(account=account, **contact)
        kind = "demo_request" if qualifies else "page_view"
        campaign = campaign or CampaignFactory()
        Touchpoint.objects.create(contact=person, account=account, campaign=campaign,
                                  channel="webinar", kind=kind, occurred_at=at)
        return person

    return make


@pytest.fixture
def playbook_with(users, active_playbook) -> Callable[[Callable[[dict[str, Any]], None]], Any]:
    """Adopt a changed copy of the default playbook (both teams sign it)."""

    def adopt(change: Callable[[dict[str, Any]], None]) -> Any:
        data = copy.deepcopy(default_playbook_data())
        change(data)
        draft = playbook_draft_create(content=data, created_by=users["revops"])
        playbook_sign_off(version=draft, user=users["marketing"])
        playbook_sign_off(version=draft, user=users["sales"])
        draft.refresh_from_db()
        return draft

    return adopt


class Receiver:
    """A real HTTP server on 127.0.0.1 that records webhook requests and answers with scripted status codes."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []  # consumed one per request; 200 when empty
        self.hold = threading.Event()  # when cleared by block(), requests wait until release()
        self.hold.set()
        self.arrived = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                receiver.requests.append({"headers": dict(self.headers), "body": body, "path": self.path})
                receiver.arrived.set()
                receiver.hold.wait(timeout=60)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                try:
                    self.send_response(status)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the sender died while we held the request

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/smarketing"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def block(self) -> None:
        self.hold.clear()

    def release(self) -> None:
        self.hold.set()

    def close(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # Why the allow-list: webhooks refuse loopback targets unless SMARKETING_WEBHOOK_ALLOW names them.
    settings.SMARKETING_WEBHOOK_ALLOW = ("127.0.0.1",)
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def mql(active_playbook, sellers, now, make_lead) -> Contact:
    """A lead qualified as MQL (routed, SLA clocks running) at T0."""
    from smarketing.lifecycle.services_handoff import mql_qualify

    lead = make_lead()
    mql_qualify(contact=lead)
    return lead


@pytest.fixture
def sla_pass() -> Callable[..., Any]:
    """One SLA check as the worker runs it: the pass, then the `sla_breach_act` task for each breach it recorded
    (the test's transaction never commits, so the on-commit enqueue is played here)."""
    from smarketing.lifecycle.services_sla_breach import sla_breach_act
    from smarketing.lifecycle.services_sla_check import sla_check_run

    def run(*, now: datetime, limit: int = 200) -> Any:
        result = sla_check_run(now=now, limit=limit)
        for event_id in result.breach_event_ids:
            sla_breach_act(event_id=event_id, now=now)
        return result

    return run


@pytest.fixture
def run_breach_acts() -> Callable[[], int]:
    """Run the `sla_breach_act` tasks waiting on the queue, as the worker would; returns how many ran."""
    from django_tasks_db.models import DBTaskResult

    from smarketing.lifecycle.tasks import sla_breach_act

    def run() -> int:
        waiting = list(DBTaskResult.objects.filter(task_path=sla_breach_act.module_path, status="READY"))
        for row in waiting:
            sla_breach_act.call(*row.args_kwargs["args"], **row.args_kwargs["kwargs"])
        return len(waiting)

    return run
