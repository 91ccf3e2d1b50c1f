"""Seeding the demo company into the database: complete, stamped with playbook versions, all or nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import authenticate
from typer.testing import CliRunner

from smarketing.campaigns.models import Campaign, Touchpoint
from smarketing.core import bulk, clock
from smarketing.core.errors import Conflict, ValidationFailed
from smarketing.crm.models import Account, Contact, Opportunity
from smarketing.demo.models import DemoSeed
from smarketing.demo.selectors import demo_truth_get
from smarketing.demo.services import demo_seed
from smarketing.feedback.models import FeedbackItem
from smarketing.lifecycle.models import StageChange
from smarketing.playbook.models import PlaybookVersion
from smarketing.team.models import User
from smarketing.testing.factories import ContactFactory


@pytest.mark.slow
def test_seeding_small_writes_the_whole_company_with_real_sign_off(db):
    # given an empty database
    calls = []
    # when the small demo is seeded
    result = demo_seed(size="small", seed=3, progress=lambda done, total, rows: calls.append((done, total, rows)))
    # then every table holds what the result reports
    assert result.counts["contacts"] == Contact.objects.count() >= 2000
    assert result.counts["accounts"] == Account.objects.count() == 400
    assert result.counts["touchpoints"] == Touchpoint.objects.count()
    assert result.counts["opportunities"] == Opportunity.objects.count()
    assert result.counts["stage_changes"] == StageChange.objects.count()
    assert result.counts["feedback"] == FeedbackItem.objects.count() >= 300
    assert Campaign.objects.filter(source="demo").count() == result.counts["campaigns"]
    assert calls and calls[-1][0] == calls[-1][1]
    # and v2 became active by one marketing and one sales sign-off, on the simulated switch day
    v1, v2 = PlaybookVersion.objects.order_by("number")
    assert v2.status == "active" and v1.status == "superseded"
    assert {s.side for s in v2.signoffs.all()} == {"marketing", "sales"}
    # and every stage change carries the version active when it happened
    assert not StageChange.objects.filter(playbook_version__isnull=True).exists()
    assert not StageChange.objects.filter(playbook_version=v1, occurred_at__gte=v2.activated_at).exists()
    assert not StageChange.objects.filter(playbook_version=v2, occurred_at__lt=v2.activated_at).exists()
    assert StageChange.objects.filter(playbook_version=v1).exists()
    # and one user per role can log in with the demo password
    for username, role in result.logins:
        user = authenticate(username=username, password="demo")
        assert user is not None and user.role == role
    assert {r for _, r in result.logins} == {"marketing", "sales", "revops", "viewer"}
    # and the cached stages agree with the history
    last = StageChange.objects.filter(contact__isnull=False).order_by("contact_id", "-occurred_at", "-id")
    latest = {}
    for change in last.values("contact_id", "to_stage"):
        latest.setdefault(change["contact_id"], change["to_stage"])
    stages = dict(Contact.objects.values_list("id", "lifecycle_stage"))
    assert all(stages[c] == s for c, s in latest.items())
    # and feedback is readable with its true theme
    truth = demo_truth_get()
    labelled = FeedbackItem.objects.filter(source="simulator").values_list("source_id", flat=True)
    assert set(labelled) == set(truth.feedback_themes)
    assert truth.campaigns_with_role("strong")
    # and the database can be written to normally afterwards (sequences moved past the explicit ids)
    assert ContactFactory(account=Account.objects.first()).pk > max(stages)


def test_a_failure_half_way_leaves_nothing_written(db, monkeypatch):
    # given an insert that fails on the feedback table, after accounts, contacts and touches went in
    real = bulk.rows_insert

    def failing(model, fields, rows):  # type: ignore[no-untyped-def]
        if model is FeedbackItem:
            raise RuntimeError("disk full")
        return real(model, fields, rows)

    monkeypatch.setattr(bulk, "rows_insert", failing)
    pinned = datetime(2030, 1, 2, tzinfo=UTC)
    clock.freeze(pinned)
    # when seeding runs
    with pytest.raises(RuntimeError, match="disk full"):
        demo_seed(size="small", seed=1)
    # then the caller's clock is as it was, and no row of the demo remains, not even users or playbook versions
    assert clock.now() == pinned
    for model in (Account, Contact, Touchpoint, StageChange, Opportunity, Campaign, User, PlaybookVersion, DemoSeed):
        assert not model.objects.exists(), model.__name__


def test_seeding_a_database_with_contacts_is_refused_without_force(db):
    ContactFactory()
    with pytest.raises(Conflict, match="already has contacts"):
        demo_seed(size="small", seed=1)
    assert Contact.objects.count() == 1


def test_an_unknown_size_names_the_field(db):
    with pytest.raises(ValidationFailed) as err:
        demo_seed(size="huge", seed=1)
    assert err.value.field == "size"


def test_seed_command_rejects_an_unknown_size(db):
    from smarketing.cli import build_app

    result = CliRunner().invoke(build_app(), ["seed", "--size", "huge"])
    assert result.exit_code != 0
    assert isinstance(result.exception, ValidationFailed)
    assert not Contact.objects.exists()


@pytest.mark.parametrize(("value", "message"), [("2999-01-01", "is in the future"), ("monday", "neither 'today'")])
def test_seed_as_of_must_be_today_or_a_past_date(db, value, message):
    from smarketing.cli import build_app

    result = CliRunner().invoke(build_app(), ["seed", "--as-of", value])
    assert isinstance(result.exception, ValidationFailed) and message in str(result.exception)
    assert result.exception.field == "as-of" and not Contact.objects.exists()


@pytest.mark.slow
def test_demo_command_seeds_an_empty_database_prints_logins_then_serves(db, monkeypatch):
    from smarketing.cli import build_app
    from smarketing.core import cli as core_cli

    served = []
    monkeypatch.setattr(core_cli, "serve_app", lambda **kw: served.append(kw))
    # given an empty database, when `smarketing demo` runs
    result = CliRunner().invoke(build_app(), ["demo", "--port", "8123", "--no-worker", "--no-warm"])
    # then it seeded the small company, told how to log in as each role and served on the port asked
    assert result.exit_code == 0, result.output
    assert Contact.objects.count() >= 2000
    for username in ("maria.marketing", "sam.sales", "rita.revops", "vic.viewer"):
        assert username in result.output
    assert "password: demo" in result.output
    assert served == [{"host": "127.0.0.1", "port": 8123}]
    # and its simulated year ends as today begins: the last full day is yesterday, nothing lies in the future
    today = clock.now().date()
    assert demo_truth_get().as_of == (today - timedelta(days=1)).isoformat()
    latest = StageChange.objects.order_by("-occurred_at").values_list("occurred_at", flat=True).first()
    assert latest is not None and today - timedelta(days=7) <= latest.date() < today
    # and a second run does not seed again
    again = CliRunner().invoke(build_app(), ["demo", "--no-worker", "--no-warm"])
    assert again.exit_code == 0 and "not seeding" in again.output
    assert DemoSeed.objects.count() == 1
