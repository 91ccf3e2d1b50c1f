"""Notification emails through a real SMTP server started on 127.0.0.1 (aiosmtpd): each one after commit through
the task queue, or a daily digest that collects a day's unread notifications once."""

from __future__ import annotations

import email
import socket
from datetime import UTC, date, datetime
from email.message import Message
from typing import Any

import pytest
from django_tasks_db.models import DBTaskResult

from smarketing.core import clock
from smarketing.lifecycle.models import Notification
from smarketing.lifecycle.services_notification_email import notification_digest_send
from smarketing.lifecycle.services_notifications import notification_create
from smarketing.lifecycle.tasks_notifications import notification_email_send, notifications_digest_schedule
from smarketing.settings.env import Smtp
from smarketing.team.services import user_update

DAY = date(2026, 12, 3)
AT = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


class Inbox:
    """Messages the local SMTP server accepted: (recipients, parsed message)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append((list(envelope.rcpt_tos), email.message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp(settings):
    from aiosmtpd.controller import Controller

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.SMARKETING_SMTP = Smtp(host="127.0.0.1", port=port, user="", password="", sender="smk@example.com",
                                    tls="off")
    yield inbox
    controller.stop()


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode()


def test_an_immediate_notification_is_emailed_after_commit_through_the_queue(users, smtp,
                                                                           django_capture_on_commit_callbacks):
    # given a seller who wants each notification by email
    seller = user_update(user=users["sales"], data={"email_notifications": "immediate"})
    # when a notification is created and its transaction commits
    with django_capture_on_commit_callbacks(execute=True):
        row = notification_create(user_id=seller.pk, kind="assigned", title="New MQL: Ada Lovelace",
                                  body="Routed to you by region EMEA.", at=AT)
    assert row is not None and smtp.messages == []  # nothing is sent inside the transaction
    # then one task is queued for it, and running it delivers the email
    [queued] = DBTaskResult.objects.filter(task_path=notification_email_send.module_path)
    assert queued.args_kwargs["args"] == [row.pk]
    assert notification_email_send.call(row.pk) == {"notification_id": row.pk, "sent": True}
    [(to, message)] = smtp.messages
    assert to == ["sales1@example.com"] and message["To"] == "sales1@example.com"
    assert message["From"] == "smk@example.com"
    assert message["Subject"] == "[smarketing] New MQL: Ada Lovelace"
    body = _body(message)
    assert "Lead assigned: New MQL: Ada Lovelace" in body and "Routed to you by region EMEA." in body
    # and a second run of the task sends nothing more
    assert notification_email_send.call(row.pk)["sent"] is False
    assert len(smtp.messages) == 1


def test_a_failed_send_is_released_and_retried_later(users, settings):
    # given a seller who wants each notification, and an SMTP server that refuses connections
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.SMARKETING_SMTP = Smtp(host="127.0.0.1", port=port, user="", password="", sender="smk@example.com",
                                    tls="off")
    seller = user_update(user=users["sales"], data={"email_notifications": "immediate"})
    row = notification_create(user_id=seller.pk, kind="assigned", title="New MQL", at=AT)
    clock.freeze(AT)
    # when the task runs, it fails, leaves the notification unsent and queues its next attempt
    with pytest.raises(OSError):
        notification_email_send.call(row.pk)
    row.refresh_from_db()
    assert row.emailed_at is None
    [retry] = DBTaskResult.objects.filter(task_path=notification_email_send.module_path, status="READY")
    assert retry.args_kwargs["args"] == [row.pk, 2] and retry.run_after == datetime(2026, 12, 3, 9, 35, tzinfo=UTC)


def test_no_email_is_queued_for_a_digest_user_or_without_smtp(users, settings, django_capture_on_commit_callbacks):
    user_update(user=users["sales"], data={"email_notifications": "immediate"})
    settings.SMARKETING_SMTP = None
    with django_capture_on_commit_callbacks(execute=True):
        notification_create(user_id=users["sales"].pk, kind="assigned", title="No SMTP")
        notification_create(user_id=users["marketing"].pk, kind="assigned", title="Digest user")  # default: digest
    assert not DBTaskResult.objects.filter(task_path=notification_email_send.module_path).exists()


def test_the_daily_digest_collects_a_days_unread_notifications_once(users, smtp):
    # given a marketer on the daily digest (the default) with notifications on the 3rd and the 4th, one read
    marketer = users["marketing"]
    for hour, title in ((8, "SLA breached: first touch on Ada"), (17, "Lead reassigned: Bob")):
        notification_create(user_id=marketer.pk, kind="sla_breach", title=title, at=AT.replace(hour=hour))
    read = notification_create(user_id=marketer.pk, kind="assigned", title="Already read", at=AT)
    Notification.objects.filter(pk=read.pk).update(read_at=AT)
    notification_create(user_id=marketer.pk, kind="assigned", title="Next day", at=datetime(2026, 12, 4, 1, tzinfo=UTC))
    # when the digest of the 3rd runs
    result = notification_digest_send(day=DAY, now=datetime(2026, 12, 4, 6, tzinfo=UTC))
    # then one email lists that day's two unread notifications, oldest first
    assert result.sent == [{"user": "marketing1", "email": "marketing1@example.com", "notifications": 2}]
    [(to, message)] = smtp.messages
    assert to == ["marketing1@example.com"]
    assert message["Subject"] == "[smarketing] Your digest for 2026-12-03: 2 notifications"
    body = _body(message)
    assert body.index("08:30 UTC  SLA breached: SLA breached: first touch on Ada") < body.index("Lead reassigned: Bob")
    assert "Already read" not in body and "Next day" not in body
    # and running it again sends nothing: the day was collected once
    again = notification_digest_send(day=DAY)
    assert again.sent == [] and len(smtp.messages) == 1


def test_the_digest_command_sends_the_day_and_the_worker_schedules_the_daily_run(users, smtp):
    from typer.testing import CliRunner

    from smarketing.cli import build_app

    notification_create(user_id=users["revops"].pk, kind="escalation", title="Escalated: Ada", at=AT)
    out = CliRunner().invoke(build_app(), ["notifications", "digest", "--day", "2026-12-03"])
    assert out.exit_code == 0, out.output
    assert "digest for 2026-12-03: 1 sent, 0 failed" in out.output
    assert [to for to, _ in smtp.messages] == [["revops1@example.com"]]
    bad = CliRunner().invoke(build_app(), ["notifications", "digest", "--day", "3 Dec"])
    assert bad.exit_code != 0 and "is not a date like 2026-12-04" in str(bad.exception)
    # the worker puts one daily run on the queue, at the next 06:00 UTC
    clock.freeze(AT)
    assert notifications_digest_schedule() is True and notifications_digest_schedule() is False
    [run] = DBTaskResult.objects.filter(status="READY", task_path__endswith="notifications_digest")
    assert run.run_after == datetime(2026, 12, 4, 6, tzinfo=UTC)


@pytest.mark.parametrize(("env", "message"), [
    ({"SMARKETING_SMTP_HOST": "mail.example.com"}, "SMARKETING_SMTP_FROM"),
    ({"SMARKETING_SMTP_HOST": "mail.example.com", "SMARKETING_SMTP_FROM": "a@b.c", "SMARKETING_SMTP_TLS": "maybe"},
     "SMARKETING_SMTP_TLS"),
    ({"SMARKETING_SMTP_HOST": "mail.example.com", "SMARKETING_SMTP_FROM": "a@b.c", "SMARKETING_SMTP_PORT": "70000"},
     "SMARKETING_SMTP_PORT"),
    ({"SMARKETING_SMTP_HOST": "mail.example.com", "SMARKETING_SMTP_FROM": "a@b.c", "SMARKETING_SMTP_USER": "u"},
     "SMARKETING_SMTP_PASSWORD"),
])
def test_bad_smtp_settings_stop_start_up_naming_the_variable(monkeypatch, tmp_path, env, message):
    from smarketing.settings.env import ConfigError, load

    monkeypatch.setenv("SMARKETING_DATA_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        load()


def test_smtp_is_off_without_a_host_and_ssl_defaults_to_port_465(monkeypatch, tmp_path):
    from smarketing.settings.env import load

    monkeypatch.setenv("SMARKETING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("SMARKETING_SMTP_HOST", raising=False)
    assert load().smtp is None
    monkeypatch.setenv("SMARKETING_SMTP_HOST", "mail.example.com")
    monkeypatch.setenv("SMARKETING_SMTP_FROM", "smk@example.com")
    monkeypatch.setenv("SMARKETING_SMTP_TLS", "ssl")
    assert load().smtp == Smtp(host="mail.example.com", port=465, user="", password="", sender="smk@example.com",
                               tls="ssl")
